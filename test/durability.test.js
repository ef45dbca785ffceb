// Durability: whatever the server acknowledged survives `kill -9` of the whole process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, freshOp, sleep } from './harness.js';

async function readAll(server, table) {
  const res = await server.op({ operation: 'search_by_value', table, attribute: 'id', value: '*', get_attributes: ['id', 'n'] });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return new Map(res.body.map((r) => [r.id, r.n]));
}

test('every acknowledged insert, sequential and concurrent, is present after kill -9 and a restart on the same root', async () => {
  let server = await startServer({ threads: 2 });
  const root = server.root;
  try {
    assert.equal((await server.op({ operation: 'create_table', table: 'durable', primary_key: 'id' })).status, 200);
    const acked = new Map();
    // many small sequential requests
    for (let i = 0; i < 60; i++) {
      const res = await server.op({ operation: 'insert', table: 'durable', records: [{ id: `s${i}`, n: i }] });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.inserted_hashes, [`s${i}`]);
      acked.set(`s${i}`, i);
    }
    // concurrent requests, several records each, on fresh connections spread over both workers
    const batches = Array.from({ length: 40 }, (_, b) => Array.from({ length: 5 }, (_, k) => ({ id: `c${b}-${k}`, n: b * 10 + k })));
    const results = await Promise.all(batches.map((records) => freshOp(server.opsPort, { operation: 'insert', table: 'durable', records })));
    results.forEach((res, b) => {
      assert.equal(res.status, 200, JSON.stringify(res));
      assert.equal(res.body.inserted_hashes.length, 5);
      for (const r of batches[b]) acked.set(r.id, r.n);
    });
    // an update acknowledged just before the kill must be the value read back
    assert.equal((await server.op({ operation: 'update', table: 'durable', records: [{ id: 's0', n: 1000 }] })).status, 200);
    acked.set('s0', 1000);

    await server.kill9();
    server = await startServer({ root, threads: 1 });
    const stored = await readAll(server, 'durable');
    assert.equal(stored.size, acked.size);
    for (const [id, n] of acked) assert.equal(stored.get(id), n, `record ${id}`);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('kill -9 during a stream of concurrent writes keeps every acknowledged record', async () => {
  let server = await startServer({ threads: 2 });
  const root = server.root;
  try {
    assert.equal((await server.op({ operation: 'create_table', table: 'stream', primary_key: 'id' })).status, 200);
    const acked = new Set();
    let failed = 0;
    let running = true;
    let next = 0;
    const writer = async () => {
      while (running) {
        const id = `w${next++}`;
        const res = await freshOp(server.opsPort, { operation: 'insert', table: 'stream', records: [{ id, n: 1 }] }, { timeoutMs: 5000 });
        if (res.status === 200 && res.body.inserted_hashes?.[0] === id) acked.add(id); else failed++;
      }
    };
    const writers = Array.from({ length: 6 }, writer);
    await sleep(700);
    await server.kill9();
    running = false;
    await Promise.all(writers);
    assert.ok(acked.size > 20, `writes were acknowledged before the kill (${acked.size})`);

    server = await startServer({ root, threads: 1 });
    const stored = await readAll(server, 'stream');
    const missing = [...acked].filter((id) => !stored.has(id));
    console.log(`# ${acked.size} acknowledged, ${failed} cut off by the kill, ${stored.size} stored`);
    assert.deepEqual(missing, []);
    // Unacknowledged writes may or may not have landed, but nothing that was never sent can appear.
    for (const id of stored.keys()) assert.ok(Number(id.slice(1)) < next, `unexpected record ${id}`);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
