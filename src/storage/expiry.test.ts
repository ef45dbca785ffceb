// Record versions and the expiry index on a real LMDB: a version per write, expiry metadata and index kept in step
// with writes and removals, sweeps that read only due entries and remove each record once, and the migration of
// tables stored before records carried versions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { LmdbStorage } from './lmdb-storage.js';
import { primaryDbiName, type Table } from './table.js';
import type { Database } from './database.js';
import type { Key, TableDef } from './types.js';

let dir: string;
let storage: LmdbStorage;
let db: Database;

function def(name: string, extra: Partial<TableDef> = {}): TableDef {
  return {
    database: 'x', name, primaryKey: 'id', schemaDefined: true, audit: false, created: 1,
    attributes: [
      { attribute: 'id', is_primary_key: true, indexed: true },
      { attribute: 'ends', indexed: true, expires_at: true },
      { attribute: 'n', indexed: true },
    ],
    ...extra,
  };
}

async function create(name: string, extra: Partial<TableDef> = {}): Promise<Table> {
  await db.transact((txn) => { txn.saveTable(def(name, extra)); });
  return db.table(name)!;
}

function indexEntries(t: Table): Array<[number, Key]> {
  return [...t.expiryIndex.getRange({})].map(({ key, value }) => [key as number, value as Key]);
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-expiry-'));
  storage = new LmdbStorage({ path: dir, writeAsync: true });
  db = storage.openDatabase('x');
});

