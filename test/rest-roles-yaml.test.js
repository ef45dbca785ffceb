// roles.yaml (spec §5.2): roles declared by an application are created at load (id = role = the key), in the compact
// or the full form, missing flags false, and updated in place when their content changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, tempRoot } from './harness.js';
import { makeApp } from './rest-app.js';

const ROLES = `
reader:
  data:
    Dog:
      read: true
      attributes:
        name: {read: true}
        age: {read: true}
writer:
  permission:
    super_user: false
    data:
      tables:
        Dog: {read: true, insert: true, update: true, attribute_permissions: []}
owners_admin:
  super_user: false
  people:
    tables:
      Owner: {read: true, delete: true}
broken:
  nowhere:
    Dog: {read: true}
`;

const READER_PERMISSION = {
  data: {
    tables: {
      Dog: {
        read: true, insert: false, update: false, delete: false,
        attribute_permissions: [
          { attribute_name: 'name', read: true, insert: false, update: false },
          { attribute_name: 'age', read: true, insert: false, update: false },
        ],
      },
    },
  },
  super_user: false,
};

async function addUser(server, username, role) {
  const res = await server.op({ operation: 'add_user', username, password: `pw-${username}`, role, active: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { username, password: `pw-${username}` };
}

test('roles.yaml roles are created at load and govern REST access of their users', async () => {
  const app = makeApp({ 'roles.yaml': ROLES });
  const server = await startServer({ app });
  try {
    assert.match(server.output, /Error loading roles of .*role broken/, 'the bad role is reported');
    const list = await server.op({ operation: 'list_roles' });
    assert.equal(list.status, 200);
    const byId = Object.fromEntries(list.body.map((r) => [r.id, r]));
    assert.equal(byId.broken, undefined, 'a role naming a missing database is skipped');

    // compact form: no tables: level, attributes -> attribute_permissions, missing flags false
    assert.equal(byId.reader.role, 'reader');
    assert.deepEqual(byId.reader.permission, READER_PERMISSION);
    assert.equal(typeof byId.reader.__createdtime__, 'number');
    // full form, delete left out -> false
    assert.equal(byId.writer.role, 'writer');
    assert.deepEqual(byId.writer.permission, {
      super_user: false, data: { tables: { Dog: { read: true, insert: true, update: true, delete: false, attribute_permissions: [] } } },
    });
    assert.deepEqual(byId.owners_admin.permission, {
      super_user: false, people: { tables: { Owner: { read: true, insert: false, update: false, delete: true, attribute_permissions: [] } } },
    });

    await server.rest('PUT', '/Dog/d1', { body: { name: 'Rex', breed: 'Lab', age: 3 } });
    const reader = await addUser(server, 'ria', 'reader');
    const got = await server.rest('GET', '/Dog/d1', { auth: reader });
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json, { id: 'd1', name: 'Rex', age: 3 }, 'only the attributes roles.yaml grants');
    const put = await server.rest('PUT', '/Dog/d2', { auth: reader, body: { name: 'No' } });
    assert.equal(put.status, 403);
    assert.equal(put.json, 'AccessViolation: Unauthorized access to resource');
    assert.equal((await server.rest('GET', '/owners/', { auth: reader })).status, 403);

    const writer = await addUser(server, 'wes', 'writer');
    assert.equal((await server.rest('PUT', '/Dog/d2', { auth: writer, body: { name: 'Yes' } })).status, 204);
    assert.equal((await server.rest('GET', '/Dog/d2')).json.name, 'Yes', 'the write happened');
    assert.equal((await server.rest('DELETE', '/Dog/d2', { auth: writer })).status, 403);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('a changed roles.yaml updates its roles in place at the next load; unchanged roles are left alone', async () => {
  const app = makeApp({ 'roles.yaml': ROLES });
  const root = tempRoot();
  let server = await startServer({ app, root });
  let before;
  try {
    before = Object.fromEntries((await server.op({ operation: 'list_roles' })).body.map((r) => [r.id, r]));
    await addUser(server, 'ria', 'reader');
  } finally {
    await server.stop();
  }
  fs.writeFileSync(path.join(app, 'roles.yaml'), ROLES
    .replace('      read: true\n      attributes:', '      read: true\n      insert: true\n      attributes:')
    .replace('name: {read: true}', 'name: {read: true, insert: true}'));
  server = await startServer({ app, root });
  try {
    const after = Object.fromEntries((await server.op({ operation: 'list_roles' })).body.map((r) => [r.id, r]));
    assert.equal(after.reader.permission.data.tables.Dog.insert, true, 'the new flag is stored');
    assert.equal(after.reader.__createdtime__, before.reader.__createdtime__, 'updated in place, not re-created');
    assert.ok(after.reader.__updatedtime__ > before.reader.__updatedtime__);
    assert.deepEqual(after.writer, before.writer, 'an unchanged role is not rewritten');
    assert.equal(Object.values(after).filter((r) => r.role === 'reader').length, 1);

    // the existing user of the role gets the new permission
    const ria = { username: 'ria', password: 'pw-ria' };
    const post = await server.rest('POST', '/Dog/', { auth: ria, body: { name: 'Newbie' } });
    assert.equal(post.status, 201, post.text);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('a config.yaml without the roles plugin ignores roles.yaml', async () => {
  const app = makeApp({ 'roles.yaml': ROLES, 'config.yaml': "rest: true\ngraphqlSchema:\n  files: '*.graphql'\n" });
  const server = await startServer({ app });
  try {
    const list = await server.op({ operation: 'list_roles' });
    assert.equal(list.body.some((r) => r.role === 'reader'), false);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
