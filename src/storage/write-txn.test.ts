// WriteTxn on a real LMDB: index entries follow the records, a throw rolls everything back, every change is audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { LmdbStorage } from './lmdb-storage.js';
import type { Database } from './database.js';
import type { Table } from './table.js';
import { CREATED_TIME, UPDATED_TIME, type Key, type TableDef } from './types.js';

let dir: string;
let storage: LmdbStorage;
let db: Database;

function def(name: string, audit = true): TableDef {
  return {
    database: 'w', name, primaryKey: 'id', schemaDefined: false, audit, created: 1,
    attributes: [
      { attribute: 'id', is_primary_key: true, indexed: true },
      { attribute: CREATED_TIME, indexed: true, assigned_created_time: true },
      { attribute: UPDATED_TIME, indexed: true, assigned_updated_time: true },
      { attribute: 'color', indexed: true },
      { attribute: 'tags', indexed: true },
    ],
  };
}

/** Every (index key, primary key) pair of one attribute's index. */
function entries(t: Table, attr: string): Array<[unknown, Key]> {
  return [...t.indexes.get(attr)!.getRange({})].map(({ key, value }) => [key, value as Key]);
}

async function create(name: string, audit = true): Promise<Table> {
  await db.transact((txn) => { txn.saveTable(def(name, audit)); });
  return db.table(name)!;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-txn-'));
  storage = new LmdbStorage({ path: dir, writeAsync: true });
  db = storage.openDatabase('w');
});

after(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an update replaces the old index entries and a delete removes them', async () => {
  let t = await create('idx');
  await db.transact((txn) => {
    txn.put(t, 1, { id: 1, color: 'red', tags: ['a', 'b'] }, 'insert', null);
    txn.put(t, 2, { id: 2, color: 'red', tags: ['b'] }, 'insert', null);
  });
  t = db.table('idx')!;
  assert.deepEqual(entries(t, 'color'), [['red', 1], ['red', 2]]);
  assert.deepEqual(entries(t, 'tags'), [['a', 1], ['b', 1], ['b', 2]]);

  await db.transact((txn) => { txn.put(t, 1, { id: 1, color: 'blue', tags: ['b', 'c'] }, 'update'); });
  assert.deepEqual(entries(t, 'color'), [['blue', 1], ['red', 2]]);
  assert.deepEqual(entries(t, 'tags'), [['b', 1], ['b', 2], ['c', 1]]);

  await db.transact((txn) => { txn.put(t, 2, { id: 2, color: null }, 'update'); });
  assert.deepEqual(entries(t, 'tags'), [['b', 1], ['c', 1]]);
  assert.ok(!entries(t, 'color').some(([k]) => k === 'red'), 'old value gone');

  const removed = await db.transact((txn) => [txn.remove(t, 1), txn.remove(t, 99)]);
  assert.deepEqual(removed.result, [true, false]);
  assert.deepEqual(entries(t, 'tags'), []);
  assert.ok(!entries(t, 'color').some(([, id]) => id === 1));
  assert.equal(t.get(1), undefined);
  assert.equal(t.recordCount(), 1);
});

test('long strings are indexed under a truncated key and the entry is removed on delete', async () => {
  const t = await create('long');
  const long = 'z'.repeat(1000);
  await db.transact((txn) => { txn.put(t, 'k', { id: 'k', color: long }, 'insert', null); });
  const [[key, id]] = entries(t, 'color') as [[string, Key]];
  assert.equal(id, 'k');
  assert.ok(key.length < long.length && long.startsWith(key));
  await db.transact((txn) => { txn.remove(t, 'k'); });
  assert.deepEqual(entries(t, 'color'), []);
});

