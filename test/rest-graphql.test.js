// /graphql (spec §4.10): `graphql: true` in config.yaml makes the app's exported tables queryable with GraphQL:
// top-level arguments filter, selection sets choose attributes, relationships resolve nested selections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, crud } from './harness.js';
import { makeApp, addUser } from './rest-app.js';

const CONFIG = `rest: true
graphqlSchema:
  files: '*.graphql'
graphql: true
`;

const RELATED = `
type Brand @table @export {
  id: ID @primaryKey
  name: String @indexed
  products: [Product] @relationship(to: brandId)
}
type Product @table @export {
  id: Int @primaryKey
  title: String
  price: Float
  brandId: ID @indexed
  brand: Brand @relationship(from: brandId)
}
`;

async function gql(server, query, { variables, auth, accept, method = 'POST' } = {}) {
  const headers = {};
  if (accept) headers.Accept = accept;
  if (method === 'GET') {
    const qs = new URLSearchParams({ query, ...(variables ? { variables: JSON.stringify(variables) } : {}) });
    return server.rest('GET', `/graphql?${qs}`, { headers, auth });
  }
  return server.rest('POST', '/graphql', { body: { query, variables }, headers, auth });
}

async function seed(server) {
  for (const [path, body] of [
    ['/Brand/b1', { name: 'Acme' }], ['/Brand/b2', { name: 'Zenith' }],
    ['/Product/1', { title: 'Anvil', price: 10, brandId: 'b1' }],
    ['/Product/2', { title: 'Rocket', price: 99.5, brandId: 'b1' }],
    ['/Product/3', { title: 'Watch', price: 50, brandId: 'b2' }],
    ['/Dog/d1', { name: 'Rex', breed: 'Lab', age: 3, tags: ['good', 'big'] }],
    ['/Dog/d2', { name: 'Fido', breed: 'Pug', age: 5, tags: ['small'] }],
  ]) {
    const r = await server.rest('PUT', path, { body });
    assert.equal(r.status, 204, r.text);
  }
}

