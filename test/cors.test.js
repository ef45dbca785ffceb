// CORS on both ports as configured (spec §2.1, §4.7).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, ADMIN } from './harness.js';
import { makeApp, rawRequest } from './rest-app.js';

const basicAuth = 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');

describe('CORS with the default configuration (every origin)', () => {
  let server;
  let app;
  before(async () => {
    app = makeApp();
    server = await startServer({ app });
  });
  after(async () => {
    if (server) { await server.stop(); server.cleanup(); }
    fs.rmSync(app, { recursive: true, force: true });
  });

  it('answers an Operations API preflight with the allowed origin, methods and headers', async () => {
    const r = await rawRequest(server.opsPort, 'OPTIONS', '/', { Origin: 'https://studio.example', 'Access-Control-Request-Method': 'POST' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://studio.example');
    assert.equal(r.headers['access-control-allow-methods'], 'POST, GET, OPTIONS');
    assert.equal(r.headers['access-control-allow-headers'], 'Content-Type, Authorization, Accept');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
  });

  it('adds the allowed origin to Operations API and REST responses', async () => {
    const op = await server.op({ operation: 'describe_all' }, { headers: { Origin: 'https://a.example' } });
    assert.equal(op.status, 200);
    assert.equal(op.headers.get('access-control-allow-origin'), 'https://a.example');
    const rest = await server.rest('GET', '/Dog/', { headers: { Origin: 'https://a.example' } });
    assert.equal(rest.status, 200);
    assert.equal(rest.headers.get('access-control-allow-origin'), 'https://a.example');
    assert.equal(rest.headers.get('access-control-allow-credentials'), 'true');
    const none = await server.rest('GET', '/Dog/');
    assert.equal(none.headers.get('access-control-allow-origin'), null, 'no Origin, no CORS headers');
  });

  it('answers a REST preflight with the configured allowed headers, without authentication', async () => {
    const r = await rawRequest(server.httpPort, 'OPTIONS', '/Dog/1', { Origin: 'https://a.example', 'Access-Control-Request-Method': 'PUT' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.example');
    assert.equal(r.headers['access-control-allow-methods'], 'POST, GET, PUT, DELETE, PATCH, OPTIONS');
    assert.equal(r.headers['access-control-allow-headers'], 'Accept, Content-Type, Authorization');
  });
});

describe('CORS restricted by access lists, and switched off', () => {
  let server;
  let app;
  before(async () => {
    app = makeApp();
    server = await startServer({
      app,
      args: [
        '--OPERATIONSAPI_NETWORK_CORSACCESSLIST=["https://good.example"]',
        '--HTTP_CORSACCESSLIST=["https://good.example"]',
        '--HTTP_CORSACCESSCONTROLALLOWHEADERS=X-Custom, Authorization',
      ],
    });
  });
  after(async () => {
    if (server) { await server.stop(); server.cleanup(); }
    fs.rmSync(app, { recursive: true, force: true });
  });

  it('admits only listed origins on both ports', async () => {
    const good = await rawRequest(server.httpPort, 'OPTIONS', '/Dog/', { Origin: 'https://good.example', 'Access-Control-Request-Method': 'GET' });
    assert.equal(good.headers['access-control-allow-origin'], 'https://good.example');
    assert.equal(good.headers['access-control-allow-headers'], 'X-Custom, Authorization');
    const bad = await rawRequest(server.httpPort, 'GET', '/Dog/', { Origin: 'https://evil.example', Authorization: basicAuth });
    assert.equal(bad.status, 200);
    assert.equal(bad.headers['access-control-allow-origin'], undefined);
    const opsBad = await rawRequest(server.opsPort, 'OPTIONS', '/', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' });
    assert.equal(opsBad.headers['access-control-allow-origin'], undefined);
    assert.equal(opsBad.headers['access-control-allow-methods'], undefined);
    const opsGood = await server.op({ operation: 'describe_all' }, { headers: { Origin: 'https://good.example' } });
    assert.equal(opsGood.headers.get('access-control-allow-origin'), 'https://good.example');
  });
});

describe('CORS switched off', () => {
  let server;
  before(async () => {
    server = await startServer({ args: ['--OPERATIONSAPI_NETWORK_CORS=false'] });
  });
  after(async () => {
    if (server) { await server.stop(); server.cleanup(); }
  });

  it('sends no CORS headers on the Operations API', async () => {
    const r = await server.op({ operation: 'describe_all' }, { headers: { Origin: 'https://a.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });
});
