// Database, table and attribute operations over real HTTP (spec §2.3, §2.4, §2.7, §3.6, §3.7).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

const SYSTEM_BODY = {
  error: "The 'system' database, tables and records are used internally by HarperDB and cannot be updated or removed.",
};

describe('schema operations', () => {
  let server;
  const op = (body) => server.op(body);

  before(async () => { server = await startServer(); });
  after(async () => {
    if (!server) return;
    assert.equal(await server.stop(), 0);
    server.cleanup();
  });

  test('create_database answers the spec message and a second create is refused with 400', async () => {
    const res = await op({ operation: 'create_database', database: 'alpha' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "database 'alpha' successfully created" });
    const again = await op({ operation: 'create_database', database: 'alpha' });
    assert.equal(again.status, 400);
    assert.deepEqual(again.body, { error: "database 'alpha' already exists" });
    const described = await op({ operation: 'describe_database', database: 'alpha' });
    assert.equal(described.status, 200);
    assert.deepEqual(described.body, {});
  });

  test('create_schema, describe_schema and drop_schema are aliases that take the legacy schema field', async () => {
    const created = await op({ operation: 'create_schema', schema: 'beta' });
    assert.equal(created.status, 200);
    assert.deepEqual(created.body, { message: "database 'beta' successfully created" });
    const described = await op({ operation: 'describe_schema', schema: 'beta' });
    assert.equal(described.status, 200);
    assert.deepEqual(described.body, {});
    const dropped = await op({ operation: 'drop_schema', schema: 'beta' });
    assert.equal(dropped.status, 200);
    assert.deepEqual(dropped.body, { message: "successfully deleted 'beta'" });
    const gone = await op({ operation: 'describe_database', database: 'beta' });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { error: "database 'beta' does not exist" });
  });

  test('when both database and schema are given, database wins', async () => {
    const res = await op({ operation: 'create_database', database: 'winner', schema: 'loser' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "database 'winner' successfully created" });
    const all = await op({ operation: 'describe_all' });
    assert.ok('winner' in all.body);
    assert.ok(!('loser' in all.body));
  });

  test('drop_database needs a name and answers 404 for an unknown database', async () => {
    const missing = await op({ operation: 'drop_database' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { error: "'database' is required" });
    const unknown = await op({ operation: 'drop_database', database: 'never_made' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { error: "database 'never_made' does not exist" });
  });

  test('drop_database removes the database and its tables', async () => {
    await op({ operation: 'create_table', database: 'doomed', table: 't', primary_key: 'id' });
    await op({ operation: 'insert', database: 'doomed', table: 't', records: [{ id: 1 }] });
    const res = await op({ operation: 'drop_database', database: 'doomed' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "successfully deleted 'doomed'" });
    const all = await op({ operation: 'describe_all' });
    assert.ok(!('doomed' in all.body));
    const search = await op({ operation: 'search_by_id', database: 'doomed', table: 't', ids: [1], get_attributes: ['*'] });
    assert.equal(search.status, 404);
    assert.deepEqual(search.body, { error: "database 'doomed' does not exist" });
  });

  test('create_table without attributes makes a dynamic table with the primary key and both timestamps', async () => {
    const res = await op({ operation: 'create_table', database: 'zoo', table: 'dog', primary_key: 'id' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "table 'zoo.dog' successfully created." });
    const d = await op({ operation: 'describe_table', database: 'zoo', table: 'dog' });
    assert.equal(d.status, 200);
    assert.equal(d.body.schema, 'zoo');
    assert.equal(d.body.name, 'dog');
    assert.equal(d.body.hash_attribute, 'id');
    assert.equal(d.body.schema_defined, false);
    assert.equal(d.body.audit, true);
    assert.equal(d.body.record_count, 0);
    assert.deepEqual(d.body.attributes, [
      { attribute: 'id', indexed: true, is_primary_key: true },
      { attribute: '__createdtime__', indexed: true, assigned_created_time: true },
      { attribute: '__updatedtime__', indexed: true, assigned_updated_time: true },
    ]);
    for (const k of ['db_size', 'table_size', 'db_audit_size']) assert.equal(typeof d.body[k], 'number', k);
  });

  test('create_table creates the database when it is missing and accepts hash_attribute for primary_key', async () => {
    const res = await op({ operation: 'create_table', schema: 'fresh', table: 'cat', hash_attribute: 'cat_id' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "table 'fresh.cat' successfully created." });
    const d = await op({ operation: 'describe_database', database: 'fresh' });
    assert.deepEqual(Object.keys(d.body), ['cat']);
    assert.equal(d.body.cat.hash_attribute, 'cat_id');
  });

  test('create_table refuses an existing table and a missing primary key with 400', async () => {
    const exists = await op({ operation: 'create_table', database: 'zoo', table: 'dog', primary_key: 'id' });
    assert.equal(exists.status, 400);
    assert.deepEqual(exists.body, { error: "Table 'dog' already exists in 'zoo'" });
    const noPk = await op({ operation: 'create_table', database: 'zoo', table: 'nopk' });
    assert.equal(noPk.status, 400);
    assert.deepEqual(noPk.body, { error: "'primary_key' is required" });
    const d = await op({ operation: 'describe_database', database: 'zoo' });
    assert.deepEqual(Object.keys(d.body), ['dog']);
  });

  test('create_table with attributes makes a schema-defined table with exactly those attributes', async () => {
    const res = await op({
      operation: 'create_table', database: 'zoo', table: 'typed', primary_key: 'id',
      attributes: [{ name: 'id', type: 'String' }, { name: 'name', type: 'String' }, { name: 'age', type: 'Int', indexed: true }],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "table 'zoo.typed' successfully created." });
    const d = await op({ operation: 'describe_table', database: 'zoo', table: 'typed' });
    assert.equal(d.body.schema_defined, true);
    assert.equal(d.body.hash_attribute, 'id');
    assert.deepEqual(d.body.attributes, [
      { attribute: 'id', type: 'String', indexed: true, is_primary_key: true },
      { attribute: 'name', type: 'String' },
      { attribute: 'age', type: 'Int', indexed: true },
    ]);
  });

  test('create_table with attributes takes the key from is_primary_key', async () => {
    const res = await op({
      operation: 'create_table', database: 'zoo', table: 'keyed',
      attributes: [{ name: 'code', is_primary_key: true }, { name: 'label' }],
    });
    assert.equal(res.status, 200);
    const d = await op({ operation: 'describe_table', database: 'zoo', table: 'keyed' });
    assert.equal(d.body.hash_attribute, 'code');
    assert.equal(d.body.schema_defined, true);
    assert.deepEqual(d.body.attributes.map((a) => a.attribute), ['code', 'label']);
  });

  test('create_attribute adds an indexed attribute unless indexed is false, and refuses a duplicate', async () => {
    const res = await op({ operation: 'create_attribute', database: 'zoo', table: 'dog', attribute: 'breed' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "attribute 'zoo.dog.breed' successfully created." });
    const plain = await op({ operation: 'create_attribute', database: 'zoo', table: 'dog', attribute: 'notes', indexed: false });
    assert.equal(plain.status, 200);
    const dup = await op({ operation: 'create_attribute', database: 'zoo', table: 'dog', attribute: 'breed' });
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.body, { error: "attribute 'breed' already exists in zoo.dog" });
    const d = await op({ operation: 'describe_table', database: 'zoo', table: 'dog' });
    const attrs = Object.fromEntries(d.body.attributes.map((a) => [a.attribute, a]));
    assert.deepEqual(attrs.breed, { attribute: 'breed', indexed: true });
    assert.deepEqual(attrs.notes, { attribute: 'notes' });
  });

  test('an attribute created on a table with data is searchable through its index', async () => {
    await op({ operation: 'create_table', database: 'zoo', table: 'late', primary_key: 'id' });
    // `color` arrives before the attribute exists as an index only through the dynamic path; drop and re-create it
    await op({ operation: 'insert', database: 'zoo', table: 'late', records: [{ id: 1, color: 'red' }, { id: 2, color: 'blue' }] });
    assert.equal((await op({ operation: 'drop_attribute', database: 'zoo', table: 'late', attribute: 'color' })).status, 200);
    await op({ operation: 'upsert', database: 'zoo', table: 'late', records: [{ id: 1, color: 'red' }] });
    const created = await op({ operation: 'create_attribute', database: 'zoo', table: 'late', attribute: 'size' });
    assert.equal(created.status, 200);
    await op({ operation: 'update', database: 'zoo', table: 'late', records: [{ id: 2, size: 'L' }] });
    const hit = await op({ operation: 'search_by_value', database: 'zoo', table: 'late', attribute: 'size', value: 'L', get_attributes: ['id'] });
    assert.deepEqual(hit.body, [{ id: 2 }]);
    const color = await op({ operation: 'search_by_value', database: 'zoo', table: 'late', attribute: 'color', value: 'red', get_attributes: ['id', 'color'] });
    assert.deepEqual(color.body, [{ id: 1, color: 'red' }]);
  });

  test('drop_attribute removes the attribute and its values from every record of a dynamic table', async () => {
    await op({ operation: 'create_table', database: 'zoo', table: 'bird', primary_key: 'id' });
    await op({ operation: 'insert', database: 'zoo', table: 'bird', records: [{ id: 1, wing: 'left', name: 'a' }, { id: 2, wing: 'right' }] });
    const res = await op({ operation: 'drop_attribute', database: 'zoo', table: 'bird', attribute: 'wing' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "successfully deleted attribute 'wing'" });
    const d = await op({ operation: 'describe_table', database: 'zoo', table: 'bird' });
    assert.ok(!d.body.attributes.some((a) => a.attribute === 'wing'));
    const rows = await op({ operation: 'search_by_id', database: 'zoo', table: 'bird', ids: [1, 2], get_attributes: ['*'] });
    assert.equal(rows.body.length, 2);
    for (const r of rows.body) assert.ok(!('wing' in r), JSON.stringify(r));
    assert.equal(rows.body[0].name, 'a');
    const byValue = await op({ operation: 'search_by_conditions', database: 'zoo', table: 'bird', conditions: [{ attribute: 'wing', comparator: 'equals', value: 'left' }] });
    assert.equal(byValue.status, 400);
    assert.deepEqual(byValue.body, { error: "unknown attribute 'wing'" });
  });

  test('drop_attribute refuses the primary key and the timestamps', async () => {
    const pk = await op({ operation: 'drop_attribute', database: 'zoo', table: 'bird', attribute: 'id' });
    assert.equal(pk.status, 400);
    assert.deepEqual(pk.body, { error: 'You cannot drop a hash attribute' });
    for (const name of ['__createdtime__', '__updatedtime__']) {
      const ts = await op({ operation: 'drop_attribute', database: 'zoo', table: 'bird', attribute: name });
      assert.equal(ts.status, 400);
      assert.deepEqual(ts.body, { error: `cannot drop internal timestamp attribute: ${name}` });
    }
    const d = await op({ operation: 'describe_table', database: 'zoo', table: 'bird' });
    assert.deepEqual(d.body.attributes.slice(0, 3).map((a) => a.attribute), ['id', '__createdtime__', '__updatedtime__']);
  });

  test('drop_table removes the table; unknown tables and databases answer 404', async () => {
    await op({ operation: 'create_table', database: 'zoo', table: 'gone', primary_key: 'id' });
    await op({ operation: 'insert', database: 'zoo', table: 'gone', records: [{ id: 1 }] });
    const res = await op({ operation: 'drop_table', database: 'zoo', table: 'gone' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "successfully deleted table 'zoo.gone'" });
    const d = await op({ operation: 'describe_table', database: 'zoo', table: 'gone' });
    assert.equal(d.status, 404);
    assert.deepEqual(d.body, { error: "Table 'zoo.gone' does not exist" });
    const again = await op({ operation: 'drop_table', database: 'zoo', table: 'gone' });
    assert.equal(again.status, 404);
    assert.deepEqual(again.body, { error: "Table 'zoo.gone' does not exist" });
    const noDb = await op({ operation: 'drop_table', database: 'nodb', table: 'x' });
    assert.equal(noDb.status, 404);
    assert.deepEqual(noDb.body, { error: "database 'nodb' does not exist" });
    // a re-created table with the same name starts empty
    await op({ operation: 'create_table', database: 'zoo', table: 'gone', primary_key: 'id' });
    const rows = await op({ operation: 'search_by_value', database: 'zoo', table: 'gone', attribute: 'id', value: '*' });
    assert.deepEqual(rows.body, []);
  });

  test('describe_table and describe_database answer 404 for unknown names', async () => {
    const t = await op({ operation: 'describe_table', database: 'zoo', table: 'unicorn' });
    assert.equal(t.status, 404);
    assert.deepEqual(t.body, { error: "Table 'zoo.unicorn' does not exist" });
    const db = await op({ operation: 'describe_table', database: 'atlantis', table: 'x' });
    assert.equal(db.status, 404);
    assert.deepEqual(db.body, { error: "database 'atlantis' does not exist" });
    const dd = await op({ operation: 'describe_database', database: 'atlantis' });
    assert.equal(dd.status, 404);
    assert.deepEqual(dd.body, { error: "database 'atlantis' does not exist" });
  });

  test('describe_all counts records, lists new attributes as indexed, shows empty databases as {} and never system', async () => {
    await op({ operation: 'create_database', database: 'empty_one' });
    await op({ operation: 'create_table', database: 'census', table: 'people', primary_key: 'id' });
    const ins = await op({ operation: 'insert', database: 'census', table: 'people', records: [{ id: 1, city: 'x' }, { id: 2, city: 'y', age: 3 }, { id: 3 }] });
    assert.equal(ins.status, 200);
    const all = await op({ operation: 'describe_all' });
    assert.equal(all.status, 200);
    assert.ok(!('system' in all.body));
    assert.deepEqual(all.body.empty_one, {});
    const people = all.body.census.people;
    assert.equal(people.record_count, 3);
    assert.equal(people.hash_attribute, 'id');
    assert.deepEqual(people.attributes.map((a) => a.attribute), ['id', '__createdtime__', '__updatedtime__', 'city', 'age']);
    for (const a of people.attributes) assert.equal(a.indexed, true, a.attribute);
    assert.equal(typeof people.last_updated_record, 'number');
    assert.equal(people.last_updated_record, ins.body.txn_time);
    const dbOnly = await op({ operation: 'describe_database', database: 'census' });
    assert.equal(dbOnly.body.people.record_count, 3);
  });

  test('describe_database on system is allowed for a super user but system never appears in describe_all', async () => {
    const sys = await op({ operation: 'describe_database', database: 'system' });
    assert.equal(sys.status, 200);
    assert.ok('hdb_user' in sys.body);
    const all = await op({ operation: 'describe_all' });
    assert.ok(!('system' in all.body));
  });

  test('database and table names with backticks, slashes or over 250 characters are refused and nothing is created', async () => {
    const before = await op({ operation: 'describe_all' });
    const cases = [
      [{ operation: 'create_database', database: 'bad`name' }, 'database'],
      [{ operation: 'create_database', database: 'bad/name' }, 'database'],
      [{ operation: 'create_database', database: 'd'.repeat(251) }, 'database'],
      [{ operation: 'create_table', database: 'bad/db', table: 'ok', primary_key: 'id' }, 'database'],
      [{ operation: 'create_table', database: 'zoo', table: 'bad`t', primary_key: 'id' }, 'table'],
      [{ operation: 'create_table', database: 'zoo', table: 'a/b', primary_key: 'id' }, 'table'],
      [{ operation: 'create_table', database: 'zoo', table: 't'.repeat(251), primary_key: 'id' }, 'table'],
      [{ operation: 'create_attribute', database: 'zoo', table: 'dog', attribute: 'x/y' }, 'attribute'],
      [{ operation: 'create_attribute', database: 'zoo', table: 'dog', attribute: 'x`y' }, 'attribute'],
    ];
    for (const [body, field] of cases) {
      const res = await op(body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.deepEqual(res.body, { error: `'${field}' names cannot include backticks or forward slashes` });
    }
    const okLong = await op({ operation: 'create_database', database: 'd'.repeat(250) });
    assert.equal(okLong.status, 200);
    const afterAll = await op({ operation: 'describe_all' });
    assert.deepEqual(Object.keys(afterAll.body).sort(), [...Object.keys(before.body), 'd'.repeat(250)].sort());
    assert.deepEqual(afterAll.body.zoo.dog.attributes, before.body.zoo.dog.attributes);
  });

  test('schema changes to the system database are refused with the 403 system body', async () => {
    const before = await op({ operation: 'describe_database', database: 'system' });
    const cases = [
      { operation: 'create_table', database: 'system', table: 'mine', primary_key: 'id' },
      { operation: 'drop_table', database: 'system', table: 'hdb_user' },
      { operation: 'drop_database', database: 'system' },
      { operation: 'create_attribute', database: 'system', table: 'hdb_user', attribute: 'extra' },
      { operation: 'drop_attribute', database: 'system', table: 'hdb_user', attribute: 'active' },
    ];
    for (const body of cases) {
      const res = await op(body);
      assert.equal(res.status, 403, body.operation);
      assert.deepEqual(res.body, SYSTEM_BODY);
    }
    const sys = await op({ operation: 'describe_database', database: 'system' });
    assert.ok(!('mine' in sys.body));
    assert.deepEqual(Object.keys(sys.body), Object.keys(before.body));
    assert.deepEqual(sys.body.hdb_user.attributes, before.body.hdb_user.attributes);
    assert.equal(sys.body.hdb_user.record_count, 1);
    // the admin can still log in: hdb_user is intact
    assert.equal((await op({ operation: 'describe_all' })).status, 200);
  });
});