test('POST and GET /graphql query exported tables with argument filters, selections and relationships', async () => {
  const app = makeApp({ 'config.yaml': CONFIG, 'related.graphql': RELATED });
  const server = await startServer({ app });
  try {
    await seed(server);
    const all = await gql(server, '{ Dog { id name } }');
    assert.equal(all.status, 200, all.text);
    assert.match(all.headers.get('content-type'), /application\/json/);
    assert.deepEqual(all.json.data.Dog.sort((a, b) => a.id.localeCompare(b.id)), [{ id: 'd1', name: 'Rex' }, { id: 'd2', name: 'Fido' }],
      'only the selected attributes');

    const filtered = await gql(server, '{ Dog(breed: "Pug") { name age } }');
    assert.deepEqual(filtered.json, { data: { Dog: [{ name: 'Fido', age: 5 }] } });
    const byTag = await gql(server, '{ Dog(tags: "big") { name tags } }');
    assert.deepEqual(byTag.json, { data: { Dog: [{ name: 'Rex', tags: ['good', 'big'] }] } }, 'an array attribute matches any element');
    const two = await gql(server, '{ Dog(breed: "Pug", age: 3) { name } }');
    assert.deepEqual(two.json, { data: { Dog: [] } }, 'several arguments are ANDed');

    const withVars = await gql(server, 'query Q($p: Int) { Product(id: $p) { id title price } }', { variables: { p: 2 } });
    assert.deepEqual(withVars.json, { data: { Product: [{ id: 2, title: 'Rocket', price: 99.5 }] } });
    const viaGet = await gql(server, '{ Product(id: 1) { title } }', { method: 'GET' });
    assert.equal(viaGet.status, 200);
    assert.deepEqual(viaGet.json, { data: { Product: [{ title: 'Anvil' }] } });

    // many-to-one and one-to-many relationships, nested further
    const nested = await gql(server, '{ Product(brandId: "b2") { title brand { name products { id } } } }');
    assert.deepEqual(nested.json, { data: { Product: [{ title: 'Watch', brand: { name: 'Zenith', products: [{ id: 3 }] } }] } });
    const oneToMany = await gql(server, '{ Brand(name: "Acme") { id products { title } } }');
    assert.deepEqual(oneToMany.json.data.Brand[0].products.map((p) => p.title).sort(), ['Anvil', 'Rocket']);

    // two tables in one query
    const both = await gql(server, '{ Brand(id: "b1") { name } Dog(name: "Rex") { breed } }');
    assert.deepEqual(both.json, { data: { Brand: [{ name: 'Acme' }], Dog: [{ breed: 'Lab' }] } });
    // a table that is not exported is not part of the schema
    const hidden = await gql(server, '{ Internal { id } }');
    assert.equal(hidden.status, 200);
    assert.match(hidden.json.errors[0].message, /Cannot query field "Internal" on type "Query"/);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('invalid GraphQL answers {errors:[{message}]}: 200 with plain JSON, 400 with application/graphql-response+json', async () => {
  const app = makeApp({ 'config.yaml': CONFIG, 'related.graphql': RELATED });
  const server = await startServer({ app });
  try {
    const syntax = await gql(server, '{ Dog { name ');
    assert.equal(syntax.status, 200);
    assert.equal(syntax.json.data, undefined);
    assert.match(syntax.json.errors[0].message, /^Syntax Error/);
    const strict = await gql(server, '{ Dog { name ', { accept: 'application/graphql-response+json' });
    assert.equal(strict.status, 400);
    assert.match(strict.headers.get('content-type'), /application\/graphql-response\+json/);
    assert.match(strict.json.errors[0].message, /^Syntax Error/);

    const unknownField = await gql(server, '{ Dog { nope } }', { accept: 'application/graphql-response+json' });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.json.errors[0].message, /^Cannot query field "nope" on type "Dog"./);
    const badArg = await gql(server, '{ Dog(age: "old") { name } }', { accept: 'application/graphql-response+json' });
    assert.equal(badArg.status, 400);
    assert.match(badArg.json.errors[0].message, /Int cannot represent non-integer value/);

    const noQuery = await server.rest('POST', '/graphql', { body: {} });
    assert.equal(noQuery.status, 400);
    assert.deepEqual(noQuery.json, { errors: [{ message: 'Must provide query string.' }] });
    const badJson = await server.rest('POST', '/graphql', { raw: '{not json', headers: { 'Content-Type': 'application/json' } });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.errors.length, 1);
    const put = await server.rest('PUT', '/graphql', { body: { query: '{ Dog { id } }' } });
    assert.equal(put.status, 405);
    assert.ok(put.json.errors[0].message);
    // the server is still serving
    assert.equal((await gql(server, '{ Dog { id } }')).status, 200);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('GraphQL reads obey table permissions: no read, no related read, narrowed attributes, anonymous 401', async () => {
  const app = makeApp({ 'config.yaml': CONFIG, 'related.graphql': RELATED });
  const server = await startServer({ app });
  try {
    await seed(server);
    const user = await addUser(server, 'shopper', 'pw-shopper', {
      super_user: false,
      data: {
        tables: {
          Product: crud(true, false, false, false),
          Dog: {
            read: true, insert: false, update: false, delete: false,
            attribute_permissions: [{ attribute_name: 'name', read: true, insert: false, update: false }],
          },
        },
      },
    });
    const products = await gql(server, '{ Product(id: 1) { title } }', { auth: user });
    assert.deepEqual(products.json, { data: { Product: [{ title: 'Anvil' }] } });

    const brands = await gql(server, '{ Brand { name } }', { auth: user });
    assert.equal(brands.status, 200);
    assert.deepEqual(brands.json.data, { Brand: null });
    assert.equal(brands.json.errors[0].message, 'Unauthorized access to resource');

    const nested = await gql(server, '{ Product(id: 1) { title brand { name } } }', { auth: user });
    assert.deepEqual(nested.json.data, { Product: [{ title: 'Anvil', brand: null }] }, 'the related table needs read too');
    assert.equal(nested.json.errors[0].message, 'Unauthorized access to resource');
    assert.deepEqual(nested.json.errors[0].path, ['Product', 0, 'brand']);

    const dogs = await gql(server, '{ Dog(name: "Rex") { id name breed } }', { auth: user });
    assert.deepEqual(dogs.json, { data: { Dog: [{ id: 'd1', name: 'Rex', breed: null }] } }, 'unreadable attributes come back null');
    const byBreed = await gql(server, '{ Dog(breed: "Lab") { name } }', { auth: user });
    assert.equal(byBreed.json.errors[0].message, 'Unauthorized access to resource', 'filtering on an unreadable attribute is refused');

    const anonymous = await gql(server, '{ Dog { name } }', { auth: null });
    assert.equal(anonymous.status, 401);
    assert.deepEqual(anonymous.json, { errors: [{ message: 'Must login' }] });
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('/graphql is not served without graphql: true', async () => {
  const app = makeApp();
  const server = await startServer({ app });
  try {
    const res = await gql(server, '{ Dog { id } }');
    assert.equal(res.status, 404);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
