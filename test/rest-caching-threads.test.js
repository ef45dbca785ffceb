// Caching tables across worker threads (spec §5.4): one origin call per process for concurrent misses (also when it
// fails, and when the winning thread dies mid-call), stale-while-revalidate, write-through to the source's
// put/patch/delete/publish, and active caching from the source's subscribe() consumed on one thread only.
// The origin is a small HTTP server in this test process that counts calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, tempRoot, waitFor } from './harness.js';

const SCHEMA = `
type Quote @table @export {
  id: ID @primaryKey
  text: String
  n: Int
}
type Feed @table @export {
  id: ID @primaryKey
  text: String
  n: Int
}
type Account @table @export {
  id: ID @primaryKey
  balance: Int
  owner: String
}
type Ledger @table @export {
  id: ID @primaryKey
  what: String
}
type Ticker @table @export {
  id: ID @primaryKey
  price: Int
}
`;

const RESOURCES = `
import { Resource, tables } from 'weftdb';
import { threadId } from 'node:worker_threads';

const UP = process.env.UPSTREAM_URL;

class Origin extends Resource {
  async get() {
    const res = await fetch(UP + '/get/' + encodeURIComponent(this.getId()), { headers: { 'x-thread': String(threadId) } });
    if (res.status === 404) return undefined;
    if (!res.ok) { const e = new Error('upstream answered ' + res.status); e.statusCode = 502; throw e; }
    const body = await res.json();
    if (body.crash) {
      // the winning thread dies while its origin call is still open
      setImmediate(() => { throw new Error('worker crash requested by the origin'); });
      return new Promise(() => {});
    }
    return body;
  }
}
// a long timeout: waiters must be woken by the dead thread's released lock, not by their own patience running out
tables.Quote.sourcedFrom(Origin, { timeout: 120000, negativeTtl: 500 });

class SwrOrigin extends Origin {
  allowStaleWhileRevalidate(entry, id) { return id !== 'strict'; }
}
tables.Feed.sourcedFrom(SwrOrigin);

class AccountOrigin extends Resource {
  async get() { return { balance: 0, owner: 'origin' }; }
  async put(data) {
    await tables.Ledger.put('put-' + this.getId(), { what: 'put ' + data.balance });
    if (data.owner === 'refused') { const e = new Error('the origin refuses ' + this.getId()); e.statusCode = 409; throw e; }
    await fetch(UP + '/write/put/' + this.getId(), { method: 'POST', body: JSON.stringify(data) });
  }
  async patch(data) {
    await fetch(UP + '/write/patch/' + this.getId(), { method: 'POST', body: JSON.stringify(data) });
  }
  async delete() {
    if (this.getId() === 'keep') { const e = new Error('cannot delete keep'); e.statusCode = 403; throw e; }
    await fetch(UP + '/write/delete/' + this.getId(), { method: 'POST', body: '{}' });
  }
  async publish(message) {
    await fetch(UP + '/write/publish/' + this.getId(), { method: 'POST', body: JSON.stringify(message) });
  }
}
tables.Account.sourcedFrom(AccountOrigin);

class TickerOrigin extends Resource {
  async get() {
    const res = await fetch(UP + '/get/' + encodeURIComponent(this.getId()), { headers: { 'x-thread': String(threadId) } });
    return res.ok ? res.json() : undefined;
  }
  async *subscribe() {
    for (;;) {
      const res = await fetch(UP + '/events', { headers: { 'x-thread': String(threadId) } });
      const event = await res.json();
      if (event.crash) {
        setImmediate(() => { throw new Error('subscriber crash requested by the origin'); });
        await new Promise(() => {});
      }
      yield event;
    }
  }
}
tables.Ticker.sourcedFrom(TickerOrigin);

export class QuoteVia extends Resource {
  allowRead() { return true; }
  async get() {
    await fetch(UP + '/arrive/' + encodeURIComponent(this.getId()));
    const record = await tables.Quote.get(this.getId());
    return { record, thread: threadId };
  }
}

export class Publish extends Resource {
  allowCreate() { return true; }
  async post(data) {
    await tables.Account.publish(data.id, data.message, this);
    return { ok: true };
  }
}

export class Invalidate extends Resource {
  allowCreate() { return true; }
  async post(data) {
    await tables.Quote.invalidate(data.id);
    return { ok: true };
  }
}
`;

/**
 * The origin. `/get/<id>`: counts calls per id, answers after `gate` (a promise per id, default 100 ms) with
 * `{text, n}`; `mode[id]` is 'fail', 'missing' or 'crash-once'. `/write/...` records write-through calls.
 * `/events` is a long poll: it answers the next pushed event; pollers are tracked by the x-thread header.
 */
