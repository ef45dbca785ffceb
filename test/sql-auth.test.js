// SQL permissions (spec §2.6, §2.9): every table and attribute a statement touches is checked before any row is
// read or written; `SELECT *` is narrowed to the readable attributes for non-super users.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, crud } from './harness.js';

const DENIED = 'This operation is not authorized due to role restrictions and/or invalid database items';

const ROLES = {
  dog_reader: { dev: { tables: { dog: crud(true, false, false, false) } } },
  dog_writer: { dev: { tables: { dog: crud(false, true, true, true) } } },
  limited: {
    dev: {
      tables: {
        dog: {
          read: true, insert: true, update: true, delete: true,
          attribute_permissions: [
            { attribute_name: 'name', read: true, insert: true, update: true },
            { attribute_name: 'owner_id', read: true, insert: false, update: false },
            { attribute_name: 'secret', read: false, insert: false, update: false },
          ],
        },
        owner: crud(true, false, false, false),
      },
    },
  },
};

let server;
const as = (username) => ({ auth: { username, password: `${username}-pw` } });
const sql = (text, user) => server.op({ operation: 'sql', sql: text }, user ? as(user) : undefined);

before(async () => {
  server = await startServer();
  const setup = [
    { operation: 'create_database', database: 'dev' },
    { operation: 'create_table', database: 'dev', table: 'dog', primary_key: 'id' },
    { operation: 'create_table', database: 'dev', table: 'owner', primary_key: 'id' },
    { operation: 'create_table', database: 'dev', table: 'vault', primary_key: 'id' },
    { operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 1, name: 'Rex', owner_id: 1, secret: 's1' }, { id: 2, name: 'Fido', owner_id: 2, secret: 's2' }] },
    { operation: 'insert', database: 'dev', table: 'owner', records: [{ id: 1, name: 'Ann' }, { id: 2, name: 'Bob' }] },
    { operation: 'insert', database: 'dev', table: 'vault', records: [{ id: 1, dog_id: 1, code: 'top-secret' }] },
  ];
  for (const body of setup) assert.equal((await server.op(body)).status, 200, JSON.stringify(body));
  for (const [role, permission] of Object.entries(ROLES)) {
    assert.equal((await server.op({ operation: 'add_role', role, permission })).status, 200);
    assert.equal((await server.op({ operation: 'add_user', username: role, password: `${role}-pw`, role, active: true })).status, 200);
  }
});

after(async () => {
  await server?.stop();
  server?.cleanup();
});

test('a reader may SELECT from its table, and a super user still reads everything', async () => {
  const r = await sql('SELECT name FROM dev.dog ORDER BY id', 'dog_reader');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, [{ name: 'Rex' }, { name: 'Fido' }]);
  const su = await sql('SELECT * FROM dev.vault');
  assert.deepEqual(su.body, [{ id: 1, dog_id: 1, code: 'top-secret', __createdtime__: su.body[0].__createdtime__, __updatedtime__: su.body[0].__updatedtime__ }]);
});

test("reading another role's table through a join fails with 403 whatever the join form", async () => {
  for (const text of [
    'SELECT d.name, v.code FROM dev.dog d INNER JOIN dev.vault v ON v.dog_id = d.id',
    'SELECT d.name FROM dev.dog d LEFT JOIN dev.vault v ON v.dog_id = d.id',
    'SELECT * FROM dev.dog d CROSS JOIN dev.vault v',
    'SELECT code FROM dev.vault',
  ]) {
    const r = await sql(text, 'dog_reader');
    assert.equal(r.status, 403, text);
    assert.deepEqual(r.body, { error: DENIED, unauthorized_access: [], invalid_schema_items: ["Table 'dev.vault' does not exist"] }, text);
  }
  const sys = await sql('SELECT * FROM system.hdb_user', 'dog_reader');
  assert.equal(sys.status, 403);
  assert.doesNotMatch(JSON.stringify(sys.body), /password/);
});