after(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('every write stores the transaction time as the record version, read back with the record', async () => {
  const t = await create('versions');
  const { txnTime: t1 } = await db.transact((txn) => { txn.put(t, 'a', { id: 'a', n: 1 }, 'put'); });
  assert.deepEqual(t.getEntry('a'), { value: { id: 'a', n: 1 }, version: t1 });
  const { txnTime: t2 } = await db.transact((txn) => { txn.put(t, 'a', { id: 'a', n: 2 }, 'put'); });
  assert.ok(t2 > t1);
  assert.equal(t.versionOf('a'), t2);
  assert.deepEqual(t.get('a'), { id: 'a', n: 2 }, 'get still answers the plain record');
  await db.transact((txn) => { txn.put(t, 'b', { id: 'b' }, 'put', undefined, { version: 1234.5 }); });
  assert.equal(t.versionOf('b'), 1234.5, 'an explicit version (a cache entry from its origin) is kept');
});

test('an expiring table keeps one expiry index entry per record, moved on rewrite and dropped on delete', async () => {
  const t = await create('exp', { expiration: 60 });
  const { txnTime } = await db.transact((txn) => { txn.put(t, 'a', { id: 'a' }, 'put'); });
  assert.deepEqual(indexEntries(t), [[txnTime + 60_000, 'a']], 'expiry = write time + expiration');
  await db.transact((txn) => { txn.put(t, 'a', { id: 'a', ends: 5000 }, 'put'); });
  assert.deepEqual(indexEntries(t), [[5000, 'a']], 'the @expiresAt attribute wins over the table expiration');
  await db.transact((txn) => { txn.put(t, 'a', { id: 'a', ends: 5000 }, 'put', undefined, { expiresAt: 7000 }); });
  assert.deepEqual(indexEntries(t), [[7000, 'a']], 'an explicit expiry (context.expiresAt) wins over both');
  assert.equal(t.recordMeta('a')?.expiresAt, 7000);
  assert.equal(t.isStale('a', 6999), false);
  assert.equal(t.isStale('a', 7000), true);
  await db.transact((txn) => { txn.remove(t, 'a'); });
  assert.deepEqual(indexEntries(t), []);
  assert.equal(t.recordMeta('a'), undefined);
});

test('searches hide stale records of an expiring table unless asked to include them', async () => {
  const { search } = await import('./query.js');
  const t = await create('hide', { expiration: 60 });
  await db.transact((txn) => {
    txn.put(t, 1, { id: 1, n: 1 }, 'put', undefined, { expiresAt: Date.now() - 1 });
    txn.put(t, 2, { id: 2, n: 1 }, 'put');
  });
  assert.deepEqual([...search(t, { attribute: 'n', comparator: 'equals', value: 1 })].map((r) => r.id), [2]);
  assert.deepEqual([...search(t, undefined, { includeExpired: true })].map((r) => r.id), [1, 2]);
});

test('a sweep removes only records due before its bound, reading the due index entries alone', async () => {
  const t = await create('sweep', { expiration: 60 });
  await db.transact((txn) => {
    for (let i = 0; i < 10; i++) txn.put(t, i, { id: i }, 'put', undefined, { expiresAt: 1000 + i });
    txn.put(t, 'fresh', { id: 'fresh' }, 'put');
  });
  assert.deepEqual([...t.dueExpiries(1005)].map((e) => e.id), [0, 1, 2, 3, 4]);
  assert.equal(await db.sweepExpired('sweep', 1005, 2), 5, 'batches of 2 until nothing is due');
  assert.deepEqual([...t.scanKeys()].sort(), [5, 6, 7, 8, 9, 'fresh'].sort());
  assert.equal(await db.sweepExpired('sweep', Date.now()), 5);
  assert.deepEqual([...t.scanKeys()], ['fresh'], 'the fresh record stays');
  assert.equal(indexEntries(t).length, 1);
});

test('a record rewritten after the sweep read the index is not removed, and concurrent sweeps remove each record once', async () => {
  const t = await create('race', { expiration: 60 });
  await db.transact((txn) => {
    txn.put(t, 'a', { id: 'a' }, 'put', undefined, { expiresAt: 10 });
    txn.put(t, 'b', { id: 'b' }, 'put', undefined, { expiresAt: 20 });
  });
  // the sweep saw (10, a) due, then a was rewritten with a later expiry before the sweep's transaction
  await db.transact((txn) => { txn.put(t, 'a', { id: 'a' }, 'put', undefined, { expiresAt: Date.now() + 60_000 }); });
  const evicted = await db.transact((txn) => [txn.evict(t, 'a', 10), txn.evict(t, 'b', 20)]);
  assert.deepEqual(evicted.result, [false, true], 'a stays (its expiry moved), b goes');
  assert.deepEqual([...t.scanKeys()], ['a']);
  // two sweeps over the same due entry: the second finds nothing to remove
  await db.transact((txn) => { txn.put(t, 'c', { id: 'c' }, 'put', undefined, { expiresAt: 30 }); });
  const counts = await Promise.all([db.sweepExpired('race', 100), db.sweepExpired('race', 100)]);
  assert.equal(counts[0]! + counts[1]!, 1);
  assert.deepEqual([...t.scanKeys()], ['a']);
});

test('a table stored before versions existed is migrated on open: records and shared structures still read', async () => {
  const mdir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-migrate-'));
  const file = path.join(mdir, 'old.mdb');
  const old: TableDef = {
    database: 'old', name: 'T', primaryKey: 'id', schemaDefined: false, audit: false, created: 7,
    attributes: [{ attribute: 'id', is_primary_key: true, indexed: true }, { attribute: '__updatedtime__', assigned_updated_time: true }],
  };
  // what an earlier Weft wrote: no `versioned` flag, records without a version prefix
  const env = open({ path: file, maxDbs: 100, noSubdir: true });
  const catalog = env.openDB({ name: '__catalog__', encoding: 'msgpack' });
  const primary = env.openDB<any, Key>({ name: primaryDbiName(old), encoding: 'msgpack', sharedStructuresKey: Symbol.for('structures') });
  await env.transaction(() => {
    catalog.put(['table', 'T'], old);
    catalog.put('version', 1);
    for (let i = 0; i < 50; i++) primary.put(i, { id: i, name: `n${i}`, __updatedtime__: 1_700_000_000_000 + i });
    primary.put('plain', { id: 'plain', name: 'no time' });
  });
  await env.close();
  const s = new LmdbStorage({ path: mdir, writeAsync: true });
  try {
    const t = s.openDatabase('old').table('T')!;
    assert.equal(t.def.versioned, true);
    assert.deepEqual(t.getEntry(7), { value: { id: 7, name: 'n7', __updatedtime__: 1_700_000_000_007 }, version: 1_700_000_000_007 });
    const plain = t.getEntry('plain')!;
    assert.deepEqual(plain.value, { id: 'plain', name: 'no time' });
    assert.ok(plain.version! > 1_700_000_000_000, 'a record without an updated time gets the migration time');
    assert.equal(t.recordCount(), 51);
    assert.equal([...t.scan()].length, 51);
    // new writes after the migration reuse the same shared structures
    const db2 = s.database('old')!;
    await db2.transact((txn) => { txn.put(t, 'new', { id: 'new', name: 'x', __updatedtime__: 1 }, 'put'); });
    assert.equal(db2.table('T')!.get('new')!.name, 'x');
  } finally {
    await s.close();
    fs.rmSync(mdir, { recursive: true, force: true });
  }
});
