// Attempts that must fail: forged and expired tokens, a dropped user's token, stale permissions on another worker,
// and reading a table of another role through search operations (issue 4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { startServer } from './harness.js';

let server;
const bearer = (token) => ({ auth: null, headers: { Authorization: `Bearer ${token}` } });
const basic = ({ username, password }) => 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
const DENIED = 'This operation is not authorized due to role restrictions and/or invalid database items';

/** One request on its own TCP connection, so SO_REUSEPORT spreads a series of them over every worker. */
function freshConnection(body, auth) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1', port: server.opsPort, method: 'POST', path: '/', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), Authorization: basic(auth), Connection: 'close' },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Sign a token with the server's own key, as only the server could. */
async function serverSigned(payload, { sub = 'operation', exp }) {
  const dir = path.join(server.root, 'keys');
  const key = createPrivateKey({
    key: fs.readFileSync(path.join(dir, '.jwtPrivate.key'), 'utf8'), passphrase: fs.readFileSync(path.join(dir, '.jwtPass'), 'utf8').trim(),
  });
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256' }).setSubject(sub).setIssuedAt(exp - 3600).setExpirationTime(exp).sign(key);
}

before(async () => {
  server = await startServer({ threads: 2 });
  const setup = [
    { operation: 'create_table', table: 'dog', primary_key: 'id' },
    { operation: 'create_table', table: 'vault', primary_key: 'id' },
    { operation: 'insert', table: 'dog', records: [{ id: 1, name: 'Rex' }] },
    { operation: 'insert', table: 'vault', records: [{ id: 1, code: 'top-secret' }] },
    { operation: 'add_role', role: 'dog_role', permission: { data: { tables: { dog: { read: true, insert: false, update: false, delete: false, attribute_permissions: [] } } } } },
    { operation: 'add_role', role: 'vault_role', permission: { data: { tables: { vault: { read: true, insert: false, update: false, delete: false, attribute_permissions: [] } } } } },
    { operation: 'add_user', username: 'walker', password: 'walker-pw', role: 'dog_role', active: true },
    { operation: 'add_user', username: 'keeper', password: 'keeper-pw', role: 'vault_role', active: true },
  ];
  for (const body of setup) assert.equal((await server.op(body)).status, 200, JSON.stringify(body));
});

after(async () => {
  await server?.stop();
  server?.cleanup();
});

