// The role matrix: users with each permission shape against every operation family (spec §2.6, §2.11).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, crud } from './harness.js';

const DENIED = 'This operation is not authorized due to role restrictions and/or invalid database items';

const ROLES = {
  dog_reader: { dev: { tables: { dog: crud(true, false, false, false) } } },
  dog_writer: { dev: { tables: { dog: crud(false, true, true, false) } } },
  dog_deleter: { dev: { tables: { dog: crud(true, false, false, true) } } },
  attr_limited: {
    dev: {
      tables: {
        dog: {
          read: true, insert: true, update: false, delete: false,
          attribute_permissions: [
            { attribute_name: 'name', read: true, insert: true, update: false },
            { attribute_name: 'owner', read: true, insert: false, update: false },
            { attribute_name: 'secret', read: false, insert: false, update: false },
          ],
        },
      },
    },
  },
  shorthand: { breed: crud(true, true, false, false) },
  structure_dev: { structure_user: ['dev'] },
  structure_all: { structure_user: true },
  no_grants: {},
};

let server;
const as = (username) => ({ username, password: `${username}-pw` });

async function rows(table, database = 'dev') {
  const r = await server.op({ operation: 'search_by_value', database, table, attribute: 'id', value: '*', get_attributes: ['*'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.sort((a, b) => a.id - b.id);
}

before(async () => {
  server = await startServer();
  const setup = [
    { operation: 'create_database', database: 'dev' },
    { operation: 'create_table', database: 'dev', table: 'dog', primary_key: 'id' },
    { operation: 'create_table', database: 'dev', table: 'cat', primary_key: 'id' },
    { operation: 'create_table', table: 'breed', primary_key: 'id' },
    { operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 1, name: 'Rex', owner: 'Ann', secret: 's1' }] },
    { operation: 'insert', database: 'dev', table: 'cat', records: [{ id: 1, name: 'Tom', owner: 'Bob' }] },
    { operation: 'insert', table: 'breed', records: [{ id: 1, name: 'collie' }] },
  ];
  for (const body of setup) assert.equal((await server.op(body)).status, 200, JSON.stringify(body));
  for (const [role, permission] of Object.entries(ROLES)) {
    const r = await server.op({ operation: 'add_role', role, permission });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const u = await server.op({ operation: 'add_user', username: role, password: `${role}-pw`, role, active: true });
    assert.deepEqual(u.body, { message: `${role} successfully added` });
  }
});

after(async () => {
  await server?.stop();
  server?.cleanup();
});

test('requests without credentials get 401 Must login and bad credentials 401 Login failed', async () => {
  const none = await server.op({ operation: 'describe_all' }, { auth: null });
  assert.equal(none.status, 401);
  assert.deepEqual(none.body, { error: 'Must login' });
  assert.equal(none.headers.get('www-authenticate'), 'Basic');
  const bad = await server.op({ operation: 'describe_all' }, { auth: { username: 'dog_reader', password: 'nope' } });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.body, { error: 'Login failed' });
});

test('super-user-only operations are refused to every other role with the handler name Harper reports', async () => {
  const cases = [
    [{ operation: 'add_user', username: 'x', password: 'y', role: 'dog_reader', active: true }, 'addUser'],
    [{ operation: 'list_users' }, 'listUsersExternal'],
    [{ operation: 'list_roles' }, 'listRoles'],
    [{ operation: 'drop_role', id: 'dog_reader' }, 'dropRole'],
    [{ operation: 'alter_user', username: 'dog_reader', active: false }, 'alterUser'],
    [{ operation: 'get_configuration' }, 'getConfiguration'],
    [{ operation: 'system_information' }, 'systemInformation'],
    [{ operation: 'restart' }, 'restart'],
  ];
  for (const user of ['dog_reader', 'structure_all', 'no_grants']) {
    for (const [body, handler] of cases) {
      const r = await server.op(body, { auth: as(user) });
      assert.equal(r.status, 403, `${user} ${body.operation}`);
      assert.deepEqual(r.body, {
        error: DENIED, unauthorized_access: [`Operation '${handler}' is restricted to 'super_user' roles`], invalid_schema_items: [],
      });
    }
  }
  // nothing changed: the users are still there and still active
  const list = await server.op({ operation: 'list_users' });
  assert.equal(list.body.find((u) => u.username === 'dog_reader').active, true);
});

