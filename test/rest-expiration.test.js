// Expiration and eviction (spec §3.8): expired records are hidden from REST, the Resource API and operations-API
// searches; sweeps remove them `eviction` seconds after expiry and leave fresh records; per-record expiry from an
// @expiresAt attribute and from context.expiresAt set by resource code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, waitFor } from './harness.js';
import { makeApp, SCHEMA } from './rest-app.js';

const EXPIRING = `${SCHEMA}
type Session @table(expiration: 1) @export {
  id: ID @primaryKey
  user: String @indexed
}

type Token @table(expiration: 1, eviction: 3, scanInterval: 1) @export {
  id: ID @primaryKey
  kind: String @indexed
}

type Offer @table(scanInterval: 1) @export {
  id: ID @primaryKey
  ends: Float @indexed @expiresAt
}

type Temp @table(expiration: 3600) @export {
  id: ID @primaryKey
  note: String
}
`;

const RESOURCES = `
import { Resource, tables } from 'weftdb';
export class SessionView extends Resource {
  async get() {
    const ids = [];
    for await (const s of tables.Session.search('')) ids.push(s.id);
    return { ids, one: (await tables.Session.get('old'))?.user ?? null };
  }
}

/** Writes through REST expire 700 ms after the write, whatever the table's expiration. */
export class Temp extends tables.Temp {
  put(data) {
    this.getContext().expiresAt = Date.now() + 700;
    return super.put(data);
  }
}
`;

async function withApp(fn) {
  const app = makeApp({ 'schema.graphql': EXPIRING, 'resources.js': RESOURCES });
  const server = await startServer({ app });
  try {
    await fn(server);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
}

async function recordCount(server, table) {
  const res = await server.op({ operation: 'describe_table', database: 'data', table });
  assert.equal(res.status, 200);
  return res.body.record_count;
}

/** Stored ids, expired or not: SQL reads the table as stored (docs/applications.md). */
async function storedIds(server, table) {
  const res = await server.op({ operation: 'sql', sql: `SELECT id FROM data.\`${table}\`` });
  assert.equal(res.status, 200);
  return res.body.map((r) => r.id).sort();
}

test('records of a table with expiration: 1 disappear from GET, searches and the operations API, and are swept from storage', async () => {
  await withApp(async (server) => {
    assert.equal((await server.rest('PUT', '/Session/old', { body: { user: 'ann' } })).status, 204);
    assert.equal((await server.rest('GET', '/Session/old')).json.user, 'ann', 'fresh records are served');
    assert.deepEqual((await server.rest('GET', '/SessionView/')).json, { ids: ['old'], one: 'ann' });
    assert.ok(await waitFor(async () => (await server.rest('GET', '/Session/old')).status === 404), 'the expired record is not returned');
    assert.equal((await server.rest('PUT', '/Session/new', { body: { user: 'bob' } })).status, 204);
    assert.deepEqual((await server.rest('GET', '/Session/?user=ann')).json, [], 'the expired record is not found by a search');
    assert.deepEqual((await server.rest('GET', '/Session/')).json.map((s) => s.id), ['new']);
    assert.deepEqual((await server.rest('GET', '/SessionView/')).json, { ids: ['new'], one: null }, 'the Resource API hides it too');
    const op = await server.op({ operation: 'search_by_value', database: 'data', table: 'Session', search_attribute: 'user', search_value: 'ann' });
    assert.equal(op.status, 200);
    assert.deepEqual(op.body, [], 'operations-API searches hide it as REST does');
    const byId = await server.op({ operation: 'search_by_id', database: 'data', table: 'Session', ids: ['old', 'new'], get_attributes: ['id'] });
    assert.deepEqual(byId.body, [{ id: 'new' }], 'search_by_id too');
    // eviction 0: the sweep (every 0.25 s) removes it from storage
    assert.ok(await waitFor(async () => !(await storedIds(server, 'Session')).includes('old')), 'the sweep removed the expired record');
  });
});

test('eviction keeps an expired record stored (hidden) until expiration + eviction, and the sweep leaves fresh records', async () => {
  await withApp(async (server) => {
    assert.equal((await server.rest('PUT', '/Token/old', { body: { kind: 'a' } })).status, 204);
    assert.ok(await waitFor(async () => (await server.rest('GET', '/Token/old')).status === 404), 'stale after expiration');
    // eviction is 3 s after the 1 s expiration: the stale record is still stored right after it went stale
    assert.deepEqual(await storedIds(server, 'Token'), ['old']);
    assert.deepEqual((await server.rest('GET', '/Token/?kind=a')).json, []);
    for (const id of ['f1', 'f2', 'f3']) assert.equal((await server.rest('PUT', `/Token/${id}`, { body: { kind: 'a' } })).status, 204);
    const left = await waitFor(async () => {
      const ids = await storedIds(server, 'Token');
      return ids.includes('old') ? undefined : ids;
    }, { timeoutMs: 15_000 });
    assert.ok(left, 'removed after eviction');
    // f1-f3 were written after 'old' went stale, so they fall due at least a second (one scanInterval) after it:
    // the sweep that removed 'old' left them
    assert.deepEqual(left, ['f1', 'f2', 'f3']);
  });
});

test('an @expiresAt attribute sets each record\'s expiry; a sweep removes the due record and keeps the other', async () => {
  await withApp(async (server) => {
    assert.equal((await server.rest('PUT', '/Offer/soon', { body: { ends: Date.now() + 800 } })).status, 204);
    assert.equal((await server.rest('PUT', '/Offer/later', { body: { ends: Date.now() + 3_600_000 } })).status, 204);
    assert.equal((await server.rest('PUT', '/Offer/never', { body: {} })).status, 204);
    assert.equal((await server.rest('GET', '/Offer/soon')).status, 200);
    assert.ok(await waitFor(async () => (await server.rest('GET', '/Offer/soon')).status === 404), 'hidden once its time passed');
    assert.ok(await waitFor(async () => (await recordCount(server, 'Offer')) === 2, { timeoutMs: 15_000 }), 'the sweep removed it');
    assert.deepEqual(await storedIds(server, 'Offer'), ['later', 'never']);
    assert.equal((await server.rest('GET', '/Offer/later')).status, 200);
    assert.deepEqual((await server.rest('GET', '/Offer/')).json.map((o) => o.id).sort(), ['later', 'never']);
  });
});

test('context.expiresAt set by resource code gives the written record its own expiry', async () => {
  await withApp(async (server) => {
    assert.equal((await server.rest('PUT', '/Temp/short', { body: { note: 'x' } })).status, 204);
    const op = await server.op({ operation: 'insert', database: 'data', table: 'Temp', records: [{ id: 'long', note: 'y' }] });
    assert.equal(op.status, 200);
    assert.equal((await server.rest('GET', '/Temp/short')).status, 200);
    assert.ok(await waitFor(async () => (await server.rest('GET', '/Temp/short')).status === 404),
      'the record written with context.expiresAt expires long before the table\'s hour');
    assert.equal((await server.rest('GET', '/Temp/long')).json.note, 'y', 'a record written without it keeps the table expiration');
    // the table's own scanInterval is 15 minutes: the stale record stays stored, hidden, until then
    assert.deepEqual(await storedIds(server, 'Temp'), ['long', 'short']);
  });
});