test('a throw inside transact rolls back records, index entries, audit entries and new attributes', async () => {
  const t = await create('rollback');
  await db.transact((txn) => { txn.put(t, 1, { id: 1, color: 'keep' }, 'insert', null); });
  const auditBefore = [...db.auditEntries()].length;
  await assert.rejects(db.transact((txn) => {
    const cur = txn.table('rollback')!;
    txn.addAttributes(cur, ['fresh']);
    const next = txn.table('rollback')!;
    txn.put(next, 2, { id: 2, color: 'gone', fresh: 1 }, 'insert', null);
    txn.put(next, 1, { id: 1, color: 'changed' }, 'update');
    txn.remove(next, 1);
    throw new Error('abort');
  }), /abort/);
  const after = db.table('rollback')!;
  assert.equal(after.get(2), undefined);
  assert.deepEqual(after.get(1), { id: 1, color: 'keep' });
  assert.deepEqual(entries(after, 'color'), [['keep', 1]]);
  assert.ok(!after.hasAttribute('fresh'), 'attribute added in the aborted transaction is gone');
  assert.equal([...db.auditEntries()].length, auditBefore);
  assert.equal(after.recordCount(), 1);
});

test('every change writes one audit entry with the transaction time, operation, user and record', async () => {
  const t = await create('audited');
  const quiet = await create('quiet', false);
  const from = [...db.auditEntries()].length;
  const { txnTime } = await db.transact((txn) => {
    txn.put(t, 'a', { id: 'a', color: 'x' }, 'insert', null);
    txn.put(t, 'b', { id: 'b' }, 'upsert', null);
    txn.put(quiet, 'q', { id: 'q' }, 'insert', null);
  }, 'alice');
  const second = await db.transact((txn) => { txn.remove(t, 'a'); }, 'bob');
  const all = [...db.auditEntries()].slice(from);
  assert.deepEqual(all.map((e) => [e.table, e.operation, e.id, e.user, e.timestamp]), [
    ['audited', 'insert', 'a', 'alice', txnTime],
    ['audited', 'upsert', 'b', 'alice', txnTime],
    ['audited', 'delete', 'a', 'bob', second.txnTime],
  ]);
  assert.deepEqual(all[0]!.record, { id: 'a', color: 'x' });
  assert.equal(all[2]!.record, undefined);
  assert.ok(second.txnTime > txnTime);
  assert.deepEqual([...db.auditEntries(second.txnTime, second.txnTime)].map((e) => e.id), ['a']);
});

test('stampTimes keeps the created time of an existing record and sets the updated time', async () => {
  const t = await create('stamps');
  const first = await db.transact((txn) => {
    const rec = { id: 1, __createdtime__: 5 };
    txn.stampTimes(t, rec, undefined);
    return txn.put(t, 1, rec, 'insert', null);
  });
  assert.equal(first.result.__createdtime__, first.txnTime);
  assert.equal(first.result.__updatedtime__, first.txnTime);
  const second = await db.transact((txn) => {
    const prev = txn.get(t, 1)!;
    const rec = { ...prev, color: 'c' };
    txn.stampTimes(t, rec, prev);
    return txn.put(t, 1, rec, 'update', prev);
  });
  assert.equal(second.result.__createdtime__, first.txnTime);
  assert.equal(second.result.__updatedtime__, second.txnTime);
  assert.deepEqual(entries(t, UPDATED_TIME), [[second.txnTime, 1]]);
});

test('generated ids are large, increasing and skip keys already taken', async () => {
  const t = await create('ids');
  const got = await db.transact((txn) => [txn.newId(t), txn.newId(t), txn.newId(t)]);
  const [a, b, c] = got.result as number[];
  assert.ok(a! < b! && b! < c!);
  assert.ok(Number.isSafeInteger(c));
  await db.transact((txn) => { txn.put(t, c! + 1, { id: c! + 1 }, 'insert', null); });
  const next = await db.transact((txn) => txn.newId(t));
  assert.equal(next.result, c! + 2);
});

