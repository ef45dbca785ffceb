// Record versions over REST (spec §3.1, §4.4, §5.3): the ETag is the record's version (10 characters), the same
// from every worker thread and across a restart, changes on write, answers If-None-Match with 304; Last-Modified
// only with `rest: {lastModified: true}`; custom resources get the ETag from the versions they read or from
// context.lastModified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { startServer, waitFor, ADMIN } from './harness.js';
import { makeApp } from './rest-app.js';

const SCHEMA = `
type Doc @table @export {
  id: ID @primaryKey
  title: String
}
`;

const RESOURCES = `
import { Resource, tables } from 'weftdb';
import { threadId } from 'node:worker_threads';

export class Who extends Resource {
  allowRead() { return true; }
  get() { return { thread: threadId }; }
}

/** A table subclass under another path: its get answers the stored record. */
export class DocView extends tables.Doc {
  get(query) { return super.get(query); }
}

/** Reads two records and answers a summary: the ETag is the newer of the two versions. */
export class Pair extends Resource {
  allowRead() { return true; }
  async get() {
    const context = this.getContext();
    const a = await tables.Doc.get('a', context);
    const b = await tables.Doc.get('b', context);
    return { titles: [a?.title, b?.title] };
  }
}

/** Sets its own version. */
export class Stamped extends Resource {
  allowRead() { return true; }
  get() {
    this.getContext().lastModified = new Date('2024-05-06T07:08:09.000Z');
    return { stamped: true };
  }
}
`;

const CONFIG_LAST_MODIFIED = `
rest:
  lastModified: true
graphqlSchema:
  files: '*.graphql'
jsResource:
  files: 'resources.js'
`;

const auth = 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');

/** GETs over one keep-alive connection of its own (so every request of a client reaches the same worker). */
function client(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path, headers = {}) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { Authorization: auth, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
  return { get, close: () => agent.destroy() };
}

function cleanupAll(server, app) {
  server.cleanup();
  fs.rmSync(app, { recursive: true, force: true });
}

test('the ETag is the record version: 10 characters, stable across reads and worker threads, new on every write, 304 on a match', async () => {
  const app = makeApp({ 'schema.graphql': SCHEMA, 'resources.js': RESOURCES });
  const server = await startServer({ app, threads: 2 });
  try {
    assert.equal((await server.rest('PUT', '/Doc/a', { body: { title: 'first' } })).status, 204);
    const first = await server.rest('GET', '/Doc/a');
    const etag = first.headers.get('etag');
    assert.match(etag, /^"[^"]{10}"$/);
    assert.equal(first.headers.get('last-modified'), null, 'no Last-Modified without rest.lastModified');
    assert.equal((await server.rest('GET', '/Doc/a')).headers.get('etag'), etag, 'a second read gives the same ETag');

    // several clients at once, each on its own connection: both workers answer, all with the same ETag
    const threads = new Set();
    const seen = await waitFor(async () => {
      const clients = Array.from({ length: 6 }, () => client(server.httpPort));
      try {
        const answers = await Promise.all(clients.map(async (c) => {
          const who = JSON.parse((await c.get('/Who/')).text).thread;
          const got = await c.get('/Doc/a');
          return { who, etag: got.headers.etag };
        }));
        for (const a of answers) {
          assert.equal(a.etag, etag, `worker ${a.who} gives the same ETag`);
          threads.add(a.who);
        }
      } finally {
        for (const c of clients) c.close();
      }
      return threads.size >= 2;
    }, { timeoutMs: 20_000 });
    assert.ok(seen, `both worker threads answered (saw ${[...threads]})`);

    const cached = await server.rest('GET', '/Doc/a', { headers: { 'If-None-Match': etag } });
    assert.equal(cached.status, 304);
    assert.equal(cached.text, '');
    assert.equal(cached.headers.get('etag'), etag);

    assert.equal((await server.rest('PATCH', '/Doc/a', { body: { title: 'second' } })).status, 204);
    const changed = await server.rest('GET', '/Doc/a', { headers: { 'If-None-Match': etag } });
    assert.equal(changed.status, 200, 'after a write the old ETag no longer matches');
    assert.equal(changed.json.title, 'second');
    const etag2 = changed.headers.get('etag');
    assert.match(etag2, /^"[^"]{10}"$/);
    assert.notEqual(etag2, etag);
    // a search and a 204 carry no ETag
    assert.equal((await server.rest('GET', '/Doc/?title=second')).headers.get('etag'), null);
    assert.equal((await server.rest('PUT', '/Doc/b', { body: { title: 'other' } })).headers.get('etag'), null);

    // custom resources: a table subclass answers the record's ETag; a composite answers the newest version read
    const view = await server.rest('GET', '/DocView/a');
    assert.equal(view.status, 200);
    assert.equal(view.headers.get('etag'), etag2);
    assert.equal((await server.rest('GET', '/DocView/a', { headers: { 'If-None-Match': etag2 } })).status, 304);
    const etagB = (await server.rest('GET', '/Doc/b')).headers.get('etag');
    const pair = await server.rest('GET', '/Pair/x');
    assert.deepEqual(pair.json, { titles: ['second', 'other'] });
    assert.equal(pair.headers.get('etag'), etagB, 'b was written last, so its version is the newest');

    // the version is stored with the record: a restart serves the same ETag
    await server.stop();
    const again = await startServer({ app, root: server.root, threads: 1 });
    try {
      const after = await again.rest('GET', '/Doc/a');
      assert.equal(after.json.title, 'second');
      assert.equal(after.headers.get('etag'), etag2);
      assert.equal((await again.rest('GET', '/Doc/a', { headers: { 'If-None-Match': etag2 } })).status, 304);
    } finally {
      await again.stop();
    }
  } finally {
    await server.stop();
    cleanupAll(server, app);
  }
});

test('with rest: {lastModified: true} responses carry Last-Modified from the version, and context.lastModified sets it', async () => {
  const app = makeApp({ 'schema.graphql': SCHEMA, 'resources.js': RESOURCES, 'config.yaml': CONFIG_LAST_MODIFIED });
  const server = await startServer({ app });
  try {
    const before = Date.now();
    assert.equal((await server.rest('PUT', '/Doc/lm', { body: { title: 't' } })).status, 204);
    const res = await server.rest('GET', '/Doc/lm');
    assert.equal(res.status, 200);
    const lm = Date.parse(res.headers.get('last-modified'));
    assert.ok(Number.isFinite(lm), `Last-Modified is an HTTP date: ${res.headers.get('last-modified')}`);
    assert.ok(lm >= Math.floor(before / 1000) * 1000 - 1000 && lm <= Date.now(), 'it is the time of the write');

    const stamped = await server.rest('GET', '/Stamped/one');
    assert.deepEqual(stamped.json, { stamped: true });
    assert.equal(stamped.headers.get('last-modified'), 'Mon, 06 May 2024 07:08:09 GMT');
    const etag = stamped.headers.get('etag');
    assert.match(etag, /^"[^"]{10}"$/);
    assert.equal((await server.rest('GET', '/Stamped/two')).headers.get('etag'), etag, 'the same version gives the same ETag');
    assert.equal((await server.rest('GET', '/Stamped/one', { headers: { 'If-None-Match': etag } })).status, 304);
  } finally {
    await server.stop();
    cleanupAll(server, app);
  }
});
