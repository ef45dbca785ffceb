// @relationship joins and nested select, @computed attributes (spec §4.5, §4.6, §5.1), over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, tempRoot } from './harness.js';
import { addUser } from './rest-app.js';

const SCHEMA = `
type Brand @table @export {
  id: ID @primaryKey
  name: String @indexed
  products: [Product] @relationship(to: "brandId")
}

type Product @table @export {
  id: ID @primaryKey
  name: String @indexed
  price: Float
  brandId: ID @indexed
  brand: Brand @relationship(from: "brandId")
  tagIds: [ID]
  tags: [Tag] @relationship(from: "tagIds")
}

type Tag @table @export {
  id: ID @primaryKey
  label: String @indexed
}

type Person @table @export {
  id: ID @primaryKey
  first: String
  last: String
  fullName: String @computed(from: "first + ' ' + last") @indexed
  initials: String @computed(from: "first[0] + last[0]")
}
`;

function makeApp() {
  const dir = tempRoot('weft-rel-app-');
  fs.writeFileSync(path.join(dir, 'schema.graphql'), SCHEMA);
  return dir;
}

async function seed(server) {
  for (const [id, name] of [['b1', 'Acme'], ['b2', 'Globex'], ['b3', 'Empty']]) {
    assert.equal((await server.rest('PUT', `/Brand/${id}`, { body: { name } })).status, 204);
  }
  for (const [id, label] of [['t1', 'red'], ['t2', 'big'], ['t3', 'new']]) {
    assert.equal((await server.rest('PUT', `/Tag/${id}`, { body: { label } })).status, 204);
  }
  const products = [
    ['p1', { name: 'Anvil', price: 10, brandId: 'b1', tagIds: ['t2', 't1'] }],
    ['p2', { name: 'Rocket', price: 99, brandId: 'b1', tagIds: ['t3'] }],
    ['p3', { name: 'Widget', price: 5, brandId: 'b2', tagIds: ['t1', 'gone'] }],
    ['p4', { name: 'Orphan', price: 1, brandId: 'nope' }],
    ['p5', { name: 'Loose', price: 2 }],
  ];
  for (const [id, body] of products) assert.equal((await server.rest('PUT', `/Product/${id}`, { body })).status, 204);
}

test('relationship attributes filter as inner joins and are selected as nested objects', async () => {
  const server = await startServer({ app: makeApp() });
  try {
    await seed(server);

    const plain = await server.rest('GET', '/Product/p1');
    assert.deepEqual(plain.json, { id: 'p1', name: 'Anvil', price: 10, brandId: 'b1', tagIds: ['t2', 't1'] }, 'relationships are omitted unless selected');

    const byBrand = await server.rest('GET', '/Product/?brand.name=Acme&sort(name)&select(name)');
    assert.equal(byBrand.status, 200, byBrand.text);
    assert.deepEqual(byBrand.json, ['Anvil', 'Rocket'], 'many-to-one join on the related name');

    const noMatch = await server.rest('GET', '/Product/?brand.name=Nobody');
    assert.deepEqual(noMatch.json, [], 'an inner join with no related match returns nothing');

    const byTag = await server.rest('GET', '/Product/?tags.label=red&sort(name)&select(name)');
    assert.deepEqual(byTag.json, ['Anvil', 'Widget'], 'many-to-many join through an array of keys');

    const oneToMany = await server.rest('GET', '/Brand/?products.price=gt=50&select(name)');
    assert.deepEqual(oneToMany.json, ['Acme'], 'one-to-many join through the foreign key in the target');

    const combined = await server.rest('GET', '/Product/?brand.name=Acme&price=lt=50&select(name)');
    assert.deepEqual(combined.json, ['Anvil'], 'a join combines with local conditions');

    const nested = await server.rest('GET', '/Product/?sort(name)&select(name,brand{name},tags{label})');
    assert.equal(nested.status, 200, nested.text);
    assert.deepEqual(nested.json, [
      { name: 'Anvil', brand: { name: 'Acme' }, tags: [{ label: 'big' }, { label: 'red' }] },
      { name: 'Loose' },
      { name: 'Orphan' },
      { name: 'Rocket', brand: { name: 'Acme' }, tags: [{ label: 'new' }] },
      { name: 'Widget', brand: { name: 'Globex' }, tags: [{ label: 'red' }] },
    ], 'left join: null or dangling keys leave the property out, array order is kept, dangling elements skipped');

    const whole = await server.rest('GET', '/Product/?id=p3&select(name,brand)');
    assert.deepEqual(whole.json, [{ name: 'Widget', brand: { id: 'b2', name: 'Globex' } }], 'a relationship selected without braces is the whole related record');

    const brands = await server.rest('GET', '/Brand/?sort(name)&select(name,products{name})');
    assert.deepEqual(brands.json.map((b) => [b.name, (b.products ?? []).map((p) => p.name).sort()]), [
      ['Acme', ['Anvil', 'Rocket']], ['Empty', []], ['Globex', ['Widget']],
    ]);

    const direct = await server.rest('GET', '/Product/?brand=b1');
    assert.equal(direct.status, 400);
    assert.equal(direct.json, 'ClientError: Can not directly query a relational attribute, must query an attribute within the target table');

    const unknownInner = await server.rest('GET', '/Product/?brand.nope=1');
    assert.equal(unknownInner.status, 404);
    assert.equal(unknownInner.json, 'ClientError: nope is not a defined attribute');

    const notRel = await server.rest('GET', '/Product/?select(name{x})');
    assert.equal(notRel.status, 400);

    const badSelect = await server.rest('GET', '/Product/?select(name,brand{name)');
    assert.equal(badSelect.status, 400, 'an unbalanced nested select is a parse error');

    // a value sent for a relationship property is not stored
    assert.equal((await server.rest('PATCH', '/Product/p5', { body: { brand: { id: 'x' } } })).status, 204);
    assert.equal((await server.rest('GET', '/Product/p5')).json.brand, undefined);
  } finally {
    await server.stop();
  }
});

