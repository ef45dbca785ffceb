// Limits with clear errors: failed-login throttling, oversized headers, slow-loris clients (issue 4, docs/security.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, ADMIN } from './harness.js';

let server;

before(async () => {
  server = await startServer({
    args: ['--OPERATIONSAPI_NETWORK_HEADERSTIMEOUT=1500', '--AUTHENTICATION_THROTTLE_MAXFAILURESPERUSER=5', '--AUTHENTICATION_THROTTLE_MAXFAILURESPERADDRESS=1000'],
  });
  await server.op({ operation: 'add_role', role: 'plain', permission: {} });
  for (const u of ['target', 'bystander']) {
    await server.op({ operation: 'add_user', username: u, password: `${u}-pw`, role: 'plain', active: true });
  }
});

after(async () => {
  await server?.stop();
  server?.cleanup();
});

test('after the configured number of failed logins a user is locked out with 429, whatever the credential path', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await server.op({ operation: 'user_info' }, { auth: { username: 'target', password: `guess-${i}` } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: 'Login failed' });
  }
  const basic = await server.op({ operation: 'user_info' }, { auth: { username: 'target', password: 'target-pw' } });
  assert.equal(basic.status, 429);
  assert.match(basic.body.error, /^Too many failed login attempts\. Try again in \d+ seconds\.$/);
  const login = await server.op({ operation: 'login', username: 'target', password: 'target-pw' }, { auth: null });
  assert.equal(login.status, 429);
  const tokens = await server.op({ operation: 'create_authentication_tokens', username: 'target', password: 'target-pw' }, { auth: null });
  assert.equal(tokens.status, 429);
  // other users from the same address are not affected
  const other = await server.op({ operation: 'user_info' }, { auth: { username: 'bystander', password: 'bystander-pw' } });
  assert.equal(other.status, 200);
  assert.equal(other.body.username, 'bystander');
});

test('an oversized header is refused with 431 and the server keeps serving', async () => {
  const r = await fetch(server.opsUrl, { method: 'POST', headers: { 'X-Big': 'a'.repeat(20_000), 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(r.status, 431);
  assert.deepEqual(await r.json(), { error: 'Request header fields too large' });
  assert.equal((await server.op({ operation: 'user_info' })).status, 200);
});

test('slow-loris clients sending headers byte by byte neither block other requests nor keep their sockets', async () => {
  const head = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Padding: ${'p'.repeat(200)}\r\n`;
  const clients = [];
  for (let i = 0; i < 20; i++) {
    const socket = net.connect(server.opsPort, '127.0.0.1');
    let pos = 0;
    let received = '';
    socket.on('data', (c) => { received += c; });
    socket.on('error', () => {});
    const timer = setInterval(() => { if (pos < head.length && !socket.destroyed) socket.write(head[pos++]); }, 50);
    const closed = new Promise((resolve) => socket.on('close', () => { clearInterval(timer); resolve(received); }));
    clients.push({ socket, closed, timer });
  }
  try {
    for (let i = 0; i < 20; i++) {
      const r = await server.op({ operation: 'user_info' });
      assert.equal(r.status, 200);
      assert.equal(r.body.username, 'admin');
    }
    // the server cuts each slow client off once headersTimeout (1.5 s) has passed without complete headers
    const outcomes = await Promise.all(clients.map((c) => c.closed));
    for (const text of outcomes) assert.ok(text === '' || text.startsWith('HTTP/1.1 408'), text);
    assert.equal((await server.op({ operation: 'user_info' })).status, 200);
  } finally {
    for (const c of clients) { clearInterval(c.timer); c.socket.destroy(); }
  }
});

test('an overlong REST query string is refused with 431 before it is parsed, and the server keeps answering', async () => {
  const server = await startServer();
  try {
    const auth = 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');
    const res = await fetch(`${server.httpUrl}Thing/?name=${'x'.repeat(20_000)}`, { headers: { Authorization: auth } });
    assert.equal(res.status, 431);
    assert.deepEqual(await res.json(), { error: 'Request header fields too large' });
    const health = await fetch(`${server.opsUrl}health`);
    assert.equal(await health.text(), 'HarperDB is running.');
  } finally {
    await server.stop();
    server.cleanup();
  }
});
