// Optimistic transactions on a real LMDB: writes commit only if no record read changed meanwhile, all together or
// not at all; a conflict reruns the transaction on fresh data; work that needs the lock falls back to a locked run;
// id blocks are shared by threads. The worker-thread case uses real threads on the same environment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LmdbStorage } from './lmdb-storage.js';
import type { Database } from './database.js';
import type { Table } from './table.js';
import type { TableDef } from './types.js';

let dir: string;
let storage: LmdbStorage;
let db: Database;

function def(name: string, pkType?: string): TableDef {
  return {
    database: 'o', name, primaryKey: 'id', schemaDefined: true, audit: true, created: 1,
    attributes: [
      { attribute: 'id', is_primary_key: true, indexed: true, ...(pkType ? { type: pkType } : {}) },
      { attribute: 'n', indexed: true },
      { attribute: 'color', indexed: true },
    ],
  } as TableDef;
}

async function create(name: string, pkType?: string): Promise<Table> {
  await db.transact((txn) => { txn.saveTable(def(name, pkType)); });
  return db.table(name)!;
}

const colorIndex = (t: Table) => [...t.indexes.get('color')!.getRange({})].map(({ key, value }) => [key, value]);

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-occ-'));
  storage = new LmdbStorage({ path: dir });
  db = storage.openDatabase('o');
});

after(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a transaction whose record changed after it was read runs again on the new record', async () => {
  const t = await create('counter');
  await db.transact((txn) => { txn.put(t, 1, { id: 1, n: 0, color: 'red' }, 'insert', null); });
  let runs = 0;
  const { result } = await db.transact((txn) => {
    runs++;
    const prev = txn.get(t, 1)!;
    // a competing write lands between this run's read and its commit (first run only)
    if (runs === 1) void t.primary.put(1, { id: 1, n: 10, color: 'blue' }, txn.time - 1);
    txn.put(t, 1, { ...prev, n: (prev.n as number) + 1 }, 'update', prev);
    return prev.n;
  }, undefined, { optimistic: true });
  assert.equal(runs, 2);
  assert.equal(result, 10);
  assert.deepEqual(t.get(1), { id: 1, n: 11, color: 'blue' });
});

test('concurrent increments of one record are never lost', async () => {
  const t = await create('hits');
  await db.transact((txn) => { txn.put(t, 'k', { id: 'k', n: 0 }, 'insert', null); });
  const inc = () => db.transact((txn) => {
    const prev = txn.get(t, 'k')!;
    txn.put(t, 'k', { ...prev, n: (prev.n as number) + 1 }, 'update', prev);
  }, undefined, { optimistic: true });
  await Promise.all(Array.from({ length: 40 }, inc));
  assert.equal(t.get('k')!.n, 40);
});

test('a conflict on one record leaves every other record of the transaction unwritten until the rerun', async () => {
  const t = await create('multi');
  await db.transact((txn) => { for (let i = 0; i < 5; i++) txn.put(t, i, { id: i, n: i, color: 'red' }, 'insert', null); });
  let runs = 0;
  let firstRunSawAllWrites = true;
  await db.transact((txn) => {
    runs++;
    for (let i = 0; i < 5; i++) {
      const prev = txn.get(t, i)!;
      txn.put(t, i, { ...prev, color: `run${runs}` }, 'update', prev);
    }
    // the competing write keeps the indexed color, so the index stays exact without index maintenance here
    if (runs === 1) void t.primary.put(4, { id: 4, n: 40, color: 'red' }, txn.time - 1);
    firstRunSawAllWrites = false;
  }, undefined, { optimistic: true });
  assert.equal(runs, 2);
  assert.equal(firstRunSawAllWrites, false);
  for (let i = 0; i < 5; i++) assert.equal(t.get(i)!.color, 'run2');
  assert.equal(t.get(4)!.n, 40, 'the rerun started from the competing write');
  // the index has exactly one entry per record: the first run's index writes never happened
  assert.deepEqual(colorIndex(t), [0, 1, 2, 3, 4].map((i) => ['run2', i]));
});

