import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LmdbStorage, search } from '../storage/index.js';
import { parseSchema } from './schema.js';
import { ensureTables } from './ensure.js';
import { globToRegExp } from './application.js';

test('parseSchema reads @table, @export, field directives and types, and warns on unknown types', () => {
  const warnings: string[] = [];
  const [t, u] = parseSchema(`
    type Dog @table(table: "dogs", database: "zoo", expiration: 60, audit: false) @export(name: "pups", mqtt: false) @sealed {
      id: Long @primaryKey
      name: String! @indexed
      tags: [Int!]
      when: Date @createdTime
      odd: Mystery
    }
    type NoKey @table @export
    type Plain { x: Int }
  `, 'schema.graphql', (m) => warnings.push(m));
  assert.equal(t!.table, 'dogs');
  assert.equal(t!.database, 'zoo');
  assert.equal(t!.expiration, 60);
  assert.equal(t!.audit, false);
  assert.equal(t!.sealed, true);
  assert.deepEqual(t!.export, { name: 'pups', rest: true, mqtt: false, ws: true, sse: true });
  assert.equal(t!.primaryKey, 'id');
  const attrs = Object.fromEntries(t!.attributes.map((a) => [a.name, a]));
  assert.equal(attrs.name!.nullable, false);
  assert.equal(attrs.name!.indexed, true);
  assert.equal(attrs.tags!.type, 'Array');
  assert.equal(attrs.tags!.elements, 'Int!');
  assert.equal(attrs.when!.createdTime, true);
  assert.equal(attrs.odd!.type, undefined);
  assert.match(warnings[0]!, /^The type Mystery is unknown at line 7, column \d+, in schema.graphql$/);
  assert.equal(u!.typeName, 'NoKey');
  assert.equal(u!.primaryKey, 'id', 'a table without fields is keyed by id');
});

test('ensureTables creates once, then adds attributes and indexes existing records when the schema grows', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-ensure-'));
  const storage = new LmdbStorage({ path: dir });
  try {
    const v1 = parseSchema('type T @table { id: ID @primaryKey  name: String }', 's');
    const first = await ensureTables(storage, v1, true);
    assert.deepEqual(first.created, ['data.T']);
    const db = storage.database('data')!;
    await db.transact((txn) => {
      const t = txn.table('T')!;
      txn.put(t, 'a', { id: 'a', name: 'Ann', color: 'red' }, 'put', null);
      txn.put(t, 'b', { id: 'b', name: 'Bob', color: 'blue' }, 'put', null);
    });
    const again = await ensureTables(storage, v1, true);
    assert.deepEqual([again.created, again.altered], [[], []], 'an unchanged schema changes nothing');

    const v2 = parseSchema('type T @table { id: ID @primaryKey  name: String @indexed  color: String @indexed }', 's');
    const grown = await ensureTables(storage, v2, true);
    assert.deepEqual(grown.altered, ['data.T']);
    const t = db.table('T')!;
    assert.equal(t.def.schemaDefined, true);
    assert.ok(t.indexes.has('color') && t.indexes.has('name'));
    assert.deepEqual([...t.indexes.get('color')!.getValues('red')], ['a'], 'existing records are indexed');
    assert.deepEqual([...search(t, { attribute: 'name', comparator: 'equals', value: 'Bob' })].map((r) => r.id), ['b']);
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('globToRegExp matches like the plugin file options', () => {
  assert.ok(globToRegExp('*.graphql').test('schema.graphql'));
  assert.ok(!globToRegExp('*.graphql').test('sub/schema.graphql'));
  assert.ok(globToRegExp('**/*.graphql').test('sub/deep/x.graphql'));
  assert.ok(globToRegExp('**/*.graphql').test('x.graphql'));
  assert.ok(globToRegExp('resources.js').test('resources.js'));
  assert.ok(!globToRegExp('resources.js').test('resourcesXjs'));
});

test('parseSchema reads expiration, eviction, scanInterval and @expiresAt, and refuses an @expiresAt that is not indexed', () => {
  const [t] = parseSchema(`
    type Session @table(expiration: 30, eviction: 10, scanInterval: 5) {
      id: ID @primaryKey
      ends: Date @indexed @expiresAt
    }
  `, 'schema.graphql');
  assert.equal(t!.expiration, 30);
  assert.equal(t!.eviction, 10);
  assert.equal(t!.scanInterval, 5);
  assert.equal(t!.attributes.find((a) => a.name === 'ends')!.expiresAt, true);
  assert.throws(() => parseSchema(`type S @table { id: ID @primaryKey ends: Date @expiresAt }`, 'schema.graphql'),
    { name: 'SchemaError', message: '@expiresAt on S.ends must also be @indexed in schema.graphql' });
  assert.throws(() => parseSchema(`type S @table(eviction: "soon") { id: ID @primaryKey }`, 'schema.graphql'),
    { name: 'SchemaError', message: '@table(eviction) of S must be a number of seconds (>= 0) in schema.graphql' });
});