function startUpstream() {
  const calls = new Map();
  const arrivals = new Map();
  const inflight = new Map();
  const maxInflight = new Map();
  const mode = {};
  const gates = {};
  const writes = [];
  const polls = []; // pending /events responses
  const queue = [];
  const pollThreads = new Set();
  let maxConcurrentPollers = 0;
  let version = 0;
  const flush = () => {
    while (queue.length && polls.length) polls.shift().res.end(JSON.stringify(queue.shift()));
  };
  const server = http.createServer((req, res) => {
    const [, kind, a, b] = req.url.split('/');
    if (kind === 'events') {
      pollThreads.add(req.headers['x-thread']);
      polls.push({ res, thread: req.headers['x-thread'] });
      maxConcurrentPollers = Math.max(maxConcurrentPollers, new Set(polls.map((p) => p.thread)).size);
      res.on('close', () => { const i = polls.findIndex((p) => p.res === res); if (i >= 0) polls.splice(i, 1); });
      flush();
      return;
    }
    if (kind === 'arrive') {
      arrivals.set(a, (arrivals.get(a) ?? 0) + 1);
      res.end('{}');
      return;
    }
    if (kind === 'write') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { writes.push({ method: a, id: b, body: JSON.parse(body || '{}') }); res.end('{}'); });
      return;
    }
    const id = decodeURIComponent(a);
    const n = (calls.get(id) ?? 0) + 1;
    calls.set(id, n);
    inflight.set(id, (inflight.get(id) ?? 0) + 1);
    maxInflight.set(id, Math.max(maxInflight.get(id) ?? 0, inflight.get(id)));
    res.on('close', () => inflight.set(id, inflight.get(id) - 1));
    const m = mode[id] ?? 'ok';
    if (m === 'missing') { res.writeHead(404).end(); return; }
    Promise.resolve(gates[id] ?? new Promise((r) => setTimeout(r, 100))).then(() => {
      if (m === 'fail') { res.writeHead(500).end('boom'); return; }
      if (m === 'crash-once' && n === 1) { res.end(JSON.stringify({ crash: true })); return; }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ text: `quote ${id}`, n: ++version }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, calls: (id) => calls.get(id) ?? 0, arrived: (id) => arrivals.get(id) ?? 0,
    maxInflight: (id) => maxInflight.get(id) ?? 0, mode, gates, writes,
    push(event) { queue.push(event); flush(); },
    pollers: () => polls.map((p) => p.thread),
    pollThreads, get maxConcurrentPollers() { return maxConcurrentPollers; },
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}

function makeApp() {
  const dir = tempRoot('weft-cache-threads-app-');
  fs.writeFileSync(path.join(dir, 'schema.graphql'), SCHEMA);
  fs.writeFileSync(path.join(dir, 'resources.js'), RESOURCES);
  return dir;
}

const AUTH = 'Basic ' + Buffer.from('admin:test-pass').toString('base64');

/** One request on its own TCP connection (no keep-alive pool), so the server spreads them over its threads. */
function fresh(server, method, urlPath, body) {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { Authorization: AUTH, Connection: 'close', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}) };
    const req = http.request({ host: '127.0.0.1', port: server.httpPort, method, path: urlPath, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, text, json });
      });
      res.on('error', (error) => resolve({ status: 0, error }));
    });
    req.on('error', (error) => resolve({ status: 0, error }));
    req.end(payload);
  });
}

test('with two threads, concurrent misses for one key on fresh connections call the origin once, also when it fails', async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 2, env: { UPSTREAM_URL: upstream.url } });
  try {
    let gate;
    upstream.gates.a = new Promise((r) => { gate = r; });
    const pending = Array.from({ length: 24 }, () => fresh(server, 'GET', '/QuoteVia/a'));
    await waitFor(() => upstream.calls('a') === 1);
    gate();
    const answers = await Promise.all(pending);
    for (const r of answers) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.record, { id: 'a', text: 'quote a', n: 1 });
    }
    assert.equal(new Set(answers.map((r) => r.json.thread)).size, 2, 'both worker threads answered requests for the key');
    assert.equal(upstream.calls('a'), 1, '24 concurrent misses on two threads, one origin call');

    upstream.mode.bad = 'fail';
    let failGate;
    upstream.gates.bad = new Promise((r) => { failGate = r; });
    const failing = Array.from({ length: 24 }, () => fresh(server, 'GET', '/Quote/bad'));
    await waitFor(() => upstream.calls('bad') === 1);
    failGate();
    for (const r of await Promise.all(failing)) {
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json, 'Error: upstream answered 500', 'every waiter gets the source error with its class and status');
    }
    assert.equal(upstream.calls('bad'), 1, 'a failure is shared by the waiters of both threads');

    upstream.mode.gone = 'missing';
    const missing = await Promise.all(Array.from({ length: 8 }, () => fresh(server, 'GET', '/Quote/gone')));
    for (const r of missing) assert.equal(r.status, 404);
    assert.ok(upstream.calls('gone') <= 8 && upstream.calls('gone') >= 1);

    const stored = await server.op({ operation: 'search_by_id', database: 'data', table: 'Quote', ids: ['a'], get_attributes: ['*'] });
    assert.equal(stored.body[0].text, 'quote a');
  } finally {
    await server.stop();
    await upstream.close();
  }
});

