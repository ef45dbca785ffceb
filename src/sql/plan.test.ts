import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from './parse.js';
import { compileExpr, newScope } from './compile.js';
import { planWhere } from './plan.js';
import { sqlCompare, sqlEquals, truthy } from './values.js';
import type { Source } from './types.js';

// A table stand-in for planning: planning only asks about names, attributes and indexes.
const fakeTable = (name: string, attrs: string[]) => ({
  name, primaryKey: 'id', def: { schemaDefined: false }, indexes: new Map(attrs.map((a) => [a, {}])),
  hasAttribute: (a: string) => a === 'id' || attrs.includes(a), attributeNames: () => ['id', ...attrs],
});
const dog = { database: 'dev', alias: 'dog', table: fakeTable('dog', ['name', 'age']) } as unknown as Source;

function where(sql: string) {
  return parseStatement(`SELECT * FROM dev.dog WHERE ${sql}`).where;
}

test('an equality on a column is pushed as every literal form that can equal it', () => {
  const scope = newScope([dog]);
  assert.deepEqual(planWhere(where('age = 5'), scope), {
    operator: 'or', conditions: [
      { attribute: 'age', comparator: 'equals', value: 5 }, { attribute: 'age', comparator: 'equals', value: '5' },
    ],
  });
  assert.deepEqual(planWhere(where("name = 'Penny'"), scope), { attribute: 'name', comparator: 'equals', value: 'Penny' });
});

test('untranslatable conjuncts are dropped from an AND but make an OR unplannable', () => {
  const scope = newScope([dog]);
  assert.deepEqual(planWhere(where("name LIKE 'Pe%' AND UPPER(name) = 'X'"), scope),
    { attribute: 'name', comparator: 'starts_with', value: 'Pe' });
  assert.equal(planWhere(where("name LIKE 'Pe%' OR UPPER(name) = 'X'"), scope), undefined);
  assert.equal(planWhere(where("name LIKE '%e'"), scope), undefined);
});

test('a range with the column on the right is flipped', () => {
  const scope = newScope([dog]);
  const tree = planWhere(where('3 < age'), scope) as { conditions: Array<{ comparator: string; value: unknown }> };
  assert.equal(tree.conditions[0]!.comparator, 'greater_than');
  assert.equal(tree.conditions[0]!.value, 3);
});

test('comparisons coerce canonical numeric text and treat null as unknown', () => {
  assert.equal(sqlEquals(5, '5'), true);
  assert.equal(sqlEquals(5, '5.0'), false);
  assert.equal(sqlCompare(10, '9'), 1);
  assert.equal(sqlCompare('10', '9'), -1);
  assert.equal(sqlEquals(null, null), null);
  assert.equal(sqlCompare(new Date(1000), 999), 1);
});

test('expressions evaluate with three-valued logic', () => {
  const scope = newScope([dog]);
  const ev = (sql: string, rec: Record<string, unknown>) =>
    compileExpr(parseStatement(`SELECT ${sql} AS x FROM dev.dog`).columns[0].expr, scope)({ recs: [rec] });
  assert.equal(ev('age > 3 AND name IS NULL', { age: 5 }), true);
  assert.equal(ev('age > 3 OR name = 1', { name: null }), null);
  assert.equal(truthy(ev('age IN (1, 2, 3)', { age: '2' })), true);
  assert.equal(ev('age BETWEEN 1 AND 5', { age: 5 }), true);
  assert.equal(ev("CONCAT(name, '-', age)", { name: 'a', age: 1 }), 'a-1');
  assert.equal(ev('ROUND(age / 3, 2)', { age: 10 }), 3.33);
  assert.equal(ev("DATE_ADD('2024-01-31T00:00:00Z', 1, 'days')", {}), Date.UTC(2024, 1, 1));
  assert.equal(ev("YEAR('2024-05-06T00:00:00Z')", {}), 2024);
  assert.equal(ev("CAST('42' AS INT) + 1", {}), 43);
  assert.equal(ev('IFNULL(name, age)', { age: 2 }), 2);
  assert.equal(ev("SUBSTRING('harper', 2, 3)", {}), 'arp');
});

test('malformed SQL becomes a 400 with the spec message', () => {
  for (const sql of ['SELECT FROM WHERE', 'SELECT * FROM dev.dog WHERE', "SELECT 'unterminated FROM dev.dog"]) {
    assert.throws(() => parseStatement(sql), (err: any) => err.status === 400 && /Invalid SQL at|trouble parsing/.test(err.message));
  }
  assert.throws(() => parseStatement('DROP TABLE dev.dog'), (err: any) => err.status === 400 && /^unsupported SQL type DROP/.test(err.message));
});
