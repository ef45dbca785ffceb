// The process model: worker replacement after a crash, without losing requests on new connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, freshOp, waitFor, sleep, ADMIN, BIN } from './harness.js';

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
function drive(server, { concurrency = 4, table = 'load', keepAlive = false, prefix = '' } = {}) {
  const log = [];
  let running = true;
  let n = 0;
  // keepAlive: pooled connections (fetch), the way most clients talk to a server
  const send = keepAlive
    ? (body) => server.op(body).catch((err) => ({ status: 0, error: err.cause?.code ?? err.message }))
    : (body) => freshOp(server.opsPort, body);
  const loop = async (c) => {
    while (running) {
      const id = `${prefix}${c}-${n++}`;
      const sentAt = Date.now();
      const ins = await send({ operation: 'insert', table, records: [{ id, c }] });
      log.push({ kind: 'insert', id, sentAt, status: ins.status, error: ins.error, body: ins.body });
      const sentAt2 = Date.now();
      const s = await send({ operation: 'search_by_value', table, attribute: 'c', value: c, get_attributes: ['id'] });
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
    }, { timeoutMs: 15_000, intervalMs: 20 });
    const replacedAt = Date.now();
    assert.ok(after, `system_information lists 2 workers again, one of them new (log tail: ${JSON.stringify(load.log.slice(-4))})`);
    // Speed is not asserted in tests (it lives in bench/): the replacement must happen, and how long it took is
    // reported. Measured 300-500 ms on an idle 2-core machine, over a second when other suites load both cores.
    console.log(`# worker replacement took ${replacedAt - crashedAt} ms`);
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

test('restart answers with Connection: close, then the same process serves the same ports again with the data intact', async () => {
  const server = await startServer({ threads: 2 });
  const pidFile = path.join(server.root, 'hdb.pid');
  try {
    assert.equal((await server.op({ operation: 'create_table', table: 'keep', primary_key: 'id' })).status, 200);
    assert.equal((await server.op({ operation: 'insert', table: 'keep', records: [{ id: 1, name: 'kept' }] })).status, 200);
    assert.equal(fs.readFileSync(pidFile, 'utf8'), String(server.proc.pid));
    const before = fs.statSync(pidFile).mtimeMs;

    let pidFileRemoved = false;
    const watcher = setInterval(() => { if (!fs.existsSync(pidFile)) pidFileRemoved = true; }, 2);
    const res = await freshOp(server.opsPort, { operation: 'restart' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: 'Restarting HarperDB. This may take up to 60 seconds.' });
    assert.equal(res.headers.connection, 'close');

    const restarted = await waitFor(() => server.output.includes('successfully restarted'), { timeoutMs: 30_000 });
    clearInterval(watcher);
    assert.ok(restarted, server.output);
    assert.equal(server.proc.exitCode, null, 'the process did not exit');
    assert.equal(fs.readFileSync(pidFile, 'utf8'), String(server.proc.pid));
    assert.ok(pidFileRemoved || fs.statSync(pidFile).mtimeMs > before, 'the pid file was rewritten');

    const read = await freshOp(server.opsPort, { operation: 'search_by_id', table: 'keep', ids: [1], get_attributes: ['name'] });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, [{ name: 'kept' }]);
    const info = await freshOp(server.opsPort, { operation: 'system_information', attributes: ['threads'] });
    assert.equal(info.body.threads.filter((t) => t.slot >= 0).length, 2);
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('restart_service http_workers rolls every worker while concurrent requests on new and kept-alive connections all succeed', async () => {
  const server = await startServer({ threads: 2 });
  let load, kept;
  try {
    assert.equal((await server.op({ operation: 'create_table', table: 'load', primary_key: 'id' })).status, 200);
    const before = await workerIds(server);
    load = drive(server, { concurrency: 2 });
    kept = drive(server, { concurrency: 2, keepAlive: true, prefix: 'k' });
    await sleep(200);
    const res = await freshOp(server.opsPort, { operation: 'restart_service', service: 'http_workers' });
    assert.equal(res.status, 200);
    assert.equal(res.body.message, 'Restarting http_workers');
    assert.match(res.body.job_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const rolled = await waitFor(async () => {
      const ids = await workerIds(server);
      return ids && ids.length === 2 && ids.every((id) => !before.includes(id)) ? ids : undefined;
    }, { timeoutMs: 30_000 });
    assert.ok(rolled, 'both workers were replaced');
    await sleep(300);
    await load.stop();
    await kept.stop();
    const all = [...load.log, ...kept.log];
    const failed = all.filter((r) => r.status !== 200);
    console.log(`# ${load.log.length} requests on new connections and ${kept.log.length} on kept-alive ones during the roll, ${failed.length} failed`);
    assert.deepEqual(failed.map((r) => ({ kind: r.kind, status: r.status, error: r.error, body: r.body })), []);
  } finally {
    await load?.stop();
    await kept?.stop();
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('restart_service with an unknown service answers 400 Invalid service and restarts nothing', async () => {
  const server = await startServer({ threads: 1 });
  try {
    const before = await workerIds(server);
    for (const service of ['nope', '', 42]) {
      const res = await server.op({ operation: 'restart_service', service });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { error: 'Invalid service' });
    }
    await sleep(200);
    assert.deepEqual(await workerIds(server), before);
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('SIGTERM lets an in-flight request finish, then the process exits 0 and removes its pid file', async () => {
  const server = await startServer({ threads: 1 });
  const pidFile = path.join(server.root, 'hdb.pid');
  try {
    assert.equal((await server.op({ operation: 'create_table', table: 'slow', primary_key: 'id' })).status, 200);
    assert.ok(fs.existsSync(pidFile));
    // A request whose body arrives slowly: the server has started handling it when SIGTERM comes.
    const payload = JSON.stringify({ operation: 'insert', table: 'slow', records: [{ id: 'late', v: 1 }] });
    const response = new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: server.opsPort, method: 'POST', path: '/', agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Authorization: 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64') },
      }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.write(payload.slice(0, 10));
      setTimeout(() => {
        server.proc.kill('SIGTERM');
        setTimeout(() => req.end(payload.slice(10)), 300);
      }, 200);
    });
    const exited = new Promise((r) => server.proc.once('exit', (code) => r(code)));
    const res = await response;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.inserted_hashes, ['late']);
    assert.equal(await exited, 0);
    assert.equal(fs.existsSync(pidFile), false);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('a second weft run on a root whose server is running exits 4 naming the running pid', async () => {
  const server = await startServer({ threads: 1 });
  try {
    const res = spawnSync(process.execPath, [BIN, 'run', `--ROOTPATH=${server.root}`, '--HTTP_PORT=127.0.0.1:0', '--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(res.status, 4);
    assert.match(res.stderr, new RegExp(`^Error: HarperDB is already running \\(pid: ${server.proc.pid}\\)$`, 'm'));
    assert.equal((await server.op({ operation: 'describe_all' })).status, 200, 'the first server still serves');
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('with threads.count 0 the main thread serves requests itself, and restart keeps it that way', async () => {
  const server = await startServer({ threads: 0 });
  try {
    assert.match(server.output, /Worker Threads:\s+0\n/);
    assert.equal((await server.op({ operation: 'create_table', table: 'solo', primary_key: 'id' })).status, 200);
    assert.equal((await server.op({ operation: 'insert', table: 'solo', records: [{ id: 1 }] })).status, 200);
    const info = await server.op({ operation: 'system_information', attributes: ['threads'] });
    assert.deepEqual(info.body.threads.map((t) => t.name), ['main']);
    assert.equal((await freshOp(server.opsPort, { operation: 'restart' })).status, 200);
    assert.ok(await waitFor(() => server.output.includes('successfully restarted'), { timeoutMs: 30_000 }), server.output);
    const read = await freshOp(server.opsPort, { operation: 'search_by_id', table: 'solo', ids: [1], get_attributes: ['id'] });
    assert.deepEqual(read.body, [{ id: 1 }]);
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('connections opened in a burst are spread evenly over the workers, and the main thread keeps no handle of them', async () => {
  const server = await startServer({ threads: 2 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 40 });
  try {
    const auth = 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');
    const sockets = () => fs.readdirSync(`/proc/${server.pid}/fd`).filter((f) => {
      try { return fs.readlinkSync(`/proc/${server.pid}/fd/${f}`).startsWith('socket:'); } catch { return false; }
    }).length;
    const socketsBefore = sockets();
    const body = JSON.stringify({ operation: 'describe_all' });
    // 40 requests at once on a keep-alive agent: 40 connections opened in one burst, kept open afterwards
    const statuses = await Promise.all(Array.from({ length: 40 }, () => new Promise((resolve, reject) => {
      const req = http.request({ port: server.opsPort, method: 'POST', agent, headers: { authorization: auth, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(body);
    })));
    assert.deepEqual(new Set(statuses), new Set([200]));
    const res = await freshOp(server.opsPort, { operation: 'system_information', attributes: ['threads'] });
    const counts = res.body.threads.filter((t) => t.slot >= 0).map((t) => t.connections);
    assert.equal(counts.length, 2);
    // 40 kept-alive connections plus the one asking
    assert.equal(counts[0] + counts[1], 41, `per worker: ${counts.join(' / ')}`);
    assert.ok(Math.abs(counts[0] - counts[1]) <= 1, `per worker: ${counts.join(' / ')}`);
    // every fd the main thread took while accepting was closed again (the workers hold their own dups) ...
    assert.ok(sockets() <= socketsBefore + 41, `${sockets() - socketsBefore} socket fds for 40 open connections`);
    // ... and closing the connections closes them in the workers too
    agent.destroy();
    assert.ok(await waitFor(() => sockets() === socketsBefore), `${sockets() - socketsBefore} socket fds left after the clients closed`);
  } finally {
    agent.destroy();
    await server.stop();
  }
});
