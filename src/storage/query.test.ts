// The index planner must give exactly the results of a full scan, for every condition tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LmdbStorage } from './lmdb-storage.js';
import { search, matchTree } from './query.js';
import { MAX_INDEXED_STRING } from './index-keys.js';
import type { Database } from './database.js';
import type { Table } from './table.js';
import { CREATED_TIME, UPDATED_TIME, type Comparator, type Condition, type ConditionGroup, type Rec, type TableDef } from './types.js';

let dir: string;
let storage: LmdbStorage;
let db: Database;

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
}

const STRINGS = ['', 'a', 'ab', 'abc', 'b', 'ba', 'zz', 'é', '\uffff', '😀', 'a😀', 'x'.repeat(MAX_INDEXED_STRING + 5) + 'a', 'x'.repeat(MAX_INDEXED_STRING + 5) + 'b'];

function randomValue(r: (n: number) => number): unknown {
  switch (r(7)) {
    case 0: return r(20) - 5;
    case 1: return r(1000) / 7;
    case 2: return STRINGS[r(STRINGS.length)];
    case 3: return null;
    case 4: return r(2) === 0;
    case 5: return Array.from({ length: r(3) }, () => (r(2) ? STRINGS[r(STRINGS.length)] : r(10)));
    default: return undefined; // attribute missing
  }
}

const ATTRS = ['a', 'b', 'c'];

async function makeTable(name: string, indexed: boolean, rows: Rec[]): Promise<Table> {
  const def: TableDef = {
    database: 'q', name, primaryKey: 'id', schemaDefined: false, audit: false, created: 1,
    attributes: [
      { attribute: 'id', is_primary_key: true, indexed: true },
      { attribute: CREATED_TIME, indexed: true, assigned_created_time: true },
      { attribute: UPDATED_TIME, indexed: true, assigned_updated_time: true },
      ...ATTRS.map((a) => ({ attribute: a, indexed })),
    ],
  };
  await db.transact((txn) => {
    const t = txn.saveTable(def);
    for (const row of rows) txn.put(t, row.id as number, row, 'insert', null);
  });
  return db.table(name)!;
}

const COMPARATORS: Comparator[] = [
  'equals', 'not_equal', 'contains', 'starts_with', 'ends_with', 'greater_than', 'greater_than_equal', 'less_than',
  'less_than_equal', 'between',
];

function randomCondition(r: (n: number) => number): Condition {
  const comparator = COMPARATORS[r(COMPARATORS.length)]!;
  const attribute = r(8) === 0 ? 'id' : ATTRS[r(ATTRS.length)]!;
  const scalar = (): string | number => (r(2) ? STRINGS[r(STRINGS.length)]! : r(20) - 5);
  let value: unknown;
  if (comparator === 'between') {
    const x = scalar();
    const y = typeof x === 'number' ? x + r(10) : STRINGS[r(STRINGS.length)]!;
    value = [x, y];
  } else if (comparator === 'equals' || comparator === 'not_equal') {
    value = r(6) === 0 ? null : scalar();
  } else value = scalar();
  return { attribute, comparator, value };
}

function randomTree(r: (n: number) => number, depth: number): Condition | ConditionGroup {
  if (depth === 0 || r(3) === 0) return randomCondition(r);
  const n = 1 + r(3);
  return { operator: r(2) ? 'and' : 'or', conditions: Array.from({ length: n }, () => randomTree(r, depth - 1)) };
}

let indexed: Table;
let plain: Table;
let rows: Rec[];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-query-'));
  storage = new LmdbStorage({ path: dir, writeAsync: true });
  db = storage.openDatabase('q');
  const r = rng(42);
  rows = [];
  for (let id = 0; id < 300; id++) {
    const row: Rec = { id };
    for (const a of ATTRS) {
      const v = randomValue(r);
      if (v !== undefined) row[a] = v;
    }
    rows.push(row);
  }
  indexed = await makeTable('indexed', true, rows);
  plain = await makeTable('plain', false, rows);
});