test('a token whose payload was altered, or signed with another key, or unsigned, is refused with 401 invalid token', async () => {
  const { operation_token: token } = (await server.op({ operation: 'create_authentication_tokens', username: 'walker', password: 'walker-pw' }, { auth: null })).body;
  assert.equal((await server.op({ operation: 'user_info' }, bearer(token))).status, 200);
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = Buffer.from(JSON.stringify({ ...payload, username: 'admin', super_user: true })).toString('base64url');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign = await new SignJWT({ username: 'admin', super_user: true }).setProtectedHeader({ alg: 'RS256' }).setSubject('operation')
    .setIssuedAt().setExpirationTime('1h').sign(privateKey);
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${forged}.`;
  for (const bad of [`${h}.${forged}.${s}`, foreign, none, 'garbage', `${h}.${p}.${s.slice(0, -4)}AAAA`]) {
    const r = await server.op({ operation: 'list_users' }, bearer(bad));
    assert.equal(r.status, 401, bad);
    assert.deepEqual(r.body, { error: 'invalid token' });
  }
  // and no write was made under the forged identity
  const drop = await server.op({ operation: 'drop_user', username: 'keeper' }, bearer(`${h}.${forged}.${s}`));
  assert.equal(drop.status, 401);
  assert.ok((await server.op({ operation: 'list_users' })).body.some((u) => u.username === 'keeper'));
});

test('an expired operation or refresh token gets 403 token expired', async () => {
  const past = Math.floor(Date.now() / 1000) - 60;
  const expired = await serverSigned({ username: 'walker', super_user: false }, { exp: past });
  const r = await server.op({ operation: 'user_info' }, bearer(expired));
  assert.equal(r.status, 403);
  assert.deepEqual(r.body, { error: 'token expired' });
  const expiredRefresh = await serverSigned({ username: 'walker', super_user: false }, { sub: 'refresh', exp: past });
  const rr = await server.op({ operation: 'refresh_operation_token', refresh_token: expiredRefresh }, { auth: null });
  assert.equal(rr.status, 403);
  assert.deepEqual(rr.body, { error: 'token expired' });
  // a token carrying a role claim is reserved for components and never an operation token
  const withRole = await serverSigned({ username: 'admin', super_user: true, role: 'super_user' }, { exp: past + 7200 });
  assert.equal((await server.op({ operation: 'user_info' }, bearer(withRole))).status, 401);
});

test("a dropped user's operation and refresh tokens are refused on every worker", async () => {
  await server.op({ operation: 'add_user', username: 'leaver', password: 'leaver-pw', role: 'dog_role', active: true });
  const tokens = (await server.op({ operation: 'create_authentication_tokens', username: 'leaver', password: 'leaver-pw' }, { auth: null })).body;
  for (let i = 0; i < 6; i++) assert.equal((await server.op({ operation: 'user_info' }, bearer(tokens.operation_token))).status, 200);
  assert.deepEqual((await server.op({ operation: 'drop_user', username: 'leaver' })).body, { message: 'leaver successfully deleted' });
  for (let i = 0; i < 20; i++) {
    const r = await server.op({ operation: 'user_info' }, { ...bearer(tokens.operation_token), headers: { Authorization: `Bearer ${tokens.operation_token}`, Connection: 'close' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: 'invalid token' });
  }
  const refresh = await server.op({ operation: 'refresh_operation_token', refresh_token: tokens.refresh_token }, { auth: null });
  assert.equal(refresh.status, 401);
});

test('a role change takes effect immediately on every worker', async () => {
  const walker = { username: 'walker', password: 'walker-pw' };
  const read = { operation: 'search_by_id', table: 'dog', ids: [1], get_attributes: ['name'] };
  const grant = (readFlag) => server.op({
    operation: 'alter_role', id: 'dog_role',
    permission: { data: { tables: { dog: { read: readFlag, insert: false, update: false, delete: true, attribute_permissions: [] } } } },
  });
  for (let round = 0; round < 3; round++) {
    // warm every worker's authentication cache with the current grant
    for (let i = 0; i < 10; i++) assert.equal((await freshConnection(read, walker)).status, 200);
    assert.equal((await grant(false)).status, 200);
    for (let i = 0; i < 30; i++) {
      const r = await freshConnection(read, walker);
      assert.equal(r.status, 403, `round ${round} request ${i}`);
      assert.deepEqual(r.body.unauthorized_access, [{ schema: 'data', table: 'dog', required_table_permissions: ['read'], required_attribute_permissions: [] }]);
    }
    assert.equal((await grant(true)).status, 200);
    for (let i = 0; i < 30; i++) assert.equal((await freshConnection(read, walker)).status, 200, `round ${round} request ${i}`);
  }
  // a password change and deactivation are just as immediate
  assert.equal((await server.op({ operation: 'alter_user', username: 'walker', active: false })).status, 200);
  for (let i = 0; i < 20; i++) {
    const r = await freshConnection(read, walker);
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: 'Cannot complete request: User is inactive' });
  }
  assert.equal((await server.op({ operation: 'alter_user', username: 'walker', active: true })).status, 200);
  assert.equal((await freshConnection(read, walker)).status, 200);
  // two workers were serving: 200+ requests on fresh connections spread over both (SO_REUSEPORT hashing)
  const threads = await server.op({ operation: 'system_information', attributes: ['threads'] });
  assert.equal(threads.body.threads.filter((t) => t.slot >= 0).length, 2);
});

test("another role's table cannot be read through search_by_conditions, search_by_value or search_by_id", async () => {
  const walker = { username: 'walker', password: 'walker-pw' };
  const attempts = [
    { operation: 'search_by_conditions', table: 'vault', conditions: [{ attribute: 'code', comparator: 'starts_with', value: 'top' }] },
    { operation: 'search_by_conditions', table: 'vault', operator: 'or', get_attributes: ['*'], conditions: [{ attribute: 'id', comparator: 'greater_than', value: 0 }, { attribute: 'code', comparator: 'contains', value: 'e' }] },
    { operation: 'search_by_value', table: 'vault', attribute: 'code', value: '*' },
    { operation: 'search_by_id', table: 'vault', ids: [1], get_attributes: ['*'] },
    { operation: 'search_by_hash', schema: 'data', table: 'vault', hash_values: [1], get_attributes: ['code'] },
    { operation: 'describe_table', table: 'vault' },
  ];
  for (const body of attempts) {
    const r = await freshConnection(body, walker);
    assert.equal(r.status, 403, body.operation);
    assert.deepEqual(r.body, { error: DENIED, unauthorized_access: [], invalid_schema_items: ["Table 'data.vault' does not exist"] });
  }
  const own = await freshConnection({ operation: 'search_by_conditions', table: 'vault', conditions: [{ attribute: 'code', comparator: 'starts_with', value: 'top' }] }, { username: 'keeper', password: 'keeper-pw' });
  assert.equal(own.status, 200);
  assert.equal(own.body[0].code, 'top-secret');
});

test('a super user writing system.hdb_user directly also ends cached logins on every worker', async () => {
  const keeper = { username: 'keeper', password: 'keeper-pw' };
  const read = { operation: 'search_by_id', table: 'vault', ids: [1], get_attributes: ['id'] };
  for (let i = 0; i < 10; i++) assert.equal((await freshConnection(read, keeper)).status, 200);
  const upd = await server.op({ operation: 'update', database: 'system', table: 'hdb_user', records: [{ username: 'keeper', active: false }] });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  for (let i = 0; i < 20; i++) assert.equal((await freshConnection(read, keeper)).status, 401);
});