test('a throw writes nothing, and reads see the transaction\'s own writes', async () => {
  const t = await create('own');
  await assert.rejects(db.transact((txn) => {
    txn.put(t, 'a', { id: 'a', color: 'red' }, 'insert', null);
    assert.deepEqual(txn.get(t, 'a'), { id: 'a', color: 'red' });
    txn.remove(t, 'a');
    assert.equal(txn.get(t, 'a'), undefined);
    txn.put(t, 'b', { id: 'b', color: 'red' }, 'insert', null);
    throw new Error('no');
  }, undefined, { optimistic: true }), /no/);
  assert.equal(t.get('a'), undefined);
  assert.equal(t.get('b'), undefined);
  assert.deepEqual(colorIndex(t), []);
});

test('an insert that finds its key taken at commit is rerun and then sees the record', async () => {
  const t = await create('ins');
  let runs = 0;
  const { result } = await db.transact((txn) => {
    runs++;
    if (txn.get(t, 'x') !== undefined) return 'skipped';
    if (runs === 1) void t.primary.put('x', { id: 'x', color: 'other' }, txn.time - 1);
    txn.put(t, 'x', { id: 'x', color: 'mine' }, 'insert', null);
    return 'inserted';
  }, undefined, { optimistic: true });
  assert.equal(result, 'skipped');
  assert.equal(t.get('x')!.color, 'other');
});

test('a schema change inside an optimistic transaction reruns it under the write lock', async () => {
  const t = await create('grow');
  let runs = 0;
  await db.transact((txn) => {
    runs++;
    const d = structuredClone(txn.table('grow')!.def);
    d.attributes.push({ attribute: 'extra', indexed: true });
    const next = txn.saveTable(d);
    txn.put(next, 1, { id: 1, extra: 'e' }, 'insert', null);
  }, undefined, { optimistic: true });
  assert.equal(runs, 2);
  assert.ok(db.table('grow')!.hasAttribute('extra'));
  assert.equal(db.table('grow')!.get(1)!.extra, 'e');
  void t;
});

test('records carry the committing transaction\'s time as their version', async () => {
  const t = await create('ver');
  const { txnTime } = await db.transact((txn) => { txn.put(t, 1, { id: 1 }, 'insert', null); }, undefined, { optimistic: true });
  assert.equal(t.getEntry(1)!.version, txnTime);
  const second = await db.transact((txn) => { txn.put(t, 1, { id: 1, n: 2 }, 'update'); });
  assert.equal(t.getEntry(1)!.version, second.txnTime);
  assert.ok(second.txnTime > txnTime);
});

test('new numeric ids come from one block shared by every thread: increasing and never repeated', async () => {
  const t = await create('ids', 'Long');
  const mine: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { result } = await db.transact((txn) => { const id = txn.newId(t) as number; txn.put(t, id, { id }, 'insert', null); return id; }, undefined, { optimistic: true });
    mine.push(result);
  }
  for (let i = 1; i < mine.length; i++) assert.ok(mine[i]! > mine[i - 1]!, 'increasing within a thread');
  // two threads on the same environment take ids from the same block
  const script = `
    import { workerData, parentPort } from 'node:worker_threads';
    const { LmdbStorage } = await import(workerData.storageUrl);
    const storage = new LmdbStorage({ path: workerData.dir });
    const db = storage.openDatabase('o');
    const t = db.table('ids');
    const ids = [];
    for (let i = 0; i < 50; i++) {
      const { result } = await db.transact((txn) => { const id = txn.newId(t); txn.put(t, id, { id }, 'insert', null); return id; }, undefined, { optimistic: true });
      ids.push(result);
    }
    parentPort.postMessage(ids);
  `;
  const storageUrl = new URL('./lmdb-storage.js', import.meta.url).href;
  const run = () => new Promise<number[]>((resolve, reject) => {
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(script)}`), { workerData: { dir, storageUrl } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const [a, b] = await Promise.all([run(), run()]);
  const all = [...mine, ...a, ...b];
  assert.equal(new Set(all).size, all.length, 'no id handed out twice');
  const block = Math.floor(mine[0]! / 4_194_304);
  assert.ok(all.every((id) => Math.floor(id / 4_194_304) === block), 'all from the block reserved first');
  assert.equal(t.recordCount(), 120);
});

/**
 * Run `body` (with `db`, the database 'o' opened in a new worker thread) and block this thread until it is done:
 * no event-loop turn passes here in between, so lmdb-js cannot renew this thread's snapshot by itself. Resolves
 * when the worker has exited.
 */
function commitOnAnotherThread(body: string): Promise<unknown> {
  const script = `
    import { workerData } from 'node:worker_threads';
    const { LmdbStorage } = await import(workerData.storageUrl);
    const db = new LmdbStorage({ path: workerData.dir }).openDatabase('o');
    ${body}
    const flag = new Int32Array(workerData.flag);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  `;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(script)}`), {
    workerData: { dir, storageUrl: new URL('./lmdb-storage.js', import.meta.url).href, flag: flag.buffer },
  });
  const exited = new Promise((resolve, reject) => { w.once('exit', resolve); w.once('error', reject); });
  assert.equal(Atomics.wait(flag, 0, 0, 10_000), 'ok', 'the other thread committed');
  return exited;
}

