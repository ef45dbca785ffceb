// JWT operation/refresh tokens and login/logout session cookies (spec §2.12, §7.2, §7.3).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from './harness.js';

let server;
const bearer = (token) => ({ auth: null, headers: { Authorization: `Bearer ${token}` } });
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

before(async () => {
  server = await startServer({ args: ['--AUTHENTICATION_OPERATIONTOKENTIMEOUT=2h', '--AUTHENTICATION_REFRESHTOKENTIMEOUT=7d'] });
  await server.op({ operation: 'add_role', role: 'plain', permission: {} });
  await server.op({ operation: 'add_user', username: 'alice', password: 'alice-pw', role: 'plain', active: true });
  await server.op({ operation: 'add_user', username: 'idle', password: 'idle-pw', role: 'plain', active: false });
});

after(async () => {
  await server?.stop();
  server?.cleanup();
});

test('the key pair is created in <root>/keys in the layout Harper uses (made on the first token operation, not at start-up)', async () => {
  const r = await server.op({ operation: 'create_authentication_tokens', username: 'alice', password: 'alice-pw' }, { auth: null });
  assert.equal(r.status, 200);
  const dir = path.join(server.root, 'keys');
  for (const f of ['.jwtPrivate.key', '.jwtPublic.key', '.jwtPass']) assert.ok(fs.existsSync(path.join(dir, f)), f);
  assert.match(fs.readFileSync(path.join(dir, '.jwtPrivate.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.match(fs.readFileSync(path.join(dir, '.jwtPublic.key'), 'utf8'), /BEGIN PUBLIC KEY/);
});

test('create_authentication_tokens with body credentials returns RS256 tokens whose lifetimes come from config', async () => {
  const r = await server.op({ operation: 'create_authentication_tokens', username: 'alice', password: 'alice-pw' }, { auth: null });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body).sort(), ['operation_token', 'refresh_token']);
  const header = JSON.parse(Buffer.from(r.body.operation_token.split('.')[0], 'base64url').toString());
  assert.equal(header.alg, 'RS256');
  const op = claims(r.body.operation_token), ref = claims(r.body.refresh_token);
  assert.deepEqual([op.username, op.super_user, op.sub, op.exp - op.iat], ['alice', false, 'operation', 7200]);
  assert.deepEqual([ref.sub, ref.exp - ref.iat], ['refresh', 7 * 86400]);
  const info = await server.op({ operation: 'user_info' }, bearer(r.body.operation_token));
  assert.equal(info.status, 200);
  assert.equal(info.body.username, 'alice');
  // the refresh token hash is stored on the user but never shown
  const users = await server.op({ operation: 'list_users' });
  assert.equal(users.body.find((u) => u.username === 'alice').refresh_token, undefined);
  const stored = await server.op({ operation: 'search_by_id', database: 'system', table: 'hdb_user', ids: ['alice'], get_attributes: ['*'] });
  assert.equal(typeof stored.body[0].refresh_token, 'string');
  assert.notEqual(stored.body[0].refresh_token, r.body.refresh_token);
});

test('expires_in overrides the operation token lifetime', async () => {
  const r = await server.op({ operation: 'create_authentication_tokens', username: 'alice', password: 'alice-pw', expires_in: '30m' }, { auth: null });
  const c = claims(r.body.operation_token);
  assert.equal(c.exp - c.iat, 1800);
  const bad = await server.op({ operation: 'create_authentication_tokens', username: 'alice', password: 'alice-pw', expires_in: {} }, { auth: null });
  assert.equal(bad.status, 400);
});

test('without body credentials the caller identity is used, and with none the answer is 401 Must login', async () => {
  const r = await server.op({ operation: 'create_authentication_tokens' });
  assert.equal(r.status, 200);
  assert.equal(claims(r.body.operation_token).username, 'admin');
  assert.equal(claims(r.body.operation_token).super_user, true);
  const none = await server.op({ operation: 'create_authentication_tokens' }, { auth: null });
  assert.equal(none.status, 401);
  assert.deepEqual(none.body, { error: 'Must login' });
});

test('bad credentials, inactive users and non-string fields are refused', async () => {
  for (const body of [{ username: 'alice', password: 'wrong' }, { username: 'nobody', password: 'x' }, { username: 'idle', password: 'idle-pw' }]) {
    const r = await server.op({ operation: 'create_authentication_tokens', ...body }, { auth: null });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: 'invalid credentials' });
  }
  const typed = await server.op({ operation: 'create_authentication_tokens', username: 5, password: 'x' }, { auth: null });
  assert.equal(typed.status, 400);
});