test('a table reader can search and describe its table but cannot write, delete or see other tables', async () => {
  const u = as('dog_reader');
  const read = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [1], get_attributes: ['name'] }, { auth: u });
  assert.deepEqual(read.body, [{ name: 'Rex' }]);
  const cond = await server.op({
    operation: 'search_by_conditions', database: 'dev', table: 'dog', conditions: [{ attribute: 'owner', comparator: 'equals', value: 'Ann' }],
  }, { auth: u });
  assert.equal(cond.status, 200);
  assert.equal(cond.body.length, 1);

  const ins = await server.op({ operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 2, name: 'Fido' }] }, { auth: u });
  assert.equal(ins.status, 403);
  assert.deepEqual(ins.body, {
    error: DENIED,
    unauthorized_access: [{ schema: 'dev', table: 'dog', required_table_permissions: ['insert'], required_attribute_permissions: [] }],
    invalid_schema_items: [],
  });
  const ups = await server.op({ operation: 'upsert', database: 'dev', table: 'dog', records: [{ id: 1, name: 'Max' }] }, { auth: u });
  assert.deepEqual(ups.body.unauthorized_access[0].required_table_permissions, ['insert', 'update']);
  const del = await server.op({ operation: 'delete', database: 'dev', table: 'dog', ids: [1] }, { auth: u });
  assert.equal(del.status, 403);
  assert.deepEqual(del.body.unauthorized_access[0].required_table_permissions, ['delete']);
  assert.deepEqual((await rows('dog')).map((r) => r.name), ['Rex']);

  const other = await server.op({ operation: 'search_by_id', database: 'dev', table: 'cat', ids: [1], get_attributes: ['*'] }, { auth: u });
  assert.equal(other.status, 403);
  assert.deepEqual(other.body, { error: DENIED, unauthorized_access: [], invalid_schema_items: ["Table 'dev.cat' does not exist"] });
  const otherDb = await server.op({ operation: 'search_by_value', table: 'breed', attribute: 'id', value: '*' }, { auth: u });
  assert.deepEqual(otherDb.body.invalid_schema_items, ["database 'data' does not exist"]);

  const dt = await server.op({ operation: 'describe_table', database: 'dev', table: 'dog' }, { auth: u });
  assert.equal(dt.body.name, 'dog');
  const dc = await server.op({ operation: 'describe_table', database: 'dev', table: 'cat' }, { auth: u });
  assert.deepEqual(dc.body, { error: DENIED, unauthorized_access: [], invalid_schema_items: ["Table 'dev.cat' does not exist"] });
  const all = await server.op({ operation: 'describe_all' }, { auth: u });
  assert.deepEqual(Object.keys(all.body), ['dev']);
  assert.deepEqual(Object.keys(all.body.dev), ['dog']);
  const sys = await server.op({ operation: 'describe_database', database: 'system' }, { auth: u });
  assert.equal(sys.status, 403);
  assert.deepEqual(sys.body, {
    error: DENIED, unauthorized_access: ["Your role does not have permission to view database metadata for 'system'"], invalid_schema_items: [],
  });
  const sysRead = await server.op({ operation: 'search_by_value', database: 'system', table: 'hdb_user', attribute: 'username', value: '*' }, { auth: u });
  assert.equal(sysRead.status, 403);
  assert.deepEqual(sysRead.body.invalid_schema_items, ["database 'system' does not exist"]);
});

test('a writer without read may insert and update but not read, and the delete-only grant deletes', async () => {
  const w = as('dog_writer');
  const ins = await server.op({ operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 10, name: 'Wally' }] }, { auth: w });
  assert.equal(ins.status, 200);
  assert.deepEqual(ins.body.inserted_hashes, [10]);
  const upd = await server.op({ operation: 'update', database: 'dev', table: 'dog', records: [{ id: 10, owner: 'Wes' }] }, { auth: w });
  assert.equal(upd.status, 200);
  const read = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [10], get_attributes: ['*'] }, { auth: w });
  assert.equal(read.status, 403);
  assert.deepEqual(read.body.unauthorized_access, [{ schema: 'dev', table: 'dog', required_table_permissions: ['read'], required_attribute_permissions: [] }]);
  const stored = (await rows('dog')).find((r) => r.id === 10);
  assert.equal(stored.owner, 'Wes');

  const d = as('dog_deleter');
  const del = await server.op({ operation: 'delete', database: 'dev', table: 'dog', ids: [10] }, { auth: d });
  assert.equal(del.status, 200);
  assert.equal((await rows('dog')).find((r) => r.id === 10), undefined);
});

