// Application classes extending table classes (spec §5.3 V1), and transaction() atomicity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer } from './harness.js';
import { makeApp } from './rest-app.js';

const RESOURCES = `
import { tables, transaction, Resource } from 'weftdb';

export class Dog extends tables.Dog {
  get(query) {
    if (this.getId() === null) return super.get(query);
    const record = super.get(query);
    if (!record) return record;
    return { ...record, description: this.name + ' (' + this.getId() + ') is ' + this.age + ' years old' };
  }
  allowDelete() { return false; }
}

export class Transfer extends Resource {
  // two writes in one transaction; ?fail=1 throws after both, so neither may land
  async post(data, target) {
    await transaction(async (txn) => {
      await tables.Dog.put(data.a, { name: 'A', age: 1 });
      await tables.Dog.patch(data.b, { name: 'B', age: 2 });
      const seen = await tables.Dog.get(data.a);
      if (seen?.name !== 'A') throw new Error('a write is not visible inside its own transaction');
      if (target.get('fail')) throw new Error('boom');
    });
    return { ok: true };
  }
}

export class RequestTxn extends Resource {
  // writes joined to the request's transaction through the context; a throw after them refuses the request
  async put(data) {
    await tables.Dog.put(this.getId(), { name: data.name, age: 3, user: 'u', headers: 'h' }, this.getContext());
    await tables.Dog.put(this.getId() + '-2', { name: data.name, age: 4 }, this);
    if (data.fail) { const e = new Error('refused'); e.statusCode = 409; throw e; }
    return { ok: true };
  }
}
`;

test('a class extending tables.Dog replaces /Dog: the record is loaded, super.get reaches the table, allowDelete refuses', async () => {
  const app = makeApp({ 'resources.js': RESOURCES });
  const server = await startServer({ app });
  try {
    assert.equal((await server.rest('PUT', '/Dog/rex', { body: { name: 'Rex', age: 5 } })).status, 204, 'PUT reaches the table default through super');
    const got = await server.rest('GET', '/Dog/rex');
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.description, 'Rex (rex) is 5 years old', 'the record properties and getId() are on the instance');
    assert.equal(got.json.name, 'Rex');
    assert.equal((await server.rest('GET', '/Dog/missing')).status, 404);
    const list = await server.rest('GET', '/Dog/?name=Rex');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.map((d) => d.id), ['rex'], 'collection GET runs the table search');
    const del = await server.rest('DELETE', '/Dog/rex');
    assert.equal(del.status, 403, del.text);
    assert.equal((await server.rest('GET', '/Dog/rex')).json.name, 'Rex', 'the refused delete changed nothing');
    const post = await server.rest('POST', '/Dog/', { body: { name: 'Posted', age: 1 } });
    assert.equal(post.status, 201, post.text);
    assert.equal((await server.rest('GET', `/Dog/${post.json}`)).json.description, `Posted (${post.json}) is 1 years old`);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('writes inside transaction() and inside a request commit together, and a throw rolls all of them back', async () => {
  const app = makeApp({ 'resources.js': RESOURCES });
  const server = await startServer({ app });
  try {
    const failed = await server.rest('POST', '/Transfer/?fail=1', { body: { a: 't1', b: 't2' } });
    assert.equal(failed.status, 500, failed.text);
    assert.equal((await server.rest('GET', '/Dog/t1')).status, 404, 'the first write was rolled back');
    assert.equal((await server.rest('GET', '/Dog/t2')).status, 404, 'the second write was rolled back');
    const ok = await server.rest('POST', '/Transfer/', { body: { a: 't1', b: 't2' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await server.rest('GET', '/Dog/t1')).json.name, 'A');
    assert.equal((await server.rest('GET', '/Dog/t2')).json.name, 'B');

    const refused = await server.rest('PUT', '/RequestTxn/r1', { body: { name: 'X', fail: true } });
    assert.equal(refused.status, 409, refused.text);
    assert.equal((await server.rest('GET', '/Dog/r1')).status, 404, 'request transaction rolled back');
    assert.equal((await server.rest('GET', '/Dog/r1-2')).status, 404, 'request transaction rolled back');
    assert.equal((await server.rest('PUT', '/RequestTxn/r1', { body: { name: 'Y' } })).status, 200);
    const r1 = (await server.rest('GET', '/Dog/r1')).json;
    assert.equal(r1.name, 'Y');
    assert.equal(r1.user, 'u', 'a record with context-like fields is still a record');
    assert.equal((await server.rest('GET', '/Dog/r1-2')).json.age, 4);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('a resources.ts file is transpiled at load: typed classes, enums and type imports work', async () => {
  const app = makeApp({
    'resources.ts': `
import { Resource, tables } from 'weftdb';
import type { ResourceContext } from 'weftdb';

enum Mood { Happy = 'happy', Sleepy = 'sleepy' }
interface Summary { count: number; mood: Mood }

export class Summary2 extends Resource {
  allowRead(): boolean { return true; }
  async get(): Promise<Summary> {
    let count: number = 0;
    for await (const _dog of tables.Dog.search('')) count++;
    const ctx: ResourceContext = this.getContext();
    return { count, mood: ctx.user ? Mood.Happy : Mood.Sleepy };
  }
}
`,
  });
  const server = await startServer({ app });
  try {
    await server.rest('PUT', '/Dog/a', { body: { name: 'A', age: 1 } });
    const got = await server.rest('GET', '/Summary2/');
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json, { count: 1, mood: 'happy' });
    assert.equal((await server.rest('GET', '/Summary2/', { auth: null })).json.mood, 'sleepy');
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('a resources.ts with a syntax error leaves the tables served', async () => {
  const app = makeApp({ 'resources.ts': 'export class Broken extends { get(): number {' });
  const server = await startServer({ app });
  try {
    assert.equal((await server.rest('PUT', '/Dog/a', { body: { name: 'A', age: 1 } })).status, 204);
    assert.equal((await server.rest('GET', '/Broken/')).status, 404);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
