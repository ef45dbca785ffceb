import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureJwtKeys, parseLifetime, TokenService } from './tokens.js';
import { sessionCookie, sessionCookieName, readCookie } from './sessions.js';

test('token lifetimes accept ms-library durations and bare seconds, and reject nonsense', () => {
  assert.equal(parseLifetime('1d'), 86_400_000);
  assert.equal(parseLifetime('30m'), 1_800_000);
  assert.equal(parseLifetime('12h'), 43_200_000);
  assert.equal(parseLifetime('2 days'), 172_800_000);
  assert.equal(parseLifetime(60), 60_000);
  assert.equal(parseLifetime('60'), 60_000);
  for (const bad of ['', 'soon', '-1d', 0, -5, {}, null, '1 fortnight']) assert.equal(parseLifetime(bad), undefined, String(bad));
});

test('tokens verify with the generated keys and are refused as the other kind', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-keys-'));
  try {
    assert.equal(await ensureJwtKeys(root, 2048), true);
    assert.equal(await ensureJwtKeys(root, 2048), false, 'existing keys are kept');
    const tokens = new TokenService(root);
    const op = await tokens.sign({ username: 'u', super_user: false }, 'operation', 60_000);
    const claims = await tokens.verify(op, 'operation');
    assert.equal(claims.username, 'u');
    assert.equal(claims.sub, 'operation');
    await assert.rejects(tokens.verify(op, 'refresh'), { message: 'invalid token' });
    // a second service reading the same directory (another worker) accepts the token
    assert.equal((await new TokenService(root).verify(op, 'operation')).username, 'u');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a root without keys gets one key pair on its first tokens, shared by concurrent first uses', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-keys-'));
  try {
    let made = 0;
    const tokens = new TokenService(root, async () => { made++; return ensureJwtKeys(root, 2048); });
    assert.equal(fs.existsSync(path.join(root, 'keys', '.jwtPublic.key')), false, 'nothing is made before a token is needed');
    const [a, b] = await Promise.all([
      tokens.sign({ username: 'a', super_user: false }, 'operation', 60_000),
      tokens.sign({ username: 'b', super_user: true }, 'operation', 60_000),
    ]);
    assert.equal(made, 1);
    const other = new TokenService(root);
    assert.equal((await other.verify(a, 'operation')).username, 'a');
    assert.equal((await other.verify(b, 'operation')).username, 'b');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the session cookie is named after the Origin or Host with only the first non-word character replaced', () => {
  assert.equal(sessionCookieName({ headers: { host: 'localhost:9926' }, secure: false }), 'localhost_9926-hdb-session');
  assert.equal(sessionCookieName({ headers: { origin: 'https://app.example.com', host: 'x' }, secure: false }), 'app_example.com-hdb-session');
  const local = sessionCookie({ headers: { host: 'localhost:9926' }, secure: false }, 'abc', {});
  assert.equal(local.cookie, 'localhost_9926-hdb-session=abc; Path=/; Expires=Tue, 01 Oct 8307 19:33:20 GMT; HttpOnly; SameSite=None; Secure');
  const remote = sessionCookie({ headers: { host: 'db.example.com' }, secure: false }, 'abc', { domains: ['.example.com'] });
  assert.equal(remote.cookie, 'db_example.com-hdb-session=abc; Path=/; Expires=Tue, 01 Oct 8307 19:33:20 GMT; HttpOnly; Domain=.example.com');
  assert.equal(remote.secure, false);
  assert.equal(readCookie({ headers: { cookie: 'a=1; localhost_9926-hdb-session=xyz' }, secure: false }, 'localhost_9926-hdb-session'), 'xyz');
});
