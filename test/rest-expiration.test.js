// Plain-table expiration (spec §3.8): expired records are hidden from REST reads and removed by the sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './harness.js';
import { makeApp, SCHEMA } from './rest-app.js';

const EXPIRING = `${SCHEMA}
type Session @table(expiration: 1) @export {
  id: ID @primaryKey
  user: String @indexed
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
`;

test('records of a table with expiration: 1 disappear from GET and search after a second and are swept from storage', async () => {
  const app = makeApp({ 'schema.graphql': EXPIRING, 'resources.js': RESOURCES });
  const server = await startServer({ app });
  try {
    assert.equal((await server.rest('PUT', '/Session/old', { body: { user: 'ann' } })).status, 204);
    assert.equal((await server.rest('GET', '/Session/old')).json.user, 'ann', 'fresh records are served');
    assert.deepEqual((await server.rest('GET', '/SessionView/')).json, { ids: ['old'], one: 'ann' });
    await sleep(1200);
    assert.equal((await server.rest('PUT', '/Session/new', { body: { user: 'bob' } })).status, 204);
    assert.equal((await server.rest('GET', '/Session/old')).status, 404, 'the expired record is not returned');
    const list = await server.rest('GET', '/Session/?user=ann');
    assert.deepEqual(list.json, [], 'the expired record is not found by a search');
    assert.deepEqual((await server.rest('GET', '/Session/')).json.map((s) => s.id), ['new']);
    assert.deepEqual((await server.rest('GET', '/SessionView/')).json, { ids: ['new'], one: null }, 'the Resource API hides it too');

    // the sweep deletes it from storage, where the operations API (which does not filter) would still see it
    let stored;
    for (let i = 0; i < 40; i++) {
      const res = await server.op({ operation: 'search_by_value', database: 'data', table: 'Session', search_attribute: 'user', search_value: 'ann' });
      assert.equal(res.status, 200);
      stored = res.body;
      if (stored.length === 0) break;
      await sleep(100);
    }
    assert.deepEqual(stored, [], 'the sweep removed the expired record');
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