test('refreshReads makes a commit by another thread visible within the same event-loop turn', async () => {
  const t = await create('fresh');
  await db.transact((txn) => { txn.put(t, 1, { id: 1, n: 1 }, 'insert', null); });
  assert.equal(t.get(1)?.n, 1); // this thread's read snapshot is now taken
  const exited = commitOnAnotherThread(`const t = db.table('fresh'); await db.transact((txn) => { txn.put(t, 1, { id: 1, n: 2 }, 'update', t.get(1)); });`);
  assert.equal(t.get(1)?.n, 1, 'without refreshReads this turn still reads the old snapshot');
  db.refreshReads();
  assert.equal(t.get(1)?.n, 2, 'after refreshReads the commit is visible');
  await exited;
});

test('a table created by another thread is visible here at once, even in the same event-loop turn', async () => {
  await create('before');
  assert.ok(db.table('before'), 'the catalog is loaded and its change counter marked seen');
  assert.equal(db.table('late'), undefined, 'not there before');
  const exited = commitOnAnotherThread(`await db.transact((txn) => { txn.saveTable({ database: 'o', name: 'late', primaryKey: 'id', schemaDefined: true, audit: true, created: 1, attributes: [{ attribute: 'id', is_primary_key: true, indexed: true }] }); });`);
  assert.ok(db.table('late'), 'seen in the same turn');
  await exited;
  assert.ok(db.table('late'), 'and after');
});

test('a write acknowledged on another thread is read by the next table lookup here, even in the same turn', async () => {
  const t = await create('ack');
  await db.transact((txn) => { txn.put(t, 1, { id: 1, n: 1 }, 'insert', null); });
  assert.equal(db.table('ack')!.get(1)?.n, 1); // this thread's read snapshot is now taken
  const exited = commitOnAnotherThread(`const t = db.table('ack'); await db.transact((txn) => { txn.put(t, 1, { id: 1, n: 2 }, 'update', t.get(1)); }, undefined, { optimistic: true });`);
  assert.equal(db.table('ack')!.get(1)?.n, 2, 'the lookup renewed the snapshot');
  await exited;
});

test('an optimistic transaction reading 20,000 records commits (runs locked past the condition limit)', async () => {
  // each record read is a version condition, nested one inside the other in lmdb-js: this many overflowed the stack
  const t = await create('bulk');
  let runs = 0;
  const { result } = await db.transact((txn) => {
    runs++;
    for (let i = 0; i < 20_000; i++) {
      const prev = txn.get(t, i);
      txn.put(t, i, { id: i, n: i, color: i % 2 ? 'odd' : 'even' }, prev ? 'update' : 'insert', prev ?? null);
    }
    return 'done';
  }, undefined, { optimistic: true });
  assert.equal(result, 'done');
  assert.equal(runs, 2, 'the optimistic run stops at the read limit and the locked run writes');
  assert.equal(t.primary.getKeysCount(), 20_000);
  assert.equal(t.indexes.get('color')!.getValuesCount('odd'), 10_000);
});