test('attribute permissions narrow reads, refuse unlisted and ungranted attributes and the timestamps', async () => {
  const u = as('attr_limited');
  const star = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [1], get_attributes: ['*'] }, { auth: u });
  assert.equal(star.status, 200);
  assert.deepEqual(Object.keys(star.body[0]).sort(), ['id', 'name', 'owner']);
  const dflt = await server.op({ operation: 'search_by_value', database: 'dev', table: 'dog', attribute: 'name', value: 'Rex' }, { auth: u });
  assert.deepEqual(Object.keys(dflt.body[0]).sort(), ['id', 'name', 'owner']);

  const secret = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [1], get_attributes: ['secret'] }, { auth: u });
  assert.equal(secret.status, 403);
  assert.deepEqual(secret.body, {
    error: DENIED,
    unauthorized_access: [{ schema: 'dev', table: 'dog', required_table_permissions: [], required_attribute_permissions: [{ attribute_name: 'secret', required_permissions: ['read'] }] }],
    invalid_schema_items: [],
  });
  const bySecret = await server.op({
    operation: 'search_by_conditions', database: 'dev', table: 'dog', get_attributes: ['name'],
    conditions: [{ operator: 'and', conditions: [{ attribute: 'secret', comparator: 'starts_with', value: 's' }, { attribute: 'name', comparator: 'equals', value: 'Rex' }] }],
  }, { auth: u });
  assert.equal(bySecret.status, 403, 'a condition on an unreadable attribute would leak its value');

  const unlisted = await server.op({ operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 20, name: 'N', color: 'red' }] }, { auth: u });
  assert.equal(unlisted.status, 403);
  assert.deepEqual(unlisted.body.invalid_schema_items, ["Attribute 'color' does not exist on 'dev.dog'"]);
  const owner = await server.op({ operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 21, name: 'N', owner: 'O' }] }, { auth: u });
  assert.deepEqual(owner.body.unauthorized_access, [{
    schema: 'dev', table: 'dog', required_table_permissions: [],
    required_attribute_permissions: [{ attribute_name: 'owner', required_permissions: ['insert'] }],
  }]);
  const ts = await server.op({ operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 22, name: 'N', __createdtime__: 1 }] }, { auth: u });
  assert.equal(ts.status, 403);
  assert.deepEqual(ts.body, { error: "Internal timestamp attributes - '__createdtime_' and '__updatedtime__' - cannot be inserted to or updated by HDB users." });
  const ok = await server.op({ operation: 'insert', database: 'dev', table: 'dog', records: [{ id: 23, name: 'Allowed' }] }, { auth: u });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual((await rows('dog')).map((r) => r.id), [1, 23]);

  const desc = await server.op({ operation: 'describe_table', database: 'dev', table: 'dog' }, { auth: u });
  assert.deepEqual(desc.body.attributes.map((a) => a.attribute).sort(), ['id', 'name', 'owner']);
});

test('the data-database shorthand permission.<table> grants that table', async () => {
  const u = as('shorthand');
  const read = await server.op({ operation: 'search_by_id', table: 'breed', ids: [1], get_attributes: ['name'] }, { auth: u });
  assert.deepEqual(read.body, [{ name: 'collie' }]);
  const ins = await server.op({ operation: 'insert', table: 'breed', records: [{ id: 2, name: 'pug' }] }, { auth: u });
  assert.equal(ins.status, 200);
  const upd = await server.op({ operation: 'update', table: 'breed', records: [{ id: 2, name: 'boxer' }] }, { auth: u });
  assert.equal(upd.status, 403);
  assert.deepEqual((await rows('breed', 'data')).map((r) => r.name), ['collie', 'pug']);
  const all = await server.op({ operation: 'describe_all' }, { auth: u });
  assert.deepEqual(Object.keys(all.body), ['data']);
});

