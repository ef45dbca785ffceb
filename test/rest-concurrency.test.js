// Concurrent writers on two worker threads never lose each other's updates (optimistic transactions check every
// record they read by version at commit and rerun on conflict): PATCHes of different fields of one record all
// land, read-modify-write increments through the Operations API all count, and concurrent POSTs get distinct ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, tempRoot } from './harness.js';

const SCHEMA = `
type Board @table @export {
  id: ID @primaryKey
  title: String
}

type Note @table @export {
  id: Long @primaryKey
  text: String @indexed
}
`;

function makeApp() {
  const app = tempRoot('weft-conc-app-');
  fs.writeFileSync(path.join(app, 'schema.graphql'), SCHEMA);
  return app;
}

test('60 concurrent PATCHes of different fields of one record on two threads all land', async () => {
  const server = await startServer({ app: makeApp(), threads: 2 });
  try {
    assert.equal((await server.rest('PUT', '/Board/b1', { body: { title: 'start' } })).status, 204);
    const n = 60;
    const results = await Promise.all(Array.from({ length: n }, (_, i) =>
      server.rest('PATCH', '/Board/b1', { body: { [`f${i}`]: i } })));
    assert.deepEqual(results.map((r) => r.status), Array(n).fill(204));
    const got = await server.rest('GET', '/Board/b1');
    assert.equal(got.status, 200);
    for (let i = 0; i < n; i++) assert.equal(got.json[`f${i}`], i, `field f${i} was lost`);
    assert.equal(got.json.title, 'start');
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('concurrent upserts of one record through the Operations API keep every field, and 80 concurrent POSTs get 80 distinct ids', async () => {
  const server = await startServer({ app: makeApp(), threads: 2 });
  try {
    const n = 40;
    const up = await Promise.all(Array.from({ length: n }, (_, i) =>
      server.op({ operation: 'update', database: 'data', table: 'Board', records: [{ id: 'b2', [`g${i}`]: i }] })));
    // the record does not exist yet: update skips it, every time
    assert.ok(up.every((r) => r.status === 200 && r.body.skipped_hashes?.[0] === 'b2'), JSON.stringify(up[0]));
    assert.equal((await server.rest('PUT', '/Board/b2', { body: { title: 'two' } })).status, 204);
    const up2 = await Promise.all(Array.from({ length: n }, (_, i) =>
      server.op({ operation: 'update', database: 'data', table: 'Board', records: [{ id: 'b2', [`g${i}`]: i }] })));
    assert.ok(up2.every((r) => r.status === 200 && r.body.update_hashes?.[0] === 'b2'));
    const b2 = (await server.rest('GET', '/Board/b2')).json;
    for (let i = 0; i < n; i++) assert.equal(b2[`g${i}`], i, `field g${i} was lost`);

    const posts = await Promise.all(Array.from({ length: 80 }, (_, i) =>
      server.rest('POST', '/Note/', { body: { text: `note ${i}` } })));
    assert.deepEqual(posts.map((r) => r.status), Array(80).fill(201));
    const ids = posts.map((r) => r.json);
    assert.equal(new Set(ids).size, 80, 'ids are distinct');
    assert.ok(ids.every((id) => Number.isSafeInteger(id)));
    const all = await server.rest('GET', '/Note/');
    assert.equal(all.json.length, 80);
    assert.deepEqual(new Set(all.json.map((r) => r.text)), new Set(Array.from({ length: 80 }, (_, i) => `note ${i}`)));
  } finally {
    await server.stop();
    server.cleanup();
  }
});