test('following a relationship needs read permission on the related table', async () => {
  const server = await startServer({ app: makeApp() });
  try {
    await seed(server);
    const user = await addUser(server, 'shopper', 'pw-shop', { data: { tables: { Product: { read: true, insert: false, update: false, delete: false } } } });
    const auth = { username: user.username, password: user.password };
    const own = await server.rest('GET', '/Product/?price=gt=50&select(name)', { auth });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(own.json, ['Rocket']);
    const joined = await server.rest('GET', '/Product/?brand.name=Acme', { auth });
    assert.equal(joined.status, 403);
    const selected = await server.rest('GET', '/Product/?select(name,brand)', { auth });
    assert.equal(selected.status, 403);
  } finally {
    await server.stop();
  }
});

test('computed attributes are evaluated on access, indexed on write, and refuse direct assignment', async () => {
  const server = await startServer({ app: makeApp() });
  try {
    assert.equal((await server.rest('PUT', '/Person/a', { body: { first: 'Ada', last: 'Lovelace' } })).status, 204);
    assert.equal((await server.rest('PUT', '/Person/g', { body: { first: 'Grace', last: 'Hopper' } })).status, 204);

    assert.deepEqual((await server.rest('GET', '/Person/a')).json, { id: 'a', first: 'Ada', last: 'Lovelace' }, 'not returned unless selected');
    assert.equal((await server.rest('GET', '/Person/a.fullName')).json, 'Ada Lovelace');
    const sel = await server.rest('GET', '/Person/?sort(-fullName)&select(id,fullName,initials)');
    assert.deepEqual(sel.json, [
      { id: 'g', fullName: 'Grace Hopper', initials: 'GH' },
      { id: 'a', fullName: 'Ada Lovelace', initials: 'AL' },
    ]);

    const byIndex = await server.rest('GET', '/Person/?fullName=Grace Hopper&select(id)');
    assert.deepEqual(byIndex.json, ['g'], 'the indexed computed value is searchable');
    const byPrefix = await server.rest('GET', '/Person/?fullName=sw=Ada&select(id)');
    assert.deepEqual(byPrefix.json, ['a']);

    // a write changes the index entry: the old computed value no longer finds the record
    assert.equal((await server.rest('PATCH', '/Person/g', { body: { last: 'Brewster' } })).status, 204);
    assert.deepEqual((await server.rest('GET', '/Person/?fullName=Grace Hopper')).json, []);
    assert.deepEqual((await server.rest('GET', '/Person/?fullName=Grace Brewster&select(id)')).json, ['g']);
    const viaSql = await server.op({ operation: 'search_by_value', database: 'data', table: 'Person', attribute: 'fullName', value: 'Grace Brewster', get_attributes: ['id'] });
    assert.equal(viaSql.status, 200, JSON.stringify(viaSql.body));
    assert.deepEqual(viaSql.body, [{ id: 'g' }], 'the operations API searches the same maintained index');

    const assign = await server.rest('PUT', '/Person/x', { body: { first: 'X', last: 'Y', fullName: 'Nope' } });
    assert.equal(assign.status, 400);
    assert.equal(assign.json, 'ClientError: Computed property fullName may not be directly assigned a value');
    assert.equal((await server.rest('GET', '/Person/x')).status, 404, 'the refused write left nothing behind');
    const opAssign = await server.op({ operation: 'insert', database: 'data', table: 'Person', records: [{ id: 'y', first: 'A', last: 'B', initials: 'AB' }] });
    assert.equal(opAssign.status, 400, JSON.stringify(opAssign.body));

    assert.equal((await server.rest('DELETE', '/Person/a')).status, 200);
    assert.deepEqual((await server.rest('GET', '/Person/?fullName=Ada Lovelace')).json, [], 'a delete removes the computed index entry');
  } finally {
    await server.stop();
  }
});