test('audit entries are stored with shared structures, and entries written as plain maps before still read back', async () => {
  const file = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-audit-fmt-'));
  try {
    const s = new LmdbStorage({ path: file });
    // a file written by an earlier Weft: audit entries as plain MessagePack maps
    const old = open({ path: s.fileFor('data'), noSubdir: true, maxDbs: 10 });
    const oldAudit = old.openDB({ name: '__audit__', encoding: 'msgpack' });
    const oldEntry = { table: 'T', operation: 'insert', user: 'old', id: 'o', record: { id: 'o', v: 1 } };
    await oldAudit.put([1, 0], oldEntry);
    const plainSize = oldAudit.getBinary([1, 0])!.length;
    await old.close();

    try {
      const d = s.openDatabase('data');
      await d.transact((txn) => { txn.saveTable({ ...def('T'), database: 'data' }); });
      const t = d.table('T')!;
      const { txnTime } = await d.transact((txn) => { txn.put(t, 'n', { id: 'n', v: 2 }, 'insert', null); }, 'new');
      const all = [...d.auditEntries()];
      assert.deepEqual(all.map((e) => [e.table, e.operation, e.user, e.id, e.record?.v, e.timestamp]), [
        ['T', 'insert', 'old', 'o', 1, 1],
        ['T', 'insert', 'new', 'n', 2, txnTime],
      ]);
      assert.equal(d.lastAuditTime(), txnTime);
      // the same entry shape takes fewer bytes than the plain map did
      const raw = d.env.openDB({ name: '__audit__', encoding: 'binary' });
      const newKey = [...raw.getKeys({ start: [2] })][0] as [number, number];
      assert.ok(raw.getBinary(newKey)!.length < plainSize, `${raw.getBinary(newKey)!.length} < ${plainSize}`);
    } finally {
      await s.close();
    }
  } finally {
    fs.rmSync(file, { recursive: true, force: true });
  }
});

test('consecutive changes of one kind share an audit row; each change still reads back as its own entry, in order', async () => {
  const t = await create('rows');
  const other = await create('rows2');
  const from = [...db.auditEntries()].length;
  const rowsBefore = (db.auditStore.getStats() as { entryCount: number }).entryCount;
  // 300 inserts (two rows: 256 + 44), an update, one insert into another table, then two deletes (one row)
  const ids = Array.from({ length: 300 }, (_, i) => `r${String(i).padStart(3, '0')}`);
  const { txnTime } = await db.transact((txn) => {
    for (const id of ids) txn.put(t, id, { id, n: 1 }, 'insert', null);
    txn.put(t, 'r000', { id: 'r000', n: 2 }, 'update');
    txn.put(other, 'o', { id: 'o' }, 'insert', null);
    txn.remove(t, 'r001');
    txn.remove(t, 'r002');
  }, 'carol');
  const rows = (db.auditStore.getStats() as { entryCount: number }).entryCount - rowsBefore;
  assert.equal(rows, 5);
  const all = [...db.auditEntries()].slice(from);
  assert.equal(all.length, 304);
  assert.deepEqual(all.slice(0, 300).map((e) => e.id), ids);
  assert.ok(all.every((e) => e.timestamp === txnTime && e.user === 'carol'));
  assert.deepEqual(all[299]!.record, { id: 'r299', n: 1 });
  assert.deepEqual(all.slice(300).map((e) => [e.table, e.operation, e.id, e.record]), [
    ['rows', 'update', 'r000', { id: 'r000', n: 2 }],
    ['rows2', 'insert', 'o', { id: 'o' }],
    ['rows', 'delete', 'r001', undefined],
    ['rows', 'delete', 'r002', undefined],
  ]);
  // the same through an optimistic transaction (writes queued, applied at commit)
  const before2 = [...db.auditEntries()].length;
  const rowsBefore2 = (db.auditStore.getStats() as { entryCount: number }).entryCount;
  await db.transact((txn) => {
    txn.put(t, 'p1', { id: 'p1' }, 'insert', null);
    txn.put(t, 'p2', { id: 'p2' }, 'insert', null);
  }, 'dave', { optimistic: true });
  assert.deepEqual([...db.auditEntries()].slice(before2).map((e) => [e.id, e.user]), [['p1', 'dave'], ['p2', 'dave']]);
  assert.equal((db.auditStore.getStats() as { entryCount: number }).entryCount - rowsBefore2, 1);
});
