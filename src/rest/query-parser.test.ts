import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { WeftError } from '../errors/index.js';
import { LmdbStorage, search, type TableDef } from '../storage/index.js';
import { parseQuery } from './query-parser.js';
import { tableQuery } from './query.js';

/** Characters the query language gives meaning to, plus ordinary ones, so generated strings hit every branch. */
const TOKENS = [
  'a', 'b', 'age', 'name', 'id', 'tags', 'x', '=', '==', '===', '!=', '!==', '<', '<=', '>', '>=', '=gt=', '=lt=', '=ct=', '=sw=',
  '=ew=', '=ne=', '=le=', '=ge=', '=eq=', '=zz=', '&', '|', '(', ')', '[', ']', '{', '}', ',', '*', '.', '%', '%3C', '%3E', '%41',
  '%E0%A4', 'null', 'number:', 'boolean:', 'string:', 'date:', 'money:', 'select(', 'limit(', 'sort(', 'group-by(', 'foo(',
  '+', '-', '1', '0', '42', '3.5', 'true', '2020-01-01', '$', '\u0000', 'é', ' ',
];

const queryString = fc.oneof(
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

function isClientError(e: unknown): boolean {
  return e instanceof WeftError && e.status >= 400 && e.status < 500;
}

test('parseQuery accepts or refuses every input with a 4xx WeftError, never another exception', () => {
  fc.assert(fc.property(queryString, (q) => {
    try {
      parseQuery(q);
    } catch (e) {
      if (!isClientError(e)) throw e;
    }
  }), { numRuns: 5000 });
});

test('a parsed query applied to a real table either runs or is refused with a 4xx WeftError', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-qp-'));
  const storage = new LmdbStorage({ path: dir });
  try {
    const db = storage.openDatabase('data');
    const def: TableDef = {
      database: 'data', name: 'T', primaryKey: 'id', schemaDefined: true, audit: false, created: 1,
      attributes: [
        { attribute: 'id', type: 'ID', is_primary_key: true, indexed: true },
        { attribute: 'name', type: 'String', indexed: true },
        { attribute: 'age', type: 'Int', indexed: true },
        { attribute: 'tags', type: 'Array', elements: 'String', indexed: true },
        { attribute: 'x' },
        { attribute: 'a', type: 'Date' },
        { attribute: 'b', type: 'Boolean' },
      ],
    };
    await db.transact((txn) => {
      const t = txn.saveTable(def);
      txn.put(t, 'r1', { id: 'r1', name: 'Ann', age: 3, tags: ['p'], x: 1 }, 'put', null);
      txn.put(t, 'r2', { id: 'r2', name: 'Bob', age: 40, x: 'y', b: true }, 'put', null);
    });
    const table = db.table('T')!;
    let ran = 0;
    fc.assert(fc.property(queryString, (q) => {
      try {
        const tq = tableQuery(table, parseQuery(q));
        for (const _ of search(table, tq.tree, tq.options)) { /* drain */ }
        ran++;
      } catch (e) {
        if (!isClientError(e)) throw e;
      }
    }), { numRuns: 3000 });
    assert.ok(ran > 0, 'some generated queries are valid and run');
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('parseQuery builds the documented tree for the main forms', () => {
  assert.deepEqual(parseQuery('age=gt=1&lt=9').conditions, {
    kind: 'group', operator: 'and', conditions: [
      { kind: 'condition', attribute: 'age', op: 'gt', raw: '1', value: '1', position: 0 },
      { kind: 'condition', attribute: 'age', op: 'lt', raw: '9', value: '9', position: 9 },
    ],
  });
  const q = parseQuery('(a==1|b!=2)&select([a,b])&limit(2,5)&sort(-a,b)');
  assert.equal(q.conditions?.kind, 'group');
  assert.equal((q.conditions as { operator: string }).operator, 'or');
  assert.deepEqual(q.select, { kind: 'array', names: ['a', 'b'] });
  assert.equal(q.offset, 2);
  assert.equal(q.limit, 3);
  assert.deepEqual(q.sort, [{ attribute: 'a', descending: true }, { attribute: 'b', descending: false }]);
  assert.deepEqual(parseQuery('name=a+b').conditions, { kind: 'condition', attribute: 'name', op: 'equals', raw: 'a+b', value: 'a b', position: 0 },
    'plain queries have URLSearchParams semantics');
  assert.equal((parseQuery('age%3C5').conditions as { op: string }).op, 'lt', 'percent-encoded < is the operator');
});

test('nested select() through relationships parses into nested selections', () => {
  assert.deepEqual(parseQuery('select(name,brand{name,maker{id}})').select, {
    kind: 'object', names: ['name', 'brand'],
    nested: { brand: { kind: 'object', names: ['name', 'maker'], nested: { maker: { kind: 'object', names: ['id'] } } } },
  });
  assert.deepEqual(parseQuery('select(brand{name})').select, { kind: 'value', name: 'brand', nested: { kind: 'object', names: ['name'] } });
  assert.deepEqual(parseQuery('select(name,brand)').select, { kind: 'object', names: ['name', 'brand'] });
  for (const bad of ['select(a{)', 'select(a{b}})', 'select({b})', 'select(a{b}c)', 'select(a,{})']) {
    assert.throws(() => parseQuery(bad), (e: any) => e.status === 400, bad);
  }
});