test('refresh_operation_token accepts the latest refresh token in the body or as Bearer, nothing else', async () => {
  const first = (await server.op({ operation: 'create_authentication_tokens', username: 'alice', password: 'alice-pw' }, { auth: null })).body;
  const viaBody = await server.op({ operation: 'refresh_operation_token', refresh_token: first.refresh_token }, { auth: null });
  assert.equal(viaBody.status, 200);
  assert.deepEqual(Object.keys(viaBody.body), ['operation_token']);
  assert.equal((await server.op({ operation: 'user_info' }, bearer(viaBody.body.operation_token))).body.username, 'alice');
  const viaBearer = await server.op({ operation: 'refresh_operation_token' }, bearer(first.refresh_token));
  assert.equal(viaBearer.status, 200);

  const missing = await server.op({ operation: 'refresh_operation_token' }, { auth: null });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body, { error: "'refresh_token' is required" });
  const opAsRefresh = await server.op({ operation: 'refresh_operation_token', refresh_token: first.operation_token }, { auth: null });
  assert.equal(opAsRefresh.status, 401);
  assert.deepEqual(opAsRefresh.body, { error: 'invalid token' });
  const refreshAsOp = await server.op({ operation: 'user_info' }, bearer(first.refresh_token));
  assert.equal(refreshAsOp.status, 401);
  assert.deepEqual(refreshAsOp.body, { error: 'invalid token' });

  // a newer create_authentication_tokens makes the older refresh token invalid
  await server.op({ operation: 'create_authentication_tokens', username: 'alice', password: 'alice-pw' }, { auth: null });
  const stale = await server.op({ operation: 'refresh_operation_token', refresh_token: first.refresh_token }, { auth: null });
  assert.equal(stale.status, 401);
  assert.deepEqual(stale.body, { error: 'invalid token' });
});

test('login sets the session cookie that then authenticates, and logout ends the session', async () => {
  const origin = `http://localhost:${server.opsPort}`;
  const bad = await server.op({ operation: 'login', username: 'alice', password: 'nope' }, { auth: null, headers: { Origin: origin } });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.body, { error: 'Login failed' });

  const r = await server.op({ operation: 'login', username: 'alice', password: 'alice-pw' }, { auth: null, headers: { Origin: origin } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { message: 'Login successful' });
  const setCookie = r.headers.get('set-cookie');
  assert.match(setCookie, new RegExp(`^localhost_${server.opsPort}-hdb-session=[0-9a-f-]{36}; Path=/; Expires=Tue, 01 Oct 8307 19:33:20 GMT; HttpOnly; SameSite=None; Secure$`));
  assert.equal(r.headers.get('x-hdb-session'), 'Secure');
  assert.equal(r.headers.get('access-control-expose-headers'), 'X-Hdb-Session');
  const cookie = setCookie.split(';')[0];
  const id = cookie.split('=')[1];
  const session = await server.op({ operation: 'search_by_id', database: 'system', table: 'hdb_session', ids: [id], get_attributes: ['*'] });
  assert.equal(session.body[0].user, 'alice');

  const info = await server.op({ operation: 'user_info' }, { auth: null, headers: { Origin: origin, Cookie: cookie } });
  assert.equal(info.status, 200);
  assert.equal(info.body.username, 'alice');
  const out = await server.op({ operation: 'logout' }, { auth: null, headers: { Origin: origin, Cookie: cookie } });
  assert.deepEqual(out.body, { message: 'Logout successful' });
  const after = await server.op({ operation: 'user_info' }, { auth: null, headers: { Origin: origin, Cookie: cookie } });
  assert.equal(after.status, 401);
  assert.deepEqual(after.body, { error: 'Must login' });
  const cleared = await server.op({ operation: 'search_by_id', database: 'system', table: 'hdb_session', ids: [id], get_attributes: ['*'] });
  assert.equal(cleared.body[0].user, null);
});
