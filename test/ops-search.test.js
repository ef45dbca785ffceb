// search_by_id / search_by_hash, search_by_value and search_by_conditions over real HTTP (spec §2.4, §2.8).
// Every expected result is computed here from the records the test generated, by a deliberately simple oracle.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

const WORDS = ['abc', 'abcd', 'xabc', 'zab', 'bab', 'cat', 'dog', 'ab', 'Cabbage', 'nab'];
const TAGS = ['red', 'green', 'blue', 'x'];

function makeRecords() {
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n; };
  const records = [];
  for (let id = 1; id <= 60; id++) {
    const r = { id, name: WORDS[rnd(WORDS.length)], score: rnd(1000) / 10 };
    const a = rnd(10);
    if (a === 0) r.age = null; else if (a !== 1) r.age = rnd(40);
    const n = rnd(4);
    r.tags = Array.from({ length: n }, () => TAGS[rnd(TAGS.length)]);
    if (rnd(3)) r.city = `city${rnd(5)}`;
    records.push(r);
  }
  return records;
}

function scalarMatch(x, cmp, value) {
  switch (cmp) {
    case 'equals': return x === value;
    case 'contains': return typeof x === 'string' && x.includes(value);
    case 'starts_with': return typeof x === 'string' && x.startsWith(value);
    case 'ends_with': return typeof x === 'string' && x.endsWith(value);
    case 'greater_than': return x != null && typeof x === typeof value && x > value;
    case 'greater_than_equal': return x != null && typeof x === typeof value && x >= value;
    case 'less_than': return x != null && typeof x === typeof value && x < value;
    case 'less_than_equal': return x != null && typeof x === typeof value && x <= value;
    case 'between': return x != null && typeof x === typeof value[0] && x >= value[0] && x <= value[1];
    default: throw new Error(cmp);
  }
}

/** Spec semantics: an array attribute matches when any element matches; not_equal means no element equals. */
function oracle(rec, node) {
  if (node.conditions) {
    const op = (node.operator ?? 'and').toLowerCase();
    return op === 'or' ? node.conditions.some((c) => oracle(rec, c)) : node.conditions.every((c) => oracle(rec, c));
  }
  const v = rec[node.attribute];
  const vals = Array.isArray(v) ? v : [v];
  if (node.comparator === 'not_equal') return !vals.some((x) => x === node.value);
  return vals.some((x) => scalarMatch(x, node.comparator, node.value));
}

