// HTTPS on the secure ports (spec §1.1, §1.3, §7.3): a CA and certificate generated at install, both secure ports
// served by every worker through the shared sockets, same credentials, and Secure session cookies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { startServer, ADMIN } from './harness.js';
import { makeApp } from './rest-app.js';

function securePort(server, name) {
  const m = new RegExp(`${name}: (?:[^,]*:)?(\\d+)`).exec(/Listening:\s+(.*)/.exec(server.output)?.[1] ?? '');
  return Number(m?.[1]);
}

/** An HTTPS request trusting only `ca`. */
function request(port, method, urlPath, { ca, body, headers = {}, auth = ADMIN } = {}) {
  const h = { ...headers };
  if (auth) h.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload) h['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: urlPath, headers: h, ca, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, json, text, authorized: res.socket.authorized });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('TLS on the secure ports', () => {
  let server;
  let app;
  let ca;
  let opsTls;
  let httpTls;
  before(async () => {
    app = makeApp();
    server = await startServer({
      app, threads: 2,
      // bare 0 (all interfaces): a secure port equal to the plain one would disable the plain one (Harper's rule)
      args: ['--OPERATIONSAPI_NETWORK_SECUREPORT=0', '--HTTP_SECUREPORT=0'],
    });
    ca = fs.readFileSync(path.join(server.root, 'keys', 'ca.pem'));
    opsTls = securePort(server, 'operations-secure');
    httpTls = securePort(server, 'http-secure');
  });
  after(async () => {
    if (server) { await server.stop(); server.cleanup(); }
    fs.rmSync(app, { recursive: true, force: true });
  });

  it('generates a CA and a server certificate signed by it in <root>/keys at install', () => {
    const keys = path.join(server.root, 'keys');
    for (const f of ['ca.pem', 'certificate.pem', 'privateKey.pem']) assert.ok(fs.existsSync(path.join(keys, f)), f);
    const caCert = new X509Certificate(ca);
    const cert = new X509Certificate(fs.readFileSync(path.join(keys, 'certificate.pem')));
    assert.equal(caCert.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(cert.verify(caCert.publicKey), 'the certificate is signed by the CA');
    assert.match(cert.subjectAltName, /DNS:localhost/);
    assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
    assert.equal((fs.statSync(path.join(keys, 'privateKey.pem')).mode & 0o077), 0, 'the private key is readable by its owner only');
  });

  it('serves the Operations API over HTTPS with the generated certificate, trusted through ca.pem', async () => {
    assert.ok(opsTls > 0 && httpTls > 0, server.output);
    for (let i = 0; i < 4; i++) {
      const r = await request(opsTls, 'POST', '/', { ca, body: { operation: 'describe_all' } });
      assert.equal(r.status, 200);
      assert.equal(r.authorized, true);
      assert.ok(r.json.data.Dog, 'the application table is described');
    }
    const none = await request(opsTls, 'POST', '/', { ca, auth: null, body: { operation: 'describe_all' } });
    assert.equal(none.status, 401);
    assert.deepEqual(none.json, { error: 'Must login' });
  });

  it('serves REST over HTTPS on the application secure port, and the plain ports keep working', async () => {
    const put = await request(httpTls, 'PUT', '/Dog/tls1', { ca, body: { name: 'Secure' } });
    assert.equal(put.status, 204);
    const get = await request(httpTls, 'GET', '/Dog/tls1', { ca });
    assert.equal(get.status, 200);
    assert.equal(get.json.name, 'Secure');
    assert.equal((await server.rest('GET', '/Dog/tls1')).json.name, 'Secure');
    assert.equal((await server.op({ operation: 'describe_table', table: 'Dog' })).status, 200);
  });

  it('sets a Secure SameSite=None session cookie on HTTPS login, and that cookie authenticates REST over HTTPS', async () => {
    const headers = { Origin: 'https://app.example' };
    const login = await request(opsTls, 'POST', '/', { ca, auth: null, headers, body: { operation: 'login', username: ADMIN.username, password: ADMIN.password } });
    assert.equal(login.status, 200, login.text);
    const setCookie = login.headers['set-cookie'][0];
    assert.match(setCookie, /; SameSite=None; Secure$/);
    assert.equal(login.headers['x-hdb-session'], 'Secure');
    const cookie = setCookie.split(';')[0];
    const r = await request(httpTls, 'GET', '/Dog/tls1', { ca, auth: null, headers: { ...headers, Cookie: cookie } });
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'Secure');
  });

  it('refuses a client that does not trust the certificate', async () => {
    await assert.rejects(request(opsTls, 'POST', '/', { body: { operation: 'describe_all' } }), /self[- ]signed|unable to verify|certificate/i);
  });
});
