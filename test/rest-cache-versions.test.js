// Caching tables and versions (spec §5.4, §3.8): the source's context.lastModified becomes the stored entry's
// version (ETag, Last-Modified), its context.expiresAt the entry's expiry; the source sees the stale entry it
// replaces (replacingRecord, replacingVersion) and the original request (requestContext).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ADMIN, startServer, waitFor } from './harness.js';
import { makeApp, rawRequest } from './rest-app.js';

const AUTH = 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');

const SCHEMA = `
type Cached @table @export {
  id: ID @primaryKey
}
`;

const RESOURCES = `
import { Resource, tables } from 'weftdb';

let calls = 0;
class Origin extends Resource {
  get() {
    calls++;
    const context = this.getContext();
    context.lastModified = 1700000000000;
    if (this.getId() === 'brief') context.expiresAt = Date.now() + 500;
    return {
      calls,
      replaced: context.replacingRecord?.calls ?? null,
      replacedVersion: context.replacingVersion ?? null,
      sawRequest: typeof context.requestContext === 'object' && context.requestContext !== null,
    };
  }
}
tables.Cached.sourcedFrom(Origin);
`;

const CONFIG = `
rest:
  lastModified: true
graphqlSchema:
  files: '*.graphql'
jsResource:
  files: 'resources.js'
`;

test('a cache entry carries the version its source gave (ETag, Last-Modified) and the source sees the entry it replaces', async () => {
  const app = makeApp({ 'schema.graphql': SCHEMA, 'resources.js': RESOURCES, 'config.yaml': CONFIG });
  const server = await startServer({ app });
  try {
    const first = await server.rest('GET', '/Cached/fixed');
    assert.equal(first.status, 200);
    assert.match(first.headers.get('server-timing'), /miss/);
    assert.equal(first.json.replaced, null, 'nothing to replace on the first load');
    assert.equal(first.json.sawRequest, true, 'the source gets the original request as requestContext');
    assert.equal(first.headers.get('last-modified'), 'Tue, 14 Nov 2023 22:13:20 GMT', 'the version is the origin\'s lastModified');
    const etag = first.headers.get('etag');
    assert.match(etag, /^"[^"]{10}"$/);

    // node:http, not fetch: fetch adds Cache-Control: no-cache to conditional requests, which would reload
    const hit = await rawRequest(server.httpPort, 'GET', '/Cached/fixed', { Authorization: AUTH, 'If-None-Match': etag });
    assert.equal(hit.status, 304, 'a hit answers If-None-Match with 304');
    assert.doesNotMatch(hit.headers['server-timing'], /miss/);

    const reload = await server.rest('GET', '/Cached/fixed', { headers: { 'Cache-Control': 'no-cache' } });
    assert.match(reload.headers.get('server-timing'), /miss/);
    assert.equal(reload.json.replaced, first.json.calls, 'replacingRecord is the entry being replaced');
    assert.equal(reload.json.replacedVersion, 1700000000000, 'replacingVersion is its version');
    assert.equal(reload.headers.get('etag'), etag, 'same origin version, same ETag');
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('context.expiresAt set by the source makes that entry stale (reloaded) while entries without it stay cached', async () => {
  const app = makeApp({ 'schema.graphql': SCHEMA, 'resources.js': RESOURCES, 'config.yaml': CONFIG });
  const server = await startServer({ app });
  try {
    assert.match((await server.rest('GET', '/Cached/keep')).headers.get('server-timing'), /miss/);
    const brief = await server.rest('GET', '/Cached/brief');
    assert.match(brief.headers.get('server-timing'), /miss/);
    const reloaded = await waitFor(async () => {
      const r = await server.rest('GET', '/Cached/brief');
      return /miss/.test(r.headers.get('server-timing')) ? r : undefined;
    });
    assert.ok(reloaded, 'the entry went stale at its expiresAt and was loaded again');
    assert.equal(reloaded.json.replaced, brief.json.calls, 'the stale entry was handed to the source');
    const keep = await server.rest('GET', '/Cached/keep');
    assert.doesNotMatch(keep.headers.get('server-timing'), /miss/, 'an entry without expiry is still a hit');
    assert.ok(keep.headers.get('age') !== null);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
