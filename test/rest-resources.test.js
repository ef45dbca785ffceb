// Custom resources from an application's resources.js (spec §5.2, §5.3), importing Resource and tables from 'weftdb'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from './harness.js';
import { makeApp } from './rest-app.js';

const RESOURCES = `
import { Resource, tables } from 'weftdb';

export class Greeting extends Resource {
  allowRead() { return true; }
  get() { return { greeting: 'hello', id: this.getId(), user: this.getContext().user?.username ?? null }; }
}

export class DogStats extends Resource {
  async get(target) {
    let n = 0;
    for await (const dog of tables.Dog.search(target.toString())) n++;
    return { count: n };
  }
  async post(data) {
    const id = await tables.Dog.create(data);
    return { created: id };
  }
}

export class Teapot extends Resource {
  get() { const e = new Error('I am a teapot'); e.statusCode = 418; throw e; }
  put() { return { status: 202, headers: { 'X-Custom': 'yes' }, data: { accepted: true } }; }
}

export const nested = { Inner: class Inner extends Resource { get() { return 'inner'; } } };

export const notAResource = 42;
`;

test('resources.js classes become /<ExportName> resources using tables from weftdb', async () => {
  const app = makeApp({ 'resources.js': RESOURCES });
  const server = await startServer({ app });
  try {
    const hello = await server.rest('GET', '/Greeting/abc', { auth: null });
    assert.equal(hello.status, 200, hello.text);
    assert.deepEqual(hello.json, { greeting: 'hello', id: 'abc', user: null }, 'allowRead overridden: anonymous may read');
    assert.equal((await server.rest('GET', '/Greeting/x')).json.user, 'admin');

    assert.equal((await server.rest('GET', '/DogStats/', { auth: null })).status, 401, 'default allow* permit super users only');
    const created = await server.rest('POST', '/DogStats/', { body: { name: 'ViaResource', age: 4 } });
    assert.equal(created.status, 200);
    assert.match(created.json.created, /^[0-9a-f-]{36}$/);
    const viaRest = await server.rest('GET', `/Dog/${created.json.created}`);
    assert.equal(viaRest.json.name, 'ViaResource', 'the record was written to the Dog table');
    await server.rest('PUT', '/Dog/old', { body: { name: 'Old', age: 15 } });
    assert.deepEqual((await server.rest('GET', '/DogStats/?age=gt=10')).json, { count: 1 });

    const teapot = await server.rest('GET', '/Teapot/');
    assert.equal(teapot.status, 418);
    assert.equal(teapot.json, 'Error: I am a teapot');
    const put = await server.rest('PUT', '/Teapot/1', { body: { a: 1 } });
    assert.equal(put.status, 202);
    assert.equal(put.headers.get('x-custom'), 'yes');
    assert.deepEqual(put.json, { accepted: true });
    const del = await server.rest('DELETE', '/Teapot/1');
    assert.equal(del.status, 405);
    assert.equal(del.json, 'ClientError: The Teapot does not have a delete method implemented to handle HTTP method DELETE');
    assert.equal(del.headers.get('allow'), 'GET, PUT, TRACE, HEAD, OPTIONS');

    assert.equal((await server.rest('GET', '/nested/Inner')).json, 'inner');
    assert.equal((await server.rest('GET', '/notAResource')).status, 404);
    assert.ok(fs.lstatSync(path.join(app, 'node_modules', 'weftdb')).isSymbolicLink(), 'weftdb is linked into the application');
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('a broken schema is reported at start and the server still serves', async () => {
  const app = makeApp({ 'schema.graphql': 'type Broken @table {' });
  const server = await startServer({ app });
  try {
    assert.match(server.output, /Error loading application .*Error parsing schema.graphql/);
    const res = await server.op({ operation: 'describe_all' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
