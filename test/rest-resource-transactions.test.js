// One request = one transaction (spec §3.1, §5.3): writes a custom resource or a table subclass makes to several
// tables -- through tables.X calls passing `this` or the context, super.put, and nested transaction() calls --
// commit together before the response, or not at all when the method throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, tempRoot } from './harness.js';

const SCHEMA = `
type Order @table @export {
  id: ID @primaryKey
  item: String
  qty: Int
}
type Audit @table @export {
  id: ID @primaryKey
  what: String
  by: String
}
`;

const RESOURCES = `
import { Resource, tables, transaction } from 'weftdb';

export class PlaceOrder extends Resource {
  allowCreate() { return true; }
  async post(data) {
    // three ways of joining the request's transaction: passing this, passing the context, a nested transaction()
    await tables.Order.put(data.id, { item: data.item, qty: data.qty }, this);
    await tables.Audit.put({ id: 'audit-' + data.id, what: 'placed ' + data.item }, this.getContext());
    await transaction(this, async () => {
      await tables.Audit.patch('audit-' + data.id, { by: this.getContext().user?.username ?? 'nobody' });
    });
    const seen = await tables.Order.get(data.id, this);
    if (seen?.item !== data.item) throw new Error('a write is not visible to the request that made it');
    if (data.fail) { const e = new Error('payment declined'); e.statusCode = 402; throw e; }
    return { placed: data.id };
  }
}

/** Writes without passing a context: they join the request's transaction through the async flow alone. */
export class Contextless extends Resource {
  allowCreate() { return true; }
  async post(data) {
    await tables.Order.put(data.id, { item: data.item, qty: 1 });
    await new Promise((r) => setTimeout(r, data.wait));
    await tables.Audit.put({ id: 'audit-' + data.id, what: 'contextless ' + data.item });
    if (data.fail) { const e = new Error('refused'); e.statusCode = 409; throw e; }
    return { placed: data.id };
  }
}

/** tables.X.put(id) with no record stores a record holding only its key. */
export class BareKey extends Resource {
  allowCreate() { return true; }
  async post(data) {
    await tables.Audit.put('bare-' + data.id, undefined, this);
    return { stored: 'bare-' + data.id };
  }
}

export class Order extends tables.Order {
  async put(data) {
    await super.put(data);
    await tables.Audit.put('audit-' + this.getId(), { what: 'put ' + data.item }, this);
    if (data.qty < 0) { const e = new Error('quantity must not be negative'); e.statusCode = 400; throw e; }
  }
}
`;

function makeApp() {
  const dir = tempRoot('weft-txn-app-');
  fs.writeFileSync(path.join(dir, 'schema.graphql'), SCHEMA);
  fs.writeFileSync(path.join(dir, 'resources.js'), RESOURCES);
  return dir;
}

async function byId(server, table, id) {
  const r = await server.op({ operation: 'search_by_id', database: 'data', table, ids: [id], get_attributes: ['*'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body[0];
}

test("a resource's writes to two tables commit together before the response, and a throw rolls both back", async () => {
  const app = makeApp();
  const server = await startServer({ app, threads: 2 });
  try {
    const declined = await server.rest('POST', '/PlaceOrder/', { body: { id: 'o1', item: 'tea', qty: 2, fail: true } });
    assert.equal(declined.status, 402, declined.text);
    assert.equal(declined.json, 'Error: payment declined');
    assert.equal(await byId(server, 'Order', 'o1'), undefined, 'the order write was rolled back');
    assert.equal(await byId(server, 'Audit', 'audit-o1'), undefined, 'the audit writes were rolled back');

    const placed = await server.rest('POST', '/PlaceOrder/', { body: { id: 'o1', item: 'tea', qty: 2 } });
    assert.equal(placed.status, 200, placed.text);
    assert.deepEqual(placed.json, { placed: 'o1' });
    // read right after the response, through the operations API (any thread): the commit happened before it
    const order = await byId(server, 'Order', 'o1');
    assert.equal(order.item, 'tea');
    const audit = await byId(server, 'Audit', 'audit-o1');
    assert.equal(audit.what, 'placed tea');
    assert.equal(audit.by, 'admin', 'the nested transaction joined the request and saw its user');
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test("a table subclass's super.put and its write to another table are one transaction", async () => {
  const app = makeApp();
  const server = await startServer({ app, threads: 2 });
  try {
    const bad = await server.rest('PUT', '/Order/o2', { body: { item: 'cups', qty: -1 } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(await byId(server, 'Order', 'o2'), undefined, 'super.put was rolled back');
    assert.equal(await byId(server, 'Audit', 'audit-o2'), undefined, 'the other table write was rolled back');

    const ok = await server.rest('PUT', '/Order/o2', { body: { item: 'cups', qty: 3 } });
    assert.ok(ok.status === 200 || ok.status === 204, ok.text);
    assert.equal((await byId(server, 'Order', 'o2')).qty, 3);
    assert.equal((await byId(server, 'Audit', 'audit-o2')).what, 'put cups');
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('concurrent requests writing without a context each commit or roll back only their own writes', async () => {
  const app = makeApp();
  const server = await startServer({ app, threads: 1 });
  try {
    // one alone first (the thread's async-flow storage is switched off after it), then a burst that overlaps
    const alone = await server.rest('POST', '/Contextless/', { body: { id: 'c0', item: 'x', wait: 1 } });
    assert.equal(alone.status, 200, alone.text);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      server.rest('POST', '/Contextless/', { body: { id: `c${i + 1}`, item: `i${i + 1}`, wait: (i * 7) % 15, fail: i % 3 === 0 } })));
    for (let i = 0; i < 20; i++) {
      const id = `c${i + 1}`;
      const failed = i % 3 === 0;
      assert.equal(answers[i].status, failed ? 409 : 200, answers[i].text);
      const order = await byId(server, 'Order', id);
      const audit = await byId(server, 'Audit', `audit-${id}`);
      if (failed) {
        assert.equal(order, undefined, `${id}: rolled back`);
        assert.equal(audit, undefined, `${id}: rolled back`);
      } else {
        assert.equal(order?.item, `i${i + 1}`, `${id}: its order`);
        assert.equal(audit?.what, `contextless i${i + 1}`, `${id}: its audit`);
      }
    }
    assert.equal((await byId(server, 'Audit', 'audit-c0')).what, 'contextless x');
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});

test('tables.X.put(id) without a record stores a record holding only its key', async () => {
  const app = makeApp();
  const server = await startServer({ app, threads: 1 });
  try {
    const r = await server.rest('POST', '/BareKey/', { body: { id: 'k1' } });
    assert.equal(r.status, 200, r.text);
    const stored = await byId(server, 'Audit', 'bare-k1');
    assert.equal(stored?.id, 'bare-k1');
    assert.equal(stored.what ?? null, null);
  } finally {
    await server.stop();
    server.cleanup();
    fs.rmSync(app, { recursive: true, force: true });
  }
});
