import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatePartial, finishGroups, mergeOwned, mergePartials, type AggSpec } from './aggregate.js';

interface R { g: string | null; v: unknown }

function rows(n: number, seed: number): R[] {
  let x = seed;
  const rnd = () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const out: R[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const v = r < 0.1 ? null : r < 0.2 ? String(Math.floor(rnd() * 20)) : Math.floor(rnd() * 50) - 10;
    out.push({ g: rnd() < 0.05 ? null : ['a', 'b', 'c', 'd'][Math.floor(rnd() * 4)]!, v });
  }
  return out;
}

const SPECS: AggSpec[] = [
  { name: 'COUNT', star: true }, { name: 'COUNT' }, { name: 'COUNT', distinct: true }, { name: 'SUM' },
  { name: 'SUM', distinct: true }, { name: 'AVG' }, { name: 'MIN' }, { name: 'MAX' }, { name: 'GROUP_CONCAT' },
  { name: 'ARRAY' }, { name: 'DISTINCT_ARRAY' }, { name: 'MEDIAN' }, { name: 'MODE' }, { name: 'MAD' },
  { name: 'GROUP_CONCAT', distinct: true },
];
// PROD is left out of the exact comparisons: floating-point products round differently when regrouped.
const keyOf = (r: R) => [r.g];
const args = SPECS.map(() => (r: R) => r.v);

test('merging the partials of any chunking equals aggregating the whole input', () => {
  for (const seed of [1, 7, 42, 1234]) {
    const data = rows(500, seed);
    const whole = finishGroups(aggregatePartial(data, SPECS, keyOf, args), SPECS);
    for (const chunk of [1, 3, 64, 250, 499]) {
      let merged = aggregatePartial<R>([], SPECS, keyOf, args);
      for (let i = 0; i < data.length; i += chunk) {
        merged = mergePartials(merged, aggregatePartial(data.slice(i, i + chunk), SPECS, keyOf, args), SPECS);
      }
      assert.deepEqual(finishGroups(merged, SPECS), whole, `seed ${seed}, chunk ${chunk}`);
      const parts = [];
      for (let i = 0; i < data.length; i += chunk) parts.push(aggregatePartial(data.slice(i, i + chunk), SPECS, keyOf, args));
      assert.deepEqual(finishGroups(mergeOwned(parts, SPECS), SPECS), whole, `mergeOwned: seed ${seed}, chunk ${chunk}`);
    }
  }
});

test('sums and averages of fractional values are identical however the input is chunked', () => {
  let x = 99;
  const rnd = () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const data: R[] = [];
  for (let i = 0; i < 2000; i++) data.push({ g: ['a', 'b'][i % 2]!, v: Math.round(rnd() * 1e6) / 1e3 - 200 });
  const specs: AggSpec[] = [{ name: 'SUM' }, { name: 'AVG' }, { name: 'SUM', distinct: true }];
  const a = specs.map(() => (r: R) => r.v);
  const whole = finishGroups(aggregatePartial(data, specs, keyOf, a), specs);
  // a plain running sum of these values depends on the order: the test data must show that
  const naive = (rows: R[]) => rows.reduce((t, r) => t + (r.v as number), 0);
  const sa = data.filter((r) => r.g === 'a');
  const chunkedNaive = (size: number) => { let t = 0; for (let i = 0; i < sa.length; i += size) t += naive(sa.slice(i, i + size)); return t; };
  assert.ok([7, 100, 333].some((size) => chunkedNaive(size) !== naive(sa)), 'the data must be order-sensitive under +=');
  for (const chunk of [7, 100, 333, 1999]) {
    let merged = aggregatePartial<R>([], specs, keyOf, a);
    for (let i = 0; i < data.length; i += chunk) merged = mergePartials(merged, aggregatePartial(data.slice(i, i + chunk), specs, keyOf, a), specs);
    assert.deepEqual(finishGroups(merged, specs), whole, `chunk ${chunk}`);
  }
  // and the exact sum is the correctly rounded one
  const [g] = finishGroups(aggregatePartial([{ g: 'x', v: 0.1 }, { g: 'x', v: 0.2 }, { g: 'x', v: -0.3 }], specs, keyOf, a), specs);
  assert.equal(g!.values[0], 2.7755575615628914e-17);
  const [inf] = finishGroups(aggregatePartial([{ g: 'x', v: 1e308 }, { g: 'x', v: 1e308 }, { g: 'x', v: 1 }], specs, keyOf, a), specs);
  assert.equal(inf!.values[0], Infinity);
});

test('merging does not change the partials it was given', () => {
  const data = rows(300, 5);
  const a = aggregatePartial(data.slice(0, 150), SPECS, keyOf, args);
  const b = aggregatePartial(data.slice(150), SPECS, keyOf, args);
  const before = structuredClone(a);
  mergePartials(a, b, SPECS);
  assert.deepEqual(a, before);
});

test('partials survive structured clone, as they must to cross worker threads', () => {
  const data = rows(200, 9);
  const a = aggregatePartial(data.slice(0, 100), SPECS, keyOf, args);
  const b = aggregatePartial(data.slice(100), SPECS, keyOf, args);
  const merged = mergePartials(structuredClone(a), structuredClone(b), SPECS);
  assert.deepEqual(finishGroups(merged, SPECS), finishGroups(aggregatePartial(data, SPECS, keyOf, args), SPECS));
});

test('aggregates skip nulls, COUNT(*) counts rows, and numeric text is summed as numbers', () => {
  const data: R[] = [{ g: 'x', v: 1 }, { g: 'x', v: null }, { g: 'x', v: '2' }, { g: 'x', v: 1 }];
  const [g] = finishGroups(aggregatePartial(data, SPECS, keyOf, args), SPECS);
  const byName = Object.fromEntries(SPECS.map((s, i) => [`${s.name}${s.distinct ? ' distinct' : ''}${s.star ? '*' : ''}`, g!.values[i]]));
  assert.equal(byName['COUNT*'], 4);
  assert.equal(byName.COUNT, 3);
  assert.equal(byName['COUNT distinct'], 2);
  assert.equal(byName.SUM, 4);
  assert.equal(byName['SUM distinct'], 3);
  assert.equal(byName.AVG, 4 / 3);
  assert.equal(byName.MIN, 1);
  assert.equal(byName.MAX, '2'); // the storage order puts text after numbers
  assert.equal(byName.GROUP_CONCAT, '1,2,1');
  assert.deepEqual(byName.DISTINCT_ARRAY, [1, '2']);
  assert.equal(byName.MEDIAN, 1);
});
