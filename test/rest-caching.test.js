// Caching tables (spec §5.4, §4.4, §9 item 19): a table sourcedFrom an origin that is a tiny HTTP server this test
// runs; stampede protection (also for failures), origin timeout, stale-if-error, Cache-Control directives, Age and
// Server-Timing miss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, tempRoot } from './harness.js';

const SCHEMA = `
type Quote @table @export {
  id: ID @primaryKey
  text: String
  n: Int
}
`;

const RESOURCES = `
import { Resource, tables } from 'weftdb';

class Origin extends Resource {
  async get() {
    const res = await fetch(process.env.UPSTREAM_URL + '/' + encodeURIComponent(this.getId()));
    if (res.status === 404) return undefined;
    if (!res.ok) { const e = new Error('upstream answered ' + res.status); e.statusCode = 502; throw e; }
    return res.json();
  }
}
tables.Quote.sourcedFrom(Origin, { timeout: 400, negativeTtl: 300 });

export class QuoteViaTable extends Resource {
  allowRead() { return true; }
  get() { return tables.Quote.get(this.getId()); }
}
`;

/** The origin: counts calls per id; `mode[id]` is 'ok' (default), 'fail', 'hang', or 'missing'. */
function startUpstream() {
  const calls = new Map();
  const mode = {};
  let version = 0;
  const server = http.createServer((req, res) => {
    const id = decodeURIComponent(req.url.slice(1));
    calls.set(id, (calls.get(id) ?? 0) + 1);
    const m = mode[id] ?? 'ok';
    if (m === 'hang') return; // never answers
    if (m === 'missing') { res.writeHead(404).end(); return; }
    setTimeout(() => {
      if (m === 'fail') { res.writeHead(500).end('boom'); return; }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ text: `quote ${id}`, n: ++version }));
    }, 150);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, calls: (id) => calls.get(id) ?? 0, mode,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}

function makeApp() {
  const dir = tempRoot('weft-cache-app-');
  fs.writeFileSync(path.join(dir, 'schema.graphql'), SCHEMA);
  fs.writeFileSync(path.join(dir, 'resources.js'), RESOURCES);
  return dir;
}

test('a caching table calls its source once for concurrent misses, then serves hits with Age', async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 1, env: { UPSTREAM_URL: upstream.url } });
  try {
    const first = await Promise.all(Array.from({ length: 6 }, () => server.rest('GET', '/Quote/a')));
    for (const r of first) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { id: 'a', text: 'quote a', n: 1 });
      assert.match(r.headers.get('server-timing'), /^hdb;dur=\d+\.\d\d, miss$/);
    }
    assert.equal(upstream.calls('a'), 1, 'six concurrent misses, one origin call');

    const hit = await server.rest('GET', '/Quote/a');
    assert.deepEqual(hit.json, { id: 'a', text: 'quote a', n: 1 });
    assert.match(hit.headers.get('age'), /^\d+$/);
    assert.doesNotMatch(hit.headers.get('server-timing'), /miss/);
    assert.equal(upstream.calls('a'), 1, 'a hit does not contact the origin');

    const stored = await server.op({ operation: 'search_by_id', database: 'data', table: 'Quote', ids: ['a'], get_attributes: ['*'] });
    assert.equal(stored.body[0].text, 'quote a', 'the origin answer is stored in the table');

    const viaClass = await server.rest('GET', '/QuoteViaTable/b', { auth: null });
    assert.deepEqual(viaClass.json, { id: 'b', text: 'quote b', n: 2 }, 'tables.Quote.get loads through the source too');

    upstream.mode.gone = 'missing';
    const missing = await server.rest('GET', '/Quote/gone');
    assert.equal(missing.status, 404);
  } finally {
    await server.stop();
    await upstream.close();
  }
});

