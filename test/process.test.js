// The process model: worker replacement after a crash, without losing requests on new connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, freshOp, waitFor, sleep } from './harness.js';

/** Worker thread ids (slot >= 0) from system_information. */
async function workerIds(server) {
  const res = await freshOp(server.opsPort, { operation: 'system_information', attributes: ['threads'] });
  if (res.status !== 200) return null;
  return res.body.threads.filter((t) => t.slot >= 0).map((t) => t.threadId);
}

/**
 * Drive insert + search_by_value requests, each on a fresh connection, from `concurrency` loops until stopped.
 * Every request is logged with the time it was sent and its outcome.
 */
function drive(server, { concurrency = 4, table = 'load' } = {}) {
  const log = [];
  let running = true;
  let n = 0;
  const loop = async (c) => {
    while (running) {
      const id = `${c}-${n++}`;
      const sentAt = Date.now();
      const ins = await freshOp(server.opsPort, { operation: 'insert', table, records: [{ id, c }] });
      log.push({ kind: 'insert', id, sentAt, status: ins.status, error: ins.error, body: ins.body });
      const sentAt2 = Date.now();
      const s = await freshOp(server.opsPort, { operation: 'search_by_value', table, attribute: 'c', value: c, get_attributes: ['id'] });
      log.push({ kind: 'search', sentAt: sentAt2, status: s.status, error: s.error, body: s.body });
    }
  };
  const loops = Array.from({ length: concurrency }, (_, c) => loop(c));
  return { log, async stop() { running = false; await Promise.all(loops); } };
}

test('a crashed worker is replaced and every request on a new connection after the crash succeeds', async () => {
  const server = await startServer({ threads: 2 });
  let load;
  try {
    assert.equal((await server.op({ operation: 'create_table', table: 'load', primary_key: 'id' })).status, 200);
    const before = await workerIds(server);
    assert.equal(before.length, 2);

    load = drive(server);
    await sleep(300);
    const crash = await freshOp(server.opsPort, { operation: '__crash_worker' });
    const crashedAt = Date.now();
    assert.equal(crash.status, 200);

    const after = await waitFor(async () => {
      const ids = await workerIds(server);
      return ids && ids.length === 2 && ids.filter((id) => !before.includes(id)).length === 1 ? ids : undefined;
    }, { timeoutMs: 5000, intervalMs: 20 });
    const replacedAt = Date.now();
    assert.ok(after, `system_information lists 2 workers again, one of them new (log tail: ${JSON.stringify(load.log.slice(-4))})`);
    // The brief's requirement is "replaced within a second"; measured 340-490 ms on 2 busy cores.
    assert.ok(replacedAt - crashedAt < 1000, `replacement took ${replacedAt - crashedAt} ms`);
    await sleep(1000);
    await load.stop();

    const sentAfterCrash = load.log.filter((r) => r.sentAt >= crashedAt);
    const failedAfterCrash = sentAfterCrash.filter((r) => r.status !== 200);
    const sentAfterReplacement = load.log.filter((r) => r.sentAt >= replacedAt);
    const failedBefore = load.log.filter((r) => r.sentAt < crashedAt && r.status !== 200);
    console.log(`# replaced after ${replacedAt - crashedAt} ms; ${load.log.length} requests, ${sentAfterCrash.length} sent after the crash, `
      + `${failedAfterCrash.length} of them failed; ${failedBefore.length} in flight at the crash failed`);
    assert.ok(sentAfterReplacement.length > 20, 'load kept running after the replacement');
    assert.deepEqual(failedAfterCrash.map((r) => ({ kind: r.kind, status: r.status, error: r.error })), []);

    // Every acknowledged insert is readable.
    const acked = load.log.filter((r) => r.kind === 'insert' && r.status === 200).map((r) => r.id);
    const read = await server.op({ operation: 'search_by_id', table: 'load', ids: acked, get_attributes: ['id'] });
    assert.equal(read.body.length, acked.length);
  } finally {
    await load?.stop();
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('a worker that keeps crashing is replaced every time and the slot count stays at the configured number', async () => {
  const server = await startServer({ threads: 2 });
  try {
    const seen = new Set(await workerIds(server));
    for (let i = 0; i < 3; i++) {
      const crash = await freshOp(server.opsPort, { operation: '__crash_worker' });
      assert.equal(crash.status, 200);
      const ids = await waitFor(async () => {
        const now = await workerIds(server);
        return now && now.length === 2 && now.some((id) => !seen.has(id)) ? now : undefined;
      }, { timeoutMs: 5000 });
      assert.ok(ids, `replacement ${i + 1} appears in system_information (seen ${[...seen]}, now ${await workerIds(server)}):\n${server.output}`);
      for (const id of ids) seen.add(id);
    }
    const res = await freshOp(server.opsPort, { operation: 'describe_all' });
    assert.equal(res.status, 200);
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});
