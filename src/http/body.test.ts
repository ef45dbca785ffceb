import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { decodeBody } from './body.js';
import { WeftError } from '../errors/index.js';

const nested = (levels: number): unknown => { let v: unknown = 1; for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v]; return v; };

test('a body nested exactly to the limit decodes; one level more is JSON_TOO_DEEP, in JSON and MessagePack alike', () => {
  for (const [type, encode] of [['application/json', (v: unknown) => Buffer.from(JSON.stringify(v))], ['application/x-msgpack', (v: unknown) => pack(v)]] as const) {
    assert.deepEqual(decodeBody(encode(nested(5)), type, 5), nested(5));
    assert.throws(() => decodeBody(encode(nested(6)), type, 5), (e: unknown) => e instanceof WeftError && e.status === 400 && /exceeds the limit of 5 levels/.test(e.message));
  }
});

test('brackets inside strings and byte values are not nesting', () => {
  const text = JSON.stringify({ s: '[[[[[[[[{{{{{{', t: ['x'] });
  assert.deepEqual(decodeBody(Buffer.from(text), 'application/json', 2), JSON.parse(text));
  assert.deepEqual(decodeBody(pack({ b: Buffer.alloc(100_000, 7) }), 'application/x-msgpack', 1), { b: Buffer.alloc(100_000, 7) });
});
