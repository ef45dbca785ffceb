// insert / update / upsert / delete over real HTTP (spec §2.8, §3.1, §3.2, §3.4, §3.6, §3.7).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

const SYSTEM_BODY = {
  error: "The 'system' database, tables and records are used internally by HarperDB and cannot be updated or removed.",
};

describe('data operations', () => {
  let server;
  const op = (body) => server.op(body);
  const get = async (table, ids, database = 'shop') => {
    const res = await op({ operation: 'search_by_id', database, table, ids, get_attributes: ['*'] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const describeTable = async (table, database = 'shop') => (await op({ operation: 'describe_table', database, table })).body;
  const allIds = async (table, database = 'shop') =>
    (await op({ operation: 'search_by_value', database, table, attribute: 'id', value: '*', get_attributes: ['id'] })).body.map((r) => r.id);

  before(async () => {
    server = await startServer();
    for (const table of ['item', 'txn', 'names', 'merge', 'dup', 'del', 'bulk']) {
      const res = await op({ operation: 'create_table', database: 'shop', table, primary_key: 'id' });
      assert.equal(res.status, 200);
    }
  });
  after(async () => {
    if (!server) return;
    assert.equal(await server.stop(), 0);
    server.cleanup();
  });

  test('insert writes new records, skips existing keys and lists new attributes', async () => {
    const first = await op({ operation: 'insert', database: 'shop', table: 'item', records: [{ id: 1, name: 'pen' }] });
    assert.equal(first.status, 200);
    assert.equal(first.body.message, 'inserted 1 of 1 records');
    assert.deepEqual(first.body.inserted_hashes, [1]);
    assert.deepEqual(first.body.skipped_hashes, []);
    assert.deepEqual(first.body.new_attributes, ['name']);
    assert.equal(typeof first.body.txn_time, 'number');

    const res = await op({ operation: 'insert', database: 'shop', table: 'item', records: [{ id: 1, name: 'changed' }, { id: 2, name: 'ink', color: 'blue' }, { id: 'x', name: 'pad' }] });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['message', 'new_attributes', 'txn_time', 'inserted_hashes', 'skipped_hashes']);
    assert.equal(res.body.message, 'inserted 2 of 3 records');
    assert.deepEqual(res.body.inserted_hashes, [2, 'x']);
    assert.deepEqual(res.body.skipped_hashes, [1]);
    assert.deepEqual(res.body.new_attributes, ['color']);
    assert.ok(res.body.txn_time > first.body.txn_time);

    const rows = await get('item', [1, 2, 'x']);
    assert.deepEqual(rows.map((r) => [r.id, r.name, r.color]), [[1, 'pen', null], [2, 'ink', 'blue'], ['x', 'pad', null]]);
    const d = await describeTable('item');
    assert.equal(d.record_count, 3);
    assert.deepEqual(d.attributes.map((a) => a.attribute), ['id', '__createdtime__', '__updatedtime__', 'name', 'color']);
    assert.equal(d.attributes.find((a) => a.attribute === 'color').indexed, true);
  });

  test('insert without a primary key generates large, increasing numeric keys and stores them in the records', async () => {
    const res = await op({ operation: 'insert', database: 'shop', table: 'item', records: [{ name: 'g1' }, { name: 'g2' }, { name: 'g3' }] });
    assert.equal(res.status, 200);
    const keys = res.body.inserted_hashes;
    assert.equal(keys.length, 3);
    for (const k of keys) {
      assert.equal(typeof k, 'number');
      assert.ok(Number.isSafeInteger(k));
    }
    assert.ok(keys[0] < keys[1] && keys[1] < keys[2], `increasing: ${keys}`);
    const more = await op({ operation: 'insert', database: 'shop', table: 'item', records: [{ name: 'g4' }] });
    assert.ok(more.body.inserted_hashes[0] > keys[2]);
    // "large": allocated from a random block in [0, 2^49), not 1, 2, 3 (spec §3.4); a block start below 1000 is
    // possible only with probability ~1000/2^49
    assert.ok(keys[0] >= 1000, `large keys: ${keys}`);
    const rows = await get('item', keys);
    assert.deepEqual(rows.map((r) => [r.id, r.name]), [[keys[0], 'g1'], [keys[1], 'g2'], [keys[2], 'g3']]);
  });

  test('timestamps are the transaction time, ignore client values, and update keeps __createdtime__', async () => {
    const ins = await op({ operation: 'insert', database: 'shop', table: 'item', records: [{ id: 'ts', name: 'a', __createdtime__: 5, __updatedtime__: 6 }] });
    assert.equal(ins.status, 200);
    let [rec] = await get('item', ['ts']);
    assert.equal(rec.__createdtime__, ins.body.txn_time);
    assert.equal(rec.__updatedtime__, ins.body.txn_time);
    const upd = await op({ operation: 'update', database: 'shop', table: 'item', records: [{ id: 'ts', name: 'b', __createdtime__: 1 }] });
    assert.equal(upd.status, 200);
    [rec] = await get('item', ['ts']);
    assert.equal(rec.__createdtime__, ins.body.txn_time);
    assert.equal(rec.__updatedtime__, upd.body.txn_time);
    assert.ok(upd.body.txn_time > ins.body.txn_time);
    const ups = await op({ operation: 'upsert', database: 'shop', table: 'item', records: [{ id: 'ts', name: 'c' }] });
    [rec] = await get('item', ['ts']);
    assert.equal(rec.__createdtime__, ins.body.txn_time);
    assert.equal(rec.__updatedtime__, ups.body.txn_time);
  });

  test('update merges top-level properties, sets explicit nulls, replaces nested objects and skips missing keys', async () => {
    await op({ operation: 'insert', database: 'shop', table: 'merge', records: [{ id: 1, a: 1, b: 2, nested: { x: 1, y: 2 }, list: [1, 2] }] });
    const res = await op({ operation: 'update', database: 'shop', table: 'merge', records: [{ id: 1, b: null, nested: { z: 3 }, c: 'new' }, { id: 404, a: 9 }] });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['message', 'new_attributes', 'txn_time', 'update_hashes', 'skipped_hashes']);
    assert.equal(res.body.message, 'updated 1 of 2 records');
    assert.deepEqual(res.body.update_hashes, [1]);
    assert.deepEqual(res.body.skipped_hashes, [404]);
    assert.deepEqual(res.body.new_attributes, ['c']);
    const [rec] = await get('merge', [1]);
    assert.equal(rec.a, 1);
    assert.equal(rec.b, null);
    assert.ok('b' in rec);
    assert.deepEqual(rec.nested, { z: 3 });
    assert.deepEqual(rec.list, [1, 2]);
    assert.equal(rec.c, 'new');
    assert.deepEqual(await get('merge', [404]), []);
  });

  test('update without the primary key in every record is refused and writes nothing', async () => {
    const res = await op({ operation: 'update', database: 'shop', table: 'merge', records: [{ id: 1, a: 'changed' }, { a: 2 }] });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: 'a valid hash attribute must be provided with update record, check log for more info' });
    const [rec] = await get('merge', [1]);
    assert.equal(rec.a, 1);
  });

  test('upsert merges into existing records and creates missing ones, without skipped_hashes', async () => {
    const res = await op({ operation: 'upsert', database: 'shop', table: 'merge', records: [{ id: 1, a: 100 }, { id: 2, a: 200 }, { a: 300 }] });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['message', 'new_attributes', 'txn_time', 'upserted_hashes']);
    assert.equal(res.body.message, 'upserted 3 of 3 records');
    assert.deepEqual(res.body.upserted_hashes.slice(0, 2), [1, 2]);
    assert.equal(typeof res.body.upserted_hashes[2], 'number');
    assert.deepEqual(res.body.new_attributes, []);
    const rows = await get('merge', res.body.upserted_hashes);
    assert.equal(rows[0].a, 100);
    assert.equal(rows[0].c, 'new'); // kept from before
    assert.deepEqual(rows[0].nested, { z: 3 });
    assert.equal(rows[1].a, 200);
    assert.equal(rows[1].c, null);
    assert.equal(rows[2].a, 300);
    assert.equal(rows[2].__createdtime__, res.body.txn_time);
  });

  test('duplicate keys in one request: a later record sees the earlier one', async () => {
    const ins = await op({ operation: 'insert', database: 'shop', table: 'dup', records: [{ id: 1, v: 'first' }, { id: 1, v: 'second' }] });
    assert.equal(ins.status, 200);
    assert.equal(ins.body.message, 'inserted 1 of 2 records');
    assert.deepEqual(ins.body.inserted_hashes, [1]);
    assert.deepEqual(ins.body.skipped_hashes, [1]);
    assert.equal((await get('dup', [1]))[0].v, 'first');

    const ups = await op({ operation: 'upsert', database: 'shop', table: 'dup', records: [{ id: 2, a: 1 }, { id: 2, b: 2 }] });
    assert.equal(ups.body.message, 'upserted 2 of 2 records');
    assert.deepEqual(ups.body.upserted_hashes, [2, 2]);
    const [rec] = await get('dup', [2]);
    assert.equal(rec.a, 1);
    assert.equal(rec.b, 2);

    const upd = await op({ operation: 'update', database: 'shop', table: 'dup', records: [{ id: 1, v: 'x', n: 1 }, { id: 1, v: 'y' }] });
    assert.equal(upd.body.message, 'updated 2 of 2 records');
    const [one] = await get('dup', [1]);
    assert.equal(one.v, 'y');
    assert.equal(one.n, 1);
  });

  test('a request with one bad record writes nothing at all (one transaction)', async () => {
    const before = await describeTable('txn');
    const bad = [
      [{ id: 10, a: 1 }, { id: 'null', a: 2 }],
      [{ id: 11, fresh1: 1 }, 5],
      [{ id: 12, fresh2: 1 }, { id: 13, 'bad/name': 1 }],
      [{ id: 14, fresh3: 1 }, { id: 15, ['n'.repeat(251)]: 1 }],
      [{ id: 16 }, { id: { nested: true } }],
    ];
    for (const records of bad) {
      for (const operation of ['insert', 'upsert']) {
        const res = await op({ operation, database: 'shop', table: 'txn', records });
        assert.equal(res.status, 400, `${operation} ${JSON.stringify(records).slice(0, 60)}: ${JSON.stringify(res.body)}`);
      }
    }
    const after = await describeTable('txn');
    assert.equal(after.record_count, before.record_count);
    assert.deepEqual(after.attributes, before.attributes);
    assert.deepEqual(await allIds('txn'), []);
    // the table still takes good writes
    const ok = await op({ operation: 'insert', database: 'shop', table: 'txn', records: [{ id: 10, a: 1 }] });
    assert.equal(ok.status, 200);
    assert.deepEqual(await allIds('txn'), [10]);
  });

  test('invalid attribute names and hash values are refused with the spec messages', async () => {
    const before = await describeTable('names');
    const cases = [
      [{ id: 1, '': 1 }, "Invalid attribute name: ''"],
      [{ id: 1, null: 1 }, "Invalid attribute name: 'null'"],
      [{ id: 1, undefined: 1 }, "Invalid attribute name: 'undefined'"],
      [{ id: 1, '   ': 1 }, 'transaction aborted due to record(s) with an attribute name that is null, undefined or empty string'],
      [{ id: 1, 'a/b': 1 }, 'Attribute names cannot include backticks or forward slashes'],
      [{ id: 1, 'a`b': 1 }, 'Attribute names cannot include backticks or forward slashes'],
      [{ id: 1, ['x'.repeat(251)]: 1 }, `transaction aborted due to attribute name ${'x'.repeat(251)} being too long. Attribute names cannot be longer than 250 bytes.`],
      [{ id: 'null', a: 1 }, "Invalid hash value: 'null' is not a valid hash attribute value, check log for more info"],
      [{ id: 'undefined', a: 1 }, "Invalid hash value: 'undefined' is not a valid hash attribute value, check log for more info"],
    ];
    for (const [record, message] of cases) {
      const res = await op({ operation: 'insert', database: 'shop', table: 'names', records: [record] });
      assert.equal(res.status, 400, message);
      assert.deepEqual(res.body, { error: message });
    }
    for (const id of ['null', 'undefined']) {
      const del = await op({ operation: 'delete', database: 'shop', table: 'names', ids: [id] });
      assert.equal(del.status, 400);
      assert.deepEqual(del.body, { error: `Invalid hash value: '${id}' is not a valid hash attribute value, check log for more info` });
    }
    const after = await describeTable('names');
    assert.equal(after.record_count, 0);
    assert.deepEqual(after.attributes, before.attributes);
    const okLong = await op({ operation: 'insert', database: 'shop', table: 'names', records: [{ id: 1, ['y'.repeat(250)]: 1 }] });
    assert.equal(okLong.status, 200);
    assert.deepEqual(okLong.body.new_attributes, ['y'.repeat(250)]);
  });

  test('delete says record for one id and records otherwise, and accepts hash_values', async () => {
    await op({ operation: 'insert', database: 'shop', table: 'del', records: [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 'k' }] });
    const one = await op({ operation: 'delete', database: 'shop', table: 'del', ids: [1] });
    assert.equal(one.status, 200);
    assert.deepEqual(Object.keys(one.body).sort(), ['deleted_hashes', 'message', 'skipped_hashes', 'txn_time']);
    assert.equal(one.body.message, '1 of 1 record successfully deleted');
    assert.deepEqual(one.body.deleted_hashes, [1]);
    assert.deepEqual(one.body.skipped_hashes, []);
    assert.equal(typeof one.body.txn_time, 'number');
    const two = await op({ operation: 'delete', schema: 'shop', table: 'del', hash_values: [2, 'k'] });
    assert.equal(two.status, 200);
    assert.equal(two.body.message, '2 of 2 records successfully deleted');
    assert.deepEqual(two.body.deleted_hashes, [2, 'k']);
    assert.deepEqual(await allIds('del'), [3]);
    assert.equal((await describeTable('del')).record_count, 1);
    // searches no longer find the deleted records through the indexes either
    const byTime = await op({ operation: 'search_by_conditions', database: 'shop', table: 'del', conditions: [{ attribute: '__createdtime__', comparator: 'greater_than', value: 0 }], get_attributes: ['id'] });
    assert.deepEqual(byTime.body, [{ id: 3 }]);
  });

  test('delete without ids is refused with the hash_values message', async () => {
    const res = await op({ operation: 'delete', database: 'shop', table: 'del' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: "'hash_values' is required" });
    assert.deepEqual(await allIds('del'), [3]);
  });

  test('schema is accepted for database on writes, and database wins when both are given', async () => {
    await op({ operation: 'create_table', database: 'other', table: 'item', primary_key: 'id' });
    const viaSchema = await op({ operation: 'insert', schema: 'other', table: 'item', records: [{ id: 'via-schema' }] });
    assert.equal(viaSchema.status, 200);
    const both = await op({ operation: 'insert', database: 'other', schema: 'shop', table: 'item', records: [{ id: 'via-both' }] });
    assert.equal(both.status, 200);
    assert.deepEqual((await allIds('item', 'other')).sort(), ['via-both', 'via-schema']);
    assert.deepEqual(await get('item', ['via-schema', 'via-both'], 'shop'), []);
  });

  test('writes to an unknown database or table answer 400; delete answers 404', async () => {
    for (const operation of ['insert', 'update', 'upsert']) {
      const noDb = await op({ operation, database: 'nowhere', table: 'item', records: [{ id: 1 }] });
      assert.equal(noDb.status, 400, operation);
      assert.deepEqual(noDb.body, { error: "database 'nowhere' does not exist" });
      const noTable = await op({ operation, database: 'shop', table: 'nothing', records: [{ id: 1 }] });
      assert.equal(noTable.status, 400, operation);
      assert.deepEqual(noTable.body, { error: "Table 'shop.nothing' does not exist" });
    }
    const delDb = await op({ operation: 'delete', database: 'nowhere', table: 'item', ids: [1] });
    assert.equal(delDb.status, 404);
    assert.deepEqual(delDb.body, { error: "database 'nowhere' does not exist" });
    const delTable = await op({ operation: 'delete', database: 'shop', table: 'nothing', ids: [1] });
    assert.equal(delTable.status, 404);
    assert.deepEqual(delTable.body, { error: "Table 'shop.nothing' does not exist" });
    const all = await op({ operation: 'describe_all' });
    assert.ok(!('nowhere' in all.body));
    assert.ok(!('nothing' in all.body.shop));
  });

  test('record writes to the system database are refused with the 403 body', async () => {
    const cases = [
      { operation: 'insert', database: 'system', table: 'hdb_info', records: [{ info_id: 'x' }] },
      { operation: 'update', database: 'system', table: 'hdb_info', records: [{ info_id: 'version', hdb_version: 'evil' }] },
      { operation: 'upsert', schema: 'system', table: 'hdb_job', records: [{ id: 'x' }] },
      { operation: 'delete', database: 'system', table: 'hdb_info', ids: ['version'] },
    ];
    for (const body of cases) {
      const res = await op(body);
      assert.equal(res.status, 403, body.operation);
      assert.deepEqual(res.body, SYSTEM_BODY);
    }
    const info = await op({ operation: 'search_by_id', database: 'system', table: 'hdb_info', ids: ['version', 'x'], get_attributes: ['*'] });
    assert.equal(info.body.length, 1);
    assert.notEqual(info.body[0].hdb_version, 'evil');
  });

  test('schema-defined tables omit new_attributes, add no attributes and store extra properties', async () => {
    await op({ operation: 'create_table', database: 'shop', table: 'typed', primary_key: 'id', attributes: [{ name: 'id' }, { name: 'n', type: 'Int' }] });
    const res = await op({ operation: 'insert', database: 'shop', table: 'typed', records: [{ id: 1, n: 5, extra: 'kept' }] });
    assert.equal(res.status, 200);
    assert.ok(!('new_attributes' in res.body));
    assert.deepEqual(res.body.inserted_hashes, [1]);
    const d = await describeTable('typed');
    assert.deepEqual(d.attributes.map((a) => a.attribute), ['id', 'n']);
    const [rec] = await get('typed', [1]);
    assert.deepEqual(rec, { id: 1, n: 5, extra: 'kept' });
    const bad = await op({ operation: 'insert', database: 'shop', table: 'typed', records: [{ id: 2, n: 1.5 }] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { error: 'Value 1.5 in property n must be an integer (from -2147483648 to 2147483647)' });
    assert.deepEqual(await get('typed', [2]), []);
  });

  test('one insert of 20,000 records is written whole (a bulk load in one request)', async () => {
    // the attribute exists first, so the insert is not a schema change (which takes the write lock anyway)
    assert.equal((await op({ operation: 'insert', database: 'shop', table: 'bulk', records: [{ id: -1, tag: 'x' }] })).status, 200);
    const records = Array.from({ length: 20_000 }, (_, i) => ({ id: i, tag: `t${i % 7}` }));
    const res = await op({ operation: 'insert', database: 'shop', table: 'bulk', records });
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    assert.equal(res.body.message, 'inserted 20000 of 20000 records');
    const count = await op({ operation: 'sql', sql: 'SELECT COUNT(*) AS n FROM shop.bulk' });
    assert.deepEqual(count.body, [{ n: 20_001 }]);
    const t3 = await op({ operation: 'search_by_value', database: 'shop', table: 'bulk', attribute: 'tag', value: 't3', get_attributes: ['id'] });
    assert.equal(t3.body.length, Math.ceil((20_000 - 3) / 7));
  });
});