after(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ids = (it: Iterable<Rec>) => [...it].map((rec) => rec.id as number).sort((x, y) => x - y);

test('the planner returns exactly the records a full scan returns, for 600 random condition trees', () => {
  const r = rng(7);
  let nonEmpty = 0;
  for (let i = 0; i < 600; i++) {
    const tree = randomTree(r, 3);
    const expected = rows.filter((row) => matchTree(row, tree)).map((row) => row.id as number);
    const viaIndex = ids(search(indexed, tree));
    const viaScan = ids(search(plain, tree));
    assert.deepEqual(viaIndex, expected, `indexed: ${JSON.stringify(tree)}`);
    assert.deepEqual(viaScan, expected, `scan: ${JSON.stringify(tree)}`);
    if (expected.length) nonEmpty++;
  }
  assert.ok(nonEmpty > 200, `enough trees match something (${nonEmpty})`);
});

test('array values are indexed per element', () => {
  const tree: Condition = { attribute: 'a', comparator: 'equals', value: 'abc' };
  const expected = rows.filter((row) => row.a === 'abc' || (Array.isArray(row.a) && row.a.includes('abc'))).map((row) => row.id);
  assert.ok(expected.some((id) => Array.isArray(rows[id as number]!.a)), 'the data has arrays containing the value');
  assert.deepEqual(ids(search(indexed, tree)), expected);
});

test('strings longer than the index key limit are found by equality and prefix', () => {
  const long = STRINGS[STRINGS.length - 1]!;
  const eq = ids(search(indexed, { attribute: 'b', comparator: 'equals', value: long }));
  assert.deepEqual(eq, rows.filter((row) => row.b === long || (Array.isArray(row.b) && row.b.includes(long))).map((row) => row.id));
  assert.ok(eq.length > 0);
  const prefix = long.slice(0, MAX_INDEXED_STRING + 3);
  const sw = ids(search(indexed, { attribute: 'b', comparator: 'starts_with', value: prefix }));
  const expected = rows.filter((row) => [row.b].flat().some((v) => typeof v === 'string' && v.startsWith(prefix))).map((row) => row.id);
  assert.deepEqual(sw, expected);
  assert.ok(sw.length > eq.length, 'both long strings share the prefix');
});

test('numeric and string ranges stay within their type', () => {
  const gt = ids(search(indexed, { attribute: 'c', comparator: 'greater_than', value: 3 }));
  assert.deepEqual(gt, rows.filter((row) => [row.c].flat().some((v) => typeof v === 'number' && v > 3)).map((row) => row.id));
  const le = ids(search(indexed, { attribute: 'c', comparator: 'less_than_equal', value: 'b' }));
  assert.deepEqual(le, rows.filter((row) => [row.c].flat().some((v) => typeof v === 'string' && v <= 'b')).map((row) => row.id));
  const between = ids(search(indexed, { attribute: 'a', comparator: 'between', value: [0, 4] }));
  assert.deepEqual(between, rows.filter((row) => [row.a].flat().some((v) => typeof v === 'number' && v >= 0 && v <= 4)).map((row) => row.id));
});

test('equals null matches null values and missing attributes alike', () => {
  const hits = ids(search(indexed, { attribute: 'a', comparator: 'equals', value: null }));
  const expected = rows.filter((row) => row.a === null || row.a === undefined || (Array.isArray(row.a) && row.a.includes(null))).map((row) => row.id);
  assert.ok(rows.some((row) => row.a === null) && rows.some((row) => !('a' in row)));
  assert.deepEqual(hits, expected);
});

test('astral characters sort after U+FFFF, as in the index', () => {
  const tree: Condition = { attribute: 'b', comparator: 'greater_than', value: '\uffff' };
  const hits = ids(search(indexed, tree));
  const expected = rows.filter((row) => [row.b].flat().includes('😀')).map((row) => row.id);
  assert.ok(expected.length > 0);
  assert.deepEqual(hits, expected);
});

test('sort with next, offset and limit apply after matching', async () => {
  const r = rng(3);
  const data: Rec[] = Array.from({ length: 80 }, (_, id) => ({ id, a: id % 5, b: r(4), c: r(100) }));
  const t = await makeTable('sorted', true, data);
  const tree: Condition = { attribute: 'c', comparator: 'greater_than_equal', value: 20 };
  const expected = data.filter((row) => (row.c as number) >= 20)
    .sort((x, y) => (y.a as number) - (x.a as number) || (x.b as number) - (y.b as number) || (x.id as number) - (y.id as number))
    .slice(3, 13).map((row) => row.id);
  const got = [...search(t, tree, {
    sort: { attribute: 'a', descending: true, next: { attribute: 'b', next: { attribute: 'id' } } }, offset: 3, limit: 10,
  })].map((row) => row.id);
  assert.deepEqual(got, expected);
});