test('SELECT * is narrowed to the readable attributes, also across a permitted join', async () => {
  const r = await sql('SELECT * FROM dev.dog WHERE id = 1', 'limited');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, [{ id: 1, name: 'Rex', owner_id: 1 }]);
  const j = await sql('SELECT d.*, o.name AS owner FROM dev.dog d JOIN dev.owner o ON o.id = d.owner_id ORDER BY d.id', 'limited');
  assert.equal(j.status, 200, JSON.stringify(j.body));
  assert.deepEqual(j.body, [{ id: 1, name: 'Rex', owner_id: 1, owner: 'Ann' }, { id: 2, name: 'Fido', owner_id: 2, owner: 'Bob' }]);
});

test('naming an attribute the role may not read fails in the select list, WHERE, ORDER BY and aggregates', async () => {
  for (const text of [
    'SELECT secret FROM dev.dog',
    "SELECT name FROM dev.dog WHERE secret = 's1'",
    'SELECT name FROM dev.dog ORDER BY secret',
    'SELECT COUNT(secret) AS n FROM dev.dog',
    'SELECT d.name FROM dev.dog d JOIN dev.owner o ON o.name = d.secret',
  ]) {
    const r = await sql(text, 'limited');
    assert.equal(r.status, 403, text);
    assert.equal(r.body.error, DENIED, text);
    assert.deepEqual(r.body.unauthorized_access, [{
      schema: 'dev', table: 'dog', required_table_permissions: [],
      required_attribute_permissions: [{ attribute_name: 'secret', required_permissions: ['read'] }],
    }], text);
  }
});

test('writes are checked per table and per attribute before anything is written', async () => {
  const ins = await sql("INSERT INTO dev.dog (id, name) VALUES (10, 'New')", 'dog_reader');
  assert.equal(ins.status, 403);
  assert.deepEqual(ins.body.unauthorized_access, [{ schema: 'dev', table: 'dog', required_table_permissions: ['insert'], required_attribute_permissions: [] }]);
  const upd = await sql("UPDATE dev.dog SET name = 'X' WHERE id = 1", 'dog_reader');
  assert.equal(upd.status, 403);
  const del = await sql('DELETE FROM dev.dog WHERE id = 1', 'dog_reader');
  assert.equal(del.status, 403);
  assert.deepEqual(del.body.unauthorized_access[0].required_table_permissions, ['delete']);

  const secretInsert = await sql("INSERT INTO dev.dog (id, name, secret) VALUES (11, 'S', 'x')", 'limited');
  assert.equal(secretInsert.status, 403);
  assert.deepEqual(secretInsert.body.unauthorized_access[0].required_attribute_permissions, [{ attribute_name: 'secret', required_permissions: ['insert'] }]);
  const ownerUpdate = await sql('UPDATE dev.dog SET owner_id = 2 WHERE id = 1', 'limited');
  assert.equal(ownerUpdate.status, 403);
  const probe = await sql("DELETE FROM dev.dog WHERE secret = 's1'", 'limited');
  assert.equal(probe.status, 403, 'a WHERE on an unreadable attribute would reveal it');
  const stamp = await sql('INSERT INTO dev.dog (id, name, __createdtime__) VALUES (12, \'T\', 1)', 'dog_writer');
  assert.equal(stamp.status, 403);

  const rows = await sql('SELECT id, name, owner_id, secret FROM dev.dog ORDER BY id');
  assert.deepEqual(rows.body, [{ id: 1, name: 'Rex', owner_id: 1, secret: 's1' }, { id: 2, name: 'Fido', owner_id: 2, secret: 's2' }]);

  const ok = await sql("INSERT INTO dev.dog (id, name) VALUES (13, 'Ok')", 'limited');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const upd2 = await sql("UPDATE dev.dog SET name = 'Okay' WHERE id = 13", 'limited');
  assert.equal(upd2.status, 200, JSON.stringify(upd2.body));
  const w = await sql('DELETE FROM dev.dog WHERE id = 13', 'dog_writer');
  assert.equal(w.status, 200, JSON.stringify(w.body));
  assert.deepEqual(w.body.deleted_hashes, [13]);
  assert.deepEqual((await sql('SELECT id FROM dev.dog ORDER BY id')).body, [{ id: 1 }, { id: 2 }]);
});