test('structure users create and drop tables in their databases only; only structure_user true creates databases', async () => {
  const s = as('structure_dev');
  const mk = await server.op({ operation: 'create_table', database: 'dev', table: 'fish', primary_key: 'id' }, { auth: s });
  assert.equal(mk.status, 200, JSON.stringify(mk.body));
  const attr = await server.op({ operation: 'create_attribute', database: 'dev', table: 'fish', attribute: 'fins' }, { auth: s });
  assert.equal(attr.status, 200);
  const elsewhere = await server.op({ operation: 'create_table', table: 'fish', primary_key: 'id' }, { auth: s });
  assert.equal(elsewhere.status, 403);
  assert.deepEqual(elsewhere.body, {
    error: DENIED, unauthorized_access: ["User does not have access to perform 'create_table' against schema 'data'"], invalid_schema_items: [],
  });
  const db = await server.op({ operation: 'create_database', database: 'other' }, { auth: s });
  assert.equal(db.status, 403);
  const drop = await server.op({ operation: 'drop_table', database: 'dev', table: 'fish' }, { auth: s });
  assert.equal(drop.status, 200);

  const all = as('structure_all');
  assert.equal((await server.op({ operation: 'create_database', database: 'other' }, { auth: all })).status, 200);
  assert.equal((await server.op({ operation: 'drop_database', database: 'other' }, { auth: all })).status, 200);
  const none = await server.op({ operation: 'create_table', database: 'dev', table: 'x', primary_key: 'id' }, { auth: as('dog_reader') });
  assert.deepEqual(none.body.unauthorized_access, ["Operation 'createTable' is restricted to 'super_user' roles"]);
  const desc = await server.op({ operation: 'describe_database', database: 'dev' });
  assert.deepEqual(Object.keys(desc.body).sort(), ['cat', 'dog']);
});

test('a role without grants sees nothing and a user whose role is gone may do nothing', async () => {
  const n = as('no_grants');
  const all = await server.op({ operation: 'describe_all' }, { auth: n });
  assert.deepEqual(all.body, {});
  const read = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [1], get_attributes: ['*'] }, { auth: n });
  assert.deepEqual(read.body.invalid_schema_items, ["database 'dev' does not exist"]);

  await server.op({ operation: 'add_role', role: 'temp', permission: ROLES.dog_reader });
  await server.op({ operation: 'add_user', username: 'orphan', password: 'orphan-pw', role: 'temp', active: false });
  assert.equal((await server.op({ operation: 'drop_role', id: 'temp' })).status, 200);
  await server.op({ operation: 'alter_user', username: 'orphan', active: true });
  const r = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [1], get_attributes: ['*'] }, { auth: as('orphan') });
  assert.equal(r.status, 403);
  assert.deepEqual(r.body, {
    error: DENIED, unauthorized_access: ['User orphan has no role or permissions.  Please assign the user a valid role.'], invalid_schema_items: [],
  });
});

