import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb'; // loading lmdb-js switches on ordered-binary's key termination, as in Weft
import { writeKey as orderedWriteKey } from 'ordered-binary';
import { withFastKeys, writeKey } from './key-encoder.js';

const KEYS: unknown[] = [
  'a', 'abc', 'd1234', '1000001', ' ', '~', '\u001c', '\u007f', 'x'.repeat(63), 'x'.repeat(64), 'y'.repeat(300), '',
  '\u0001abc', '\u001babc', 'ab\u0003c', 'ab\u0004', 'ab\u0005', 'héllo', 'a\u0080', '日本', '😀', 'a\ud800',
  0, 1, -1.5, 2 ** 40, 1e300, [1, 2], ['table', 'Sensor'], ['x', ''], Symbol.for('structures'), true, false, null,
];

function targets(): Uint8Array[] {
  // filled, so that bytes one encoder writes and the other does not (the zero termination) show
  const buf = Buffer.alloc(4096, 0xff);
  const arr = new Uint8Array(4096).fill(0xff);
  const sub = new Uint8Array(new ArrayBuffer(8192), 1024, 4096).fill(0xff);
  for (const t of [buf, arr, sub]) (t as { dataView?: DataView }).dataView = new DataView(t.buffer, t.byteOffset, t.byteLength);
  // a view that starts at the buffer's first byte, not the target's (as lmdb-js's uint32 key writer makes them)
  const shifted = new Uint8Array(new ArrayBuffer(8192), 512, 4096).fill(0xff);
  (shifted as { dataView?: DataView }).dataView = new DataView(shifted.buffer, 0, 4096);
  return [buf, arr, sub, shifted, Buffer.alloc(4096, 0xff)]; // the last has no dataView yet
}

test('writeKey writes exactly what ordered-binary writes, for every kind of key and buffer, at any position', () => {
  for (const key of KEYS) {
    for (const position of [0, 3, 12]) {
      const ours = targets();
      const theirs = targets();
      for (let i = 0; i < ours.length; i++) {
        const a = writeKey(key, ours[i]!, position);
        const b = orderedWriteKey(key as never, theirs[i]! as never, position);
        const c = writeKey(key, ours[i]!, position + 1, true);
        const d = orderedWriteKey(key as never, theirs[i]! as never, position + 1, true as never);
        assert.equal(c, d, `end position for ${String(key)} in a sequence`);
        assert.equal(a, b, `end position for ${String(key)}`);
        assert.deepEqual(ours[i]!.subarray(0, b + 4), theirs[i]!.subarray(0, b + 4), `bytes for ${JSON.stringify(String(key))}`);
      }
    }
  }
});

test('stores written with lmdb-js defaults read back, sort and index the same through withFastKeys', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-keys-'));
  const ids = ['1000001', '42', 'abc', 'héllo', '日本', '\u0001x', 'x'.repeat(80), 'Zed', '~tilde'];
  try {
    let env = open({ path: dir, maxDbs: 8 });
    let primary = env.openDB<unknown, string>({ name: 'p', encoding: 'msgpack', useVersions: true });
    let index = env.openDB<string, string>({ name: 'i', dupSort: true, encoding: 'ordered-binary' });
    for (const id of ids) { await primary.put(id, { id }, 1); await index.put(`d${id.length % 3}`, id); }
    const before = { keys: [...primary.getKeys()], values: [...index.getRange()].map((e) => [e.key, e.value]) };
    await env.close();

    env = open({ path: dir, maxDbs: 8 });
    primary = env.openDB<unknown, string>(withFastKeys({ name: 'p', encoding: 'msgpack', useVersions: true }));
    index = env.openDB<string, string>(withFastKeys({ name: 'i', dupSort: true, encoding: 'ordered-binary' }));
    assert.deepEqual([...primary.getKeys()], before.keys);
    assert.deepEqual([...index.getRange()].map((e) => [e.key, e.value]), before.values);
    for (const id of ids) assert.deepEqual(primary.get(id), { id });
    // new writes land among the old ones in the same order, and an index lookup finds old and new values
    await primary.put('1000000', { id: '1000000' }, 2);
    await index.put('d1', 'aaa');
    assert.deepEqual([...primary.getKeys()], [...before.keys, '1000000'].sort(compareAsStored(before.keys)));
    assert.deepEqual([...index.getValues('d1')], [...ids.filter((id) => id.length % 3 === 1), 'aaa'].sort());
    await env.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** ordered-binary sorts strings by their UTF-8 bytes; the ones starting below code 28 carry an escape byte 27 first. */
function compareAsStored(_: string[]) {
  const bytes = (s: string) => { const b = Buffer.alloc(1024); return b.subarray(0, orderedWriteKey(s as never, b as never, 0)); };
  return (a: string, b: string) => Buffer.compare(bytes(a), bytes(b));
}
