// GET /openapi (application port) and GET /api/openapi/rest (operations port): the OpenAPI 3.0.3 description of the
// exported resources (spec §4.9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer } from './harness.js';
import { makeApp, addUser } from './rest-app.js';
import { crud } from './harness.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const RESOURCES = `
import { Resource } from 'weftdb';
export class Counter extends Resource {
  get() { return { n: 1 }; }
  post(data) { return data; }
}
`;

const RELATED = `
type Brand @table @export {
  id: ID @primaryKey
  name: String
  products: [Product] @relationship(to: brandId)
}
type Product @table @export {
  id: Int @primaryKey
  title: String!
  brandId: ID @indexed
  brand: Brand @relationship(from: brandId)
}
`;

test('GET /openapi describes every exported resource with its methods, schemas and the Location of POST', async () => {
  const app = makeApp({ 'resources.js': RESOURCES, 'related.graphql': RELATED });
  const server = await startServer({ app });
  try {
    const res = await server.rest('GET', '/openapi');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /application\/json/);
    const doc = res.json;
    assert.equal(doc.openapi, '3.0.3');
    assert.deepEqual(doc.info, { title: 'HarperDB HTTP REST interface', version: pkg.version });

    // a table: every method, with the pk as the path parameter
    assert.deepEqual(Object.keys(doc.paths['/Dog/']).sort(), ['delete', 'get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/Dog/{id}']).sort(), ['delete', 'get', 'patch', 'put']);
    assert.deepEqual(Object.keys(doc.paths['/Dog/{id}.{property}']), ['get']);
    assert.equal(doc.paths['/Dog/{id}'].get.parameters[0].name, 'id');
    assert.equal(doc.paths['/Dog/{id}'].get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/Dog');
    const created = doc.paths['/Dog/'].post.responses['201'];
    assert.ok(created.headers.Location, 'POST documents the Location header');
    // renamed export and a non-"id" primary key
    assert.ok(doc.paths['/owners/{ownerId}'], 'the export name is the path, the primary key its parameter');
    // not exported / REST disabled: absent
    assert.equal(Object.keys(doc.paths).some((p) => p.startsWith('/Internal') || p.startsWith('/Quiet')), false);

    // schemas from declared attributes with their types
    const dog = doc.components.schemas.Dog;
    assert.equal(dog.type, 'object');
    assert.deepEqual(dog.properties.name, { type: 'string' });
    assert.deepEqual(dog.properties.age, { type: 'integer', format: 'int32' });
    assert.deepEqual(dog.properties.weight, { type: 'number' });
    assert.deepEqual(dog.properties.tags, { type: 'array', items: { type: 'string' } });
    assert.deepEqual(dog.properties.born, { type: 'string', format: 'date-time' });
    assert.deepEqual(doc.components.schemas.Owner.required, ['name']);
    assert.deepEqual(doc.components.schemas.Owner.properties.active, { type: 'boolean' });
    // relationships refer to the related schema
    assert.deepEqual(doc.components.schemas.Product.properties.brand, { $ref: '#/components/schemas/Brand' });
    assert.deepEqual(doc.components.schemas.Brand.properties.products, { type: 'array', items: { $ref: '#/components/schemas/Product' } });

    // a custom resource: only the methods its class implements
    assert.deepEqual(Object.keys(doc.paths['/Counter/']).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/Counter/{id}']), ['get']);

    // every operation has responses; every $ref resolves
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(item)) assert.ok(op.responses && Object.keys(op.responses).length, `${m} ${p} has responses`);
    }
    for (const ref of JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g)) {
      assert.ok(doc.components.schemas[ref.split('/').pop()], `${ref} resolves`);
    }

    // the operations port serves the same document
    const auth = 'Basic ' + Buffer.from('admin:test-pass').toString('base64');
    const ops = await fetch(`${server.opsUrl}api/openapi/rest`, { headers: { Authorization: auth } });
    assert.equal(ops.status, 200);
    assert.deepEqual(await ops.json(), doc);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('the OpenAPI document is for super users only: others get 403 Forbidden, anonymous 401', async () => {
  const app = makeApp();
  const server = await startServer({ app });
  try {
    const reader = await addUser(server, 'reader', 'pw-reader', { super_user: false, data: { tables: { Dog: crud(true, true, true, true) } } });
    const res = await server.rest('GET', '/openapi', { auth: reader });
    assert.equal(res.status, 403);
    assert.equal(res.json, 'AccessViolation: Forbidden');
    assert.equal((await server.rest('GET', '/openapi', { auth: null })).status, 401);
    const auth = 'Basic ' + Buffer.from('reader:pw-reader').toString('base64');
    const ops = await fetch(`${server.opsUrl}api/openapi/rest`, { headers: { Authorization: auth } });
    assert.equal(ops.status, 403);
    assert.deepEqual(await ops.json(), { error: 'Forbidden' });
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