test('user and role operations answer with the spec shapes and messages', async () => {
  const dup = await server.op({ operation: 'add_user', username: 'dog_reader', password: 'p', role: 'dog_reader', active: true });
  assert.equal(dup.status, 409);
  assert.deepEqual(dup.body, { error: 'User dog_reader already exists' });
  const noRole = await server.op({ operation: 'add_user', username: 'z', password: 'p', role: 'nope', active: true });
  assert.equal(noRole.status, 404);
  assert.deepEqual(noRole.body, { error: 'nope role not found' });
  const invalid = await server.op({ operation: 'add_user', username: 'z', password: 'p', role: 'dog_reader', active: 'yes' });
  assert.equal(invalid.status, 400);
  assert.deepEqual(invalid.body, { error: 'Active must be a boolean' });

  const alter = await server.op({ operation: 'alter_user', username: 'dog_reader', password: 'dog_reader-pw' });
  assert.equal(alter.body.message, 'updated 1 of 1 records');
  assert.deepEqual(alter.body.update_hashes, ['dog_reader']);
  assert.equal(typeof alter.body.txn_time, 'number');
  const ghost = await server.op({ operation: 'alter_user', username: 'ghost', active: true });
  assert.equal(ghost.body.message, 'updated 0 of 1 records');
  assert.deepEqual(ghost.body.skipped_hashes, ['ghost']);
  for (const [body, error] of [
    [{ username: 'dog_reader' }, 'nothing to update, must supply active, role or password to update'],
    [{ username: 'dog_reader', password: '' }, 'password cannot be an empty string'],
    [{ username: 'dog_reader', active: 'x' }, 'active must be true or false'],
    [{ username: 'dog_reader', role: '' }, 'If role is specified, it cannot be empty.'],
    [{ active: true }, 'username is required'],
  ]) {
    const r = await server.op({ operation: 'alter_user', ...body });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error });
  }
  const badRole = await server.op({ operation: 'alter_user', username: 'dog_reader', role: 'nope' });
  assert.equal(badRole.status, 404);
  assert.deepEqual(badRole.body, { error: "Update failed.  Requested 'nope' role not found." });

  const list = await server.op({ operation: 'list_users' });
  const reader = list.body.find((u) => u.username === 'dog_reader');
  for (const secret of ['password', 'hash', 'refresh_token', 'hash_function']) assert.equal(reader[secret], undefined);
  assert.equal(reader.role.role, 'dog_reader');
  assert.deepEqual(reader.role.permission.system.tables.hdb_user, { read: false, insert: false, update: false, delete: false, attribute_permissions: [] });
  const info = await server.op({ operation: 'user_info' }, { auth: as('dog_reader') });
  assert.equal(info.body.username, 'dog_reader');
  assert.equal(info.body.password, undefined);
  assert.equal(info.body.role.id, 'dog_reader');

  const roleDup = await server.op({ operation: 'add_role', role: 'dog_reader', permission: {} });
  assert.equal(roleDup.status, 409);
  assert.deepEqual(roleDup.body, { error: "A role with name 'dog_reader' already exists" });
  const bad = await server.op({
    operation: 'add_role', role: 'broken', foo: 1, bar: 2,
    permission: {
      super_user: 'yes', nodb: {},
      dev: { tables: { dog: { read: true, insert: 1, update: false, attribute_permissions: [{ attribute_name: 'nope', read: true, insert: true }] } } },
    },
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body, {
    error: 'Errors in the role permissions JSON provided',
    main_permissions: ["Invalid keys in JSON body - 'foo', 'bar'", "Value for 'super_user' permission must be a boolean", "database 'nodb' does not exist"],
    schema_permissions: {
      dev_dog: [
        'Table INSERT permission must be a boolean', 'Missing table DELETE permission',
        "Invalid attribute 'nope' in 'attribute_permissions'", "UPDATE attribute permission missing for 'nope'",
      ],
    },
  });
  const su = await server.op({ operation: 'add_role', role: 'su2', permission: { super_user: true, dev: {} } });
  assert.deepEqual(su.body.main_permissions, ["Roles with 'super_user' set to true cannot have other permissions set."]);
  assert.equal((await server.op({ operation: 'list_roles' })).body.some((r) => r.role === 'broken' || r.role === 'su2'), false);

  const altered = await server.op({ operation: 'alter_role', id: 'no_grants', permission: { dev: { tables: { cat: crud(true, false, false, false) } } } });
  assert.equal(altered.status, 200);
  assert.equal(altered.body.id, 'no_grants');
  const unknownRole = await server.op({ operation: 'alter_role', id: 'nope', permission: {} });
  assert.equal(unknownRole.status, 400);
  assert.deepEqual(unknownRole.body, { error: 'Invalid role id' });
  const inUse = await server.op({ operation: 'drop_role', id: 'dog_reader' });
  assert.equal(inUse.status, 409);
  assert.deepEqual(inUse.body, { error: 'Cannot drop role dog_reader as it has active user(s) tied to this role' });
  const gone = await server.op({ operation: 'drop_role', id: 'nope' });
  assert.equal(gone.status, 404);
  assert.deepEqual(gone.body, { error: 'Role not found' });
  const dropUser = await server.op({ operation: 'drop_user', username: 'nobody' });
  assert.equal(dropUser.status, 404);
  assert.deepEqual(dropUser.body, { error: 'User nobody does not exist' });
});