test('when the thread calling the origin dies mid-call, a waiter on the other thread takes over', async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 2, env: { UPSTREAM_URL: upstream.url } });
  try {
    upstream.mode.c = 'crash-once';
    let gate;
    upstream.gates.c = new Promise((r) => { gate = r; });
    const first = fresh(server, 'GET', '/QuoteVia/c');
    await waitFor(() => upstream.calls('c') === 1);
    // the first request holds one thread's lock; these spread over both threads and wait
    const others = Array.from({ length: 8 }, () => fresh(server, 'GET', '/QuoteVia/c'));
    // every request has reached its resource (and is about to wait for the load) before the origin answers
    await waitFor(() => upstream.arrived('c') === 9);
    gate();
    const answers = await Promise.all([first, ...others]);
    const served = answers.filter((r) => r.status !== 0);
    assert.ok(served.length >= 1, 'the surviving thread answered its waiters');
    for (const r of served) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.record.text, 'quote c');
    }
    assert.equal(upstream.calls('c'), 2, 'one call by the thread that died, one by the thread that took over');
    assert.equal(upstream.maxInflight('c'), 1, 'the second call started only after the first one ended');
    // the process replaced the dead worker and keeps serving the entry without another origin call
    await waitFor(async () => (await fresh(server, 'GET', '/Quote/c')).status === 200);
    assert.equal(upstream.calls('c'), 2);
  } finally {
    await server.stop();
    await upstream.close();
  }
});

test('stale-while-revalidate serves the stale entry at once and refreshes it once in the background', async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 2, env: { UPSTREAM_URL: upstream.url } });
  try {
    const loaded = await server.rest('GET', '/Feed/s', { headers: { 'Cache-Control': 'max-age=0' } });
    assert.equal(loaded.status, 200, loaded.text);
    const old = loaded.json.n;
    assert.equal(upstream.calls('s'), 1);

    let gate;
    upstream.gates.s = new Promise((r) => { gate = r; });
    const stale = await Promise.all(Array.from({ length: 12 }, () => fresh(server, 'GET', '/Feed/s')));
    for (const r of stale) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.n, old, 'the stale entry is answered while the origin has not answered the refresh');
    }
    await waitFor(() => upstream.calls('s') === 1 + 1);
    gate();
    await waitFor(async () => (await server.rest('GET', '/Feed/s')).json.n !== old);
    assert.equal(upstream.calls('s'), 2, 'twelve stale reads on two threads, one background refresh');

    // the source can refuse stale serving per entry: then a stale read waits for the origin
    await server.rest('GET', '/Feed/strict', { headers: { 'Cache-Control': 'max-age=0' } });
    const reloaded = await server.rest('GET', '/Feed/strict');
    assert.match(reloaded.headers.get('server-timing'), /miss/);
    assert.equal(upstream.calls('strict'), 2);
  } finally {
    await server.stop();
    await upstream.close();
  }
});