const pick = (rec, attrs) => Object.fromEntries(attrs.map((a) => [a, rec[a] ?? null]));
const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('search operations', () => {
  let server;
  let records;
  let ALL_ATTRS; // dynamic attributes are listed in order of first appearance
  const op = (body) => server.op(body);
  const T = { database: 'lab', table: 'person' };

  before(async () => {
    server = await startServer();
    records = makeRecords();
    ALL_ATTRS = ['id', '__createdtime__', '__updatedtime__', ...new Set(records.flatMap((r) => Object.keys(r)).filter((k) => k !== 'id'))];
    assert.equal((await op({ operation: 'create_table', ...T, primary_key: 'id' })).status, 200);
    const ins = await op({ operation: 'insert', ...T, records });
    assert.equal(ins.status, 200);
    assert.equal(ins.body.inserted_hashes.length, records.length);
  });
  after(async () => {
    if (!server) return;
    assert.equal(await server.stop(), 0);
    server.cleanup();
  });

  /** Run search_by_conditions and compare with the oracle, record by record (arrays per element). */
  async function checkConditions(body, attrs = ['id', 'name', 'age', 'tags']) {
    const res = await op({ operation: 'search_by_conditions', ...T, get_attributes: attrs, ...body });
    assert.equal(res.status, 200, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
    const tree = { operator: body.operator ?? 'and', conditions: body.conditions };
    const expected = records.filter((r) => oracle(r, tree)).map((r) => pick(r, attrs));
    assert.deepEqual([...res.body].sort(byId), expected.sort(byId), JSON.stringify(body));
    return res.body;
  }

  test('search_by_id returns records in ids order, omits missing ids and null-fills ["*"]', async () => {
    const res = await op({ operation: 'search_by_id', ...T, ids: [5, 999, 2, 3], get_attributes: ['*'] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.map((r) => r.id), [5, 2, 3]);
    for (const row of res.body) {
      assert.deepEqual(Object.keys(row), ALL_ATTRS);
      const src = records.find((r) => r.id === row.id);
      for (const a of ['name', 'age', 'score', 'tags', 'city']) assert.deepEqual(row[a], src[a] ?? null, a);
      assert.equal(typeof row.__createdtime__, 'number');
    }
    const noCity = records.find((r) => !('city' in r));
    const filled = await op({ operation: 'search_by_id', ...T, ids: [noCity.id], get_attributes: ['*'] });
    assert.equal(filled.body[0].city, null);
  });

  test('search_by_id returns exactly the requested attributes in request order', async () => {
    const res = await op({ operation: 'search_by_id', ...T, ids: [1, 2], get_attributes: ['tags', 'id', 'city'] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, [1, 2].map((id) => pick(records[id - 1], ['tags', 'id', 'city'])));
    for (const row of res.body) assert.deepEqual(Object.keys(row), ['tags', 'id', 'city']);
  });

  test('search_by_hash with hash_values is an alias of search_by_id with ids', async () => {
    const res = await op({ operation: 'search_by_hash', schema: 'lab', table: 'person', hash_values: [7, 8], get_attributes: ['id', 'name'] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, [pick(records[6], ['id', 'name']), pick(records[7], ['id', 'name'])]);
  });

  test('search_by_id validates its fields and names unknown attributes', async () => {
    const noAttrs = await op({ operation: 'search_by_id', ...T, ids: [1] });
    assert.equal(noAttrs.status, 400);
    assert.deepEqual(noAttrs.body, { error: "'get_attributes' is required" });
    const noIds = await op({ operation: 'search_by_id', ...T, get_attributes: ['*'] });
    assert.equal(noIds.status, 400);
    assert.deepEqual(noIds.body, { error: "'hash_values' is required" });
    const unknown = await op({ operation: 'search_by_id', ...T, ids: [1], get_attributes: ['id', 'wings', 'horns'] });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body, { error: "unknown attribute 'wings and horns'" });
  });

  test('search_by_value "*" returns every record, in key order, reversed by desc', async () => {
    const all = await op({ operation: 'search_by_value', ...T, search_attribute: 'name', search_value: '*', get_attributes: ['id'] });
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.map((r) => r.id), records.map((r) => r.id));
    const desc = await op({ operation: 'search_by_value', ...T, attribute: 'id', value: '*', desc: true, get_attributes: ['id'] });
    assert.deepEqual(desc.body.map((r) => r.id), records.map((r) => r.id).reverse());
  });

  test('search_by_value wildcards mean starts_with, ends_with and contains; plain values mean equality', async () => {
    const cases = [
      ['ab*', (n) => n.startsWith('ab')],
      ['*ab', (n) => n.endsWith('ab')],
      ['*ab*', (n) => n.includes('ab')],
      ['cat', (n) => n === 'cat'],
      ['Cab*', (n) => n.startsWith('Cab')],
    ];
    for (const [value, pred] of cases) {
      const res = await op({ operation: 'search_by_value', ...T, attribute: 'name', value, get_attributes: ['id', 'name'] });
      assert.equal(res.status, 200);
      const expected = records.filter((r) => pred(r.name)).map((r) => pick(r, ['id', 'name']));
      assert.ok(expected.length > 0, value);
      assert.deepEqual([...res.body].sort(byId), expected, value);
    }
    const age = await op({ operation: 'search_by_value', ...T, attribute: 'age', value: records[2].age ?? 3, get_attributes: ['id'] });
    assert.deepEqual(age.body.map((r) => r.id).sort((a, b) => a - b), records.filter((r) => r.age === (records[2].age ?? 3)).map((r) => r.id));
  });

  test('search_by_value matches array attributes per element', async () => {
    const res = await op({ operation: 'search_by_value', ...T, attribute: 'tags', value: 'blue', get_attributes: ['id', 'tags'] });
    const expected = records.filter((r) => r.tags.includes('blue')).map((r) => pick(r, ['id', 'tags']));
    assert.ok(expected.length > 0);
    assert.deepEqual([...res.body].sort(byId), expected);
  });

  test('search_by_value honours sort, limit and offset', async () => {
    const sorted = [...records].sort((a, b) => b.score - a.score || a.id - b.id);
    const res = await op({
      operation: 'search_by_value', ...T, attribute: 'id', value: '*', get_attributes: ['id', 'score'],
      sort: { attribute: 'score', descending: true, next: { attribute: 'id' } }, limit: 7, offset: 5,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, sorted.slice(5, 12).map((r) => pick(r, ['id', 'score'])));
    const limited = await op({ operation: 'search_by_value', ...T, attribute: 'id', value: '*', get_attributes: ['id'], limit: 3, offset: 2 });
    assert.deepEqual(limited.body.map((r) => r.id), [3, 4, 5]);
    const badLimit = await op({ operation: 'search_by_value', ...T, attribute: 'id', value: '*', get_attributes: ['id'], limit: 0 });
    assert.equal(badLimit.status, 400);
    assert.deepEqual(badLimit.body, { error: "'limit' must be greater than or equal to 1" });
  });

  test('search_by_conditions supports every comparator on numbers, strings and arrays', async () => {
    const cases = [
      { attribute: 'age', comparator: 'equals', value: 10 },
      { attribute: 'age', comparator: 'not_equal', value: 10 },
      { attribute: 'age', comparator: 'greater_than', value: 20 },
      { attribute: 'age', comparator: 'greater_than_equal', value: 20 },
      { attribute: 'age', comparator: 'less_than', value: 5 },
      { attribute: 'age', comparator: 'less_than_equal', value: 5 },
      { attribute: 'age', comparator: 'between', value: [10, 20] },
      { attribute: 'score', comparator: 'between', value: [12.5, 60.1] },
      { attribute: 'name', comparator: 'equals', value: 'dog' },
      { attribute: 'name', comparator: 'not_equal', value: 'dog' },
      { attribute: 'name', comparator: 'contains', value: 'ab' },
      { attribute: 'name', comparator: 'starts_with', value: 'ab' },
      { attribute: 'name', comparator: 'ends_with', value: 'ab' },
      { attribute: 'name', comparator: 'greater_than', value: 'cat' },
      { attribute: 'name', comparator: 'less_than_equal', value: 'bab' },
      { attribute: 'name', comparator: 'between', value: ['ab', 'cat'] },
      { attribute: 'city', comparator: 'starts_with', value: 'city' },
      { attribute: 'tags', comparator: 'equals', value: 'red' },
      { attribute: 'tags', comparator: 'not_equal', value: 'red' },
      { attribute: 'tags', comparator: 'starts_with', value: 'gr' },
      { attribute: 'tags', comparator: 'between', value: ['blue', 'red'] },
      { attribute: 'id', comparator: 'equals', value: 17 },
      { attribute: 'id', comparator: 'less_than', value: 9 },
    ];
    for (const c of cases) await checkConditions({ conditions: [c] });
  });

  test('search_by_conditions combines with and/or (any case) and nested groups', async () => {
    await checkConditions({ conditions: [{ attribute: 'age', comparator: 'greater_than', value: 10 }, { attribute: 'name', comparator: 'starts_with', value: 'ab' }] });
    await checkConditions({ operator: 'OR', conditions: [{ attribute: 'age', comparator: 'less_than', value: 5 }, { attribute: 'tags', comparator: 'equals', value: 'x' }] });
    await checkConditions({
      operator: 'and',
      conditions: [
        { operator: 'or', conditions: [{ attribute: 'name', comparator: 'equals', value: 'cat' }, { attribute: 'name', comparator: 'ends_with', value: 'c' }] },
        { operator: 'or', conditions: [{ attribute: 'age', comparator: 'between', value: [0, 15] }, { attribute: 'city', comparator: 'equals', value: 'city1' }] },
        { attribute: 'score', comparator: 'greater_than_equal', value: 10 },
      ],
    });
    await checkConditions({
      operator: 'or',
      conditions: [
        { operator: 'and', conditions: [{ attribute: 'tags', comparator: 'equals', value: 'red' }, { attribute: 'tags', comparator: 'equals', value: 'blue' }] },
        { attribute: 'id', comparator: 'greater_than', value: 55 },
      ],
    });
  });

  test('search_by_conditions accepts the legacy search_attribute, search_type and search_value names', async () => {
    const legacy = await op({
      operation: 'search_by_conditions', ...T, get_attributes: ['id'],
      conditions: [{ search_attribute: 'name', search_type: 'equals', search_value: 'cat' }],
    });
    assert.equal(legacy.status, 200);
    assert.deepEqual(legacy.body.map((r) => r.id).sort((a, b) => a - b), records.filter((r) => r.name === 'cat').map((r) => r.id));
  });

  test('search_by_conditions sorts with next, then applies offset and limit', async () => {
    const conditions = [{ attribute: 'score', comparator: 'greater_than', value: 5 }];
    const expected = records.filter((r) => r.score > 5)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || b.score - a.score)
      .map((r) => pick(r, ['name', 'score', 'id']));
    const full = await op({
      operation: 'search_by_conditions', ...T, conditions, get_attributes: ['name', 'score', 'id'],
      sort: { attribute: 'name', next: { attribute: 'score', descending: true } },
    });
    assert.equal(full.status, 200);
    assert.deepEqual(full.body, expected);
    const page = await op({
      operation: 'search_by_conditions', ...T, conditions, get_attributes: ['name', 'score', 'id'],
      sort: { attribute: 'name', next: { attribute: 'score', descending: true } }, offset: 4, limit: 6,
    });
    assert.deepEqual(page.body, expected.slice(4, 10));
  });

  test('search_by_conditions without get_attributes returns whole null-filled records', async () => {
    const res = await op({ operation: 'search_by_conditions', ...T, conditions: [{ attribute: 'id', comparator: 'equals', value: 4 }] });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 1);
    assert.deepEqual(Object.keys(res.body[0]), ALL_ATTRS);
    assert.deepEqual(res.body[0].tags, records[3].tags);
  });

  test('search_by_conditions refuses an or with one condition and an invalid operator', async () => {
    const one = await op({ operation: 'search_by_conditions', ...T, operator: 'or', conditions: [{ attribute: 'id', comparator: 'equals', value: 1 }] });
    assert.equal(one.status, 400);
    assert.deepEqual(one.body, { error: 'An "or" operator requires at least two conditions' });
    const bad = await op({ operation: 'search_by_conditions', ...T, operator: 'xor', conditions: [{ attribute: 'id', comparator: 'equals', value: 1 }] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { error: 'Invalid operator xor' });
    const nested = await op({
      operation: 'search_by_conditions', ...T,
      conditions: [{ operator: 'nand', conditions: [{ attribute: 'id', comparator: 'equals', value: 1 }] }],
    });
    assert.equal(nested.status, 400);
    assert.deepEqual(nested.body, { error: 'Invalid operator nand' });
    const badComparator = await op({ operation: 'search_by_conditions', ...T, conditions: [{ attribute: 'id', comparator: 'like', value: 1 }] });
    assert.equal(badComparator.status, 400);
  });

  test('search_by_conditions names every unknown attribute in one message', async () => {
    const res = await op({
      operation: 'search_by_conditions', ...T,
      conditions: [
        { attribute: 'wings', comparator: 'equals', value: 1 },
        { attribute: 'name', comparator: 'equals', value: 'cat' },
        { operator: 'or', conditions: [{ attribute: 'horns', comparator: 'equals', value: 1 }, { attribute: 'tail', comparator: 'equals', value: 1 }] },
      ],
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: "unknown attribute 'wings, horns and tail'" });
  });

  test('unknown databases and tables: 404 for searches, 400 Table <t> not found for search_by_conditions', async () => {
    const cond = { conditions: [{ attribute: 'id', comparator: 'equals', value: 1 }] };
    const sbc = await op({ operation: 'search_by_conditions', database: 'lab', table: 'ghost', ...cond });
    assert.equal(sbc.status, 400);
    assert.deepEqual(sbc.body, { error: 'Table ghost not found' });
    const sbcDb = await op({ operation: 'search_by_conditions', database: 'nolab', table: 'person', ...cond });
    assert.equal(sbcDb.status, 404);
    assert.deepEqual(sbcDb.body, { error: "database 'nolab' does not exist" });
    const byId = await op({ operation: 'search_by_id', database: 'lab', table: 'ghost', ids: [1], get_attributes: ['*'] });
    assert.equal(byId.status, 404);
    assert.deepEqual(byId.body, { error: "Table 'lab.ghost' does not exist" });
    const byValueDb = await op({ operation: 'search_by_value', database: 'nolab', table: 'person', attribute: 'id', value: 1 });
    assert.equal(byValueDb.status, 404);
    assert.deepEqual(byValueDb.body, { error: "database 'nolab' does not exist" });
    const byValue = await op({ operation: 'search_by_value', database: 'lab', table: 'ghost', attribute: 'id', value: 1 });
    assert.equal(byValue.status, 404);
    assert.deepEqual(byValue.body, { error: "Table 'lab.ghost' does not exist" });
  });

  test('values that cannot be keys or index entries are searched without errors', async () => {
    const cases = [
      { attribute: 'id', comparator: 'equals', value: { a: 1 } },
      { attribute: 'id', comparator: 'equals', value: null },
      { attribute: 'name', comparator: 'equals', value: ['cat'] },
      { attribute: 'name', comparator: 'equals', value: { x: 1 } },
    ];
    for (const c of cases) {
      const res = await op({ operation: 'search_by_conditions', ...T, conditions: [c], get_attributes: ['id'] });
      assert.equal(res.status, 200, JSON.stringify(c));
      assert.deepEqual(res.body, []);
    }
    const alive = await op({ operation: 'search_by_id', ...T, ids: [1], get_attributes: ['id'] });
    assert.deepEqual(alive.body, [{ id: 1 }]);
  });

  test('strings longer than 400 characters are found by equality, prefix and range', async () => {
    const long = 'q'.repeat(450);
    const ins = await op({ operation: 'insert', database: 'lab', table: 'text', records: [] });
    assert.equal(ins.status, 400); // the table does not exist yet
    await op({ operation: 'create_table', database: 'lab', table: 'text', primary_key: 'id' });
    await op({ operation: 'insert', database: 'lab', table: 'text', records: [{ id: 1, body: `${long}a` }, { id: 2, body: `${long}b` }, { id: 3, body: 'apple' }] });
    const q = (conditions) => op({ operation: 'search_by_conditions', database: 'lab', table: 'text', conditions, get_attributes: ['id'] });
    assert.deepEqual((await q([{ attribute: 'body', comparator: 'equals', value: `${long}b` }])).body, [{ id: 2 }]);
    assert.deepEqual((await q([{ attribute: 'body', comparator: 'starts_with', value: `${long}a` }])).body, [{ id: 1 }]);
    assert.deepEqual((await q([{ attribute: 'body', comparator: 'greater_than', value: `${long}a` }])).body, [{ id: 2 }]);
    assert.deepEqual((await q([{ attribute: 'body', comparator: 'between', value: [`${long}a`, `${long}az`] }])).body, [{ id: 1 }]);
    const byValue = await op({ operation: 'search_by_value', database: 'lab', table: 'text', attribute: 'body', value: `${long}*`, get_attributes: ['id'] });
    assert.deepEqual(byValue.body.map((r) => r.id).sort(), [1, 2]);
  });
});
