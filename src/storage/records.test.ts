import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyRecord, copyWithKey } from './records.js';

test('copies merge left to right, set the key last, and leave their sources alone', () => {
  const base = { id: 1, a: 1, b: 2 };
  const over = { b: 3, c: 4 };
  const out = copyWithKey(base, 'id', 9, over);
  assert.deepEqual(out, { id: 9, a: 1, b: 3, c: 4 });
  assert.deepEqual(Object.keys(out), ['id', 'a', 'b', 'c']);
  assert.deepEqual(base, { id: 1, a: 1, b: 2 });
  assert.deepEqual(copyWithKey(over, 'id', 'k'), { b: 3, c: 4, id: 'k' });
  const c = copyRecord(base);
  assert.notEqual(c, base);
  assert.deepEqual(c, base);
});

test('a __proto__ key from a JSON body stays an own property and never replaces the prototype', () => {
  const body = JSON.parse('{"name":"x","__proto__":{"polluted":true}}');
  for (const out of [copyRecord(body), copyWithKey(body, 'id', 1), copyWithKey({ id: 1 }, 'id', 1, body)]) {
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.ok(Object.hasOwn(out, '__proto__'));
    assert.equal((out as Record<string, unknown>).polluted, undefined);
  }
});