test('Cache-Control directives: only-if-cached, no-cache, no-store, max-age', async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 1, env: { UPSTREAM_URL: upstream.url } });
  try {
    const notCached = await server.rest('GET', '/Quote/x', { headers: { 'Cache-Control': 'only-if-cached' } });
    assert.equal(notCached.status, 504);
    assert.equal(notCached.json, 'ServerError: Entry is not cached');
    assert.equal(upstream.calls('x'), 0, 'only-if-cached never contacts the origin');

    await server.rest('GET', '/Quote/x');
    const reload = await server.rest('GET', '/Quote/x', { headers: { 'Cache-Control': 'no-cache' } });
    assert.equal(reload.status, 200);
    assert.match(reload.headers.get('server-timing'), /miss/);
    assert.equal(upstream.calls('x'), 2, 'no-cache reloads from the origin');
    assert.equal((await server.rest('GET', '/Quote/x')).json.n, reload.json.n, 'the reloaded value was stored');

    const unstored = await server.rest('GET', '/Quote/y', { headers: { 'Cache-Control': 'no-store' } });
    assert.equal(unstored.status, 200);
    assert.equal(unstored.json.text, 'quote y');
    assert.equal((await server.rest('GET', '/Quote/y', { headers: { 'Cache-Control': 'only-if-cached' } })).status, 504, 'no-store kept nothing');

    // max-age=0: the new entry expires at once, so the next get is a miss again
    await server.rest('GET', '/Quote/z', { headers: { 'Cache-Control': 'max-age=0' } });
    assert.equal(upstream.calls('z'), 1);
    await server.rest('GET', '/Quote/z');
    assert.equal(upstream.calls('z'), 2, 'an expired entry is reloaded');
    const longLived = await server.rest('GET', '/Quote/z');
    assert.doesNotMatch(longLived.headers.get('server-timing'), /miss/);
    assert.equal(upstream.calls('z'), 2);

    const huge = await server.rest('GET', '/Quote/z', { headers: { 'Cache-Control': 'max-age=1,' + 'x'.repeat(2000) } });
    assert.equal(huge.status, 400, 'an oversized Cache-Control header is refused, not parsed');
  } finally {
    await server.stop();
    await upstream.close();
  }
});

test('a failing or hanging origin: one call for concurrent failures, a timeout, and stale-if-error', async () => {
  const upstream = await startUpstream();
  const server = await startServer({ app: makeApp(), threads: 1, env: { UPSTREAM_URL: upstream.url } });
  try {
    upstream.mode.bad = 'fail';
    const failed = await Promise.all(Array.from({ length: 5 }, () => server.rest('GET', '/Quote/bad')));
    for (const r of failed) {
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json, 'Error: upstream answered 500');
    }
    assert.equal(upstream.calls('bad'), 1, 'concurrent failing misses share one origin call');
    const again = await server.rest('GET', '/Quote/bad');
    assert.equal(again.status, 502);
    assert.equal(upstream.calls('bad'), 1, 'a failure is remembered briefly (negative caching)');

    upstream.mode.slow = 'hang';
    const slow = await server.rest('GET', '/Quote/slow');
    assert.equal(slow.status, 504);
    assert.equal(slow.json, 'ServerError: The source did not answer within 400 ms');

    // an entry that went stale, and an origin that now fails
    await server.rest('GET', '/Quote/s', { headers: { 'Cache-Control': 'max-age=0' } });
    upstream.mode.s = 'fail';
    const stale = await server.rest('GET', '/Quote/s', { headers: { 'Cache-Control': 'stale-if-error' } });
    assert.equal(stale.status, 200, stale.text);
    assert.equal(stale.json.text, 'quote s', 'stale-if-error serves the stale entry');
    const strict = await server.rest('GET', '/Quote/s');
    assert.equal(strict.status, 502, 'without stale-if-error the failure is reported');

    const alive = await server.rest('GET', '/Quote/fine');
    assert.equal(alive.status, 200, 'the worker keeps serving after origin failures and timeouts');
  } finally {
    await server.stop();
    await upstream.close();
  }
});