test('writes to a caching table go to the source first, in the same transaction; invalidate makes the next get reload', async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 1, env: { UPSTREAM_URL: upstream.url } });
  try {
    const put = await server.rest('PUT', '/Account/a1', { body: { balance: 10, owner: 'ann' } });
    assert.equal(put.status, 204, put.text);
    assert.deepEqual(upstream.writes.shift(), { method: 'put', id: 'a1', body: { id: 'a1', balance: 10, owner: 'ann' } });
    const got = await server.rest('GET', '/Account/a1');
    assert.deepEqual(got.json, { id: 'a1', balance: 10, owner: 'ann' }, 'the written record is the fresh cache entry');
    assert.doesNotMatch(got.headers.get('server-timing'), /miss/);
    assert.equal((await server.rest('GET', '/Ledger/put-a1')).json.what, 'put 10', 'the source wrote another table in the request transaction');

    const refused = await server.rest('PUT', '/Account/a2', { body: { balance: 5, owner: 'refused' } });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json, 'Error: the origin refuses a2');
    assert.equal((await server.rest('GET', '/Account/a2', { headers: { 'Cache-Control': 'only-if-cached' } })).status, 504, 'the refused write stored nothing');
    assert.equal((await server.rest('GET', '/Ledger/put-a2')).status, 404, "the source's own write rolled back with the request");
    assert.equal(upstream.writes.length, 0);

    const patch = await server.rest('PATCH', '/Account/a1', { body: { balance: 11 } });
    assert.equal(patch.status, 204, patch.text);
    assert.deepEqual(upstream.writes.shift(), { method: 'patch', id: 'a1', body: { balance: 11 } });
    assert.deepEqual((await server.rest('GET', '/Account/a1')).json, { id: 'a1', balance: 11, owner: 'ann' });

    const pub = await server.rest('POST', '/Publish/', { body: { id: 'a1', message: { hello: 1 } } });
    assert.equal(pub.status, 200, pub.text);
    assert.deepEqual(upstream.writes.shift(), { method: 'publish', id: 'a1', body: { hello: 1 } });

    await server.rest('PUT', '/Account/keep', { body: { balance: 1, owner: 'k' } });
    upstream.writes.length = 0;
    const refusedDelete = await server.rest('DELETE', '/Account/keep');
    assert.equal(refusedDelete.status, 403, refusedDelete.text);
    assert.equal((await server.rest('GET', '/Account/keep')).json.owner, 'k', 'a delete the source refused removed nothing');

    const del = await server.rest('DELETE', '/Account/a1');
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(upstream.writes.shift(), { method: 'delete', id: 'a1', body: {} });
    const after = await server.rest('GET', '/Account/a1');
    assert.equal(after.json.owner, 'origin', 'after the delete the next get loads from the source');
    assert.match(after.headers.get('server-timing'), /miss/);

    // invalidate: a fresh entry becomes stale and the next get reloads it
    await server.rest('GET', '/Quote/i');
    assert.equal(upstream.calls('i'), 1);
    await server.rest('GET', '/Quote/i');
    assert.equal(upstream.calls('i'), 1);
    assert.equal((await server.rest('POST', '/Invalidate/', { body: { id: 'i' } })).status, 200);
    const reloaded = await server.rest('GET', '/Quote/i');
    assert.match(reloaded.headers.get('server-timing'), /miss/);
    assert.equal(upstream.calls('i'), 2, 'an invalidated entry is reloaded');
  } finally {
    await server.stop();
    await upstream.close();
  }
});

test("a source's subscribe() feeds the cache from one thread only, and another thread takes over when it dies", async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 2, env: { UPSTREAM_URL: upstream.url } });
  try {
    await waitFor(() => upstream.pollers().length === 1);
    const firstThread = upstream.pollers()[0];

    upstream.push({ type: 'put', id: 't1', value: { price: 5 } });
    await waitFor(async () => (await server.rest('GET', '/Ticker/t1', { headers: { 'Cache-Control': 'only-if-cached' } })).json?.price === 5);
    assert.equal(upstream.calls('t1'), 0, 'the entry came from the event, not from a get');

    upstream.push({ type: 'transaction', id: 'x', writes: [{ type: 'put', id: 't2', value: { price: 7 } }, { type: 'put', id: 't3', value: { price: 8 } }] });
    await waitFor(async () => (await server.rest('GET', '/Ticker/t3', { headers: { 'Cache-Control': 'only-if-cached' } })).status === 200);
    assert.equal((await server.rest('GET', '/Ticker/t2', { headers: { 'Cache-Control': 'only-if-cached' } })).json.price, 7);

    upstream.push({ type: 'invalidate', id: 't1' });
    await waitFor(async () => {
      const r = await server.rest('GET', '/Ticker/t1');
      return /miss/.test(r.headers.get('server-timing'));
    });
    assert.equal(upstream.calls('t1'), 1, 'the invalidated entry was reloaded by a get');

    upstream.push({ type: 'delete', id: 't2' });
    await waitFor(async () => (await server.rest('GET', '/Ticker/t2', { headers: { 'Cache-Control': 'only-if-cached' } })).status === 504);

    upstream.push({ crash: true });
    await waitFor(() => upstream.pollers().length === 1 && upstream.pollers()[0] !== firstThread, { timeoutMs: 20_000 });
    upstream.push({ type: 'put', id: 't4', value: { price: 9 } });
    await waitFor(async () => (await server.rest('GET', '/Ticker/t4', { headers: { 'Cache-Control': 'only-if-cached' } })).json?.price === 9);
    assert.equal(upstream.maxConcurrentPollers, 1, 'never more than one thread consumed the subscription at a time');
  } finally {
    await server.stop();
    await upstream.close();
  }
});
