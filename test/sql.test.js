// The `sql` operation over a real server with generated data. Every SELECT is checked against the same answer
// computed here from the inserted records or fetched through the NoSQL search operations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

let server;
const BREEDS = [
  { id: 1, name: 'Lab', size: 'large' }, { id: 2, name: 'Pug', size: 'small' }, { id: 3, name: 'Beagle', size: 'medium' },
  { id: 4, name: 'Poodle', size: null },
];
const OWNERS = [{ id: 'o1', name: 'Ann' }, { id: 'o2', name: 'Bo' }, { id: 'o3', name: 'Cy' }];
const DOGS = [];

function generate() {
  let x = 12345;
  const rnd = () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const names = ['Penny', 'Harper', 'Kato', 'Billy', 'Rose', 'Gemma', 'Stephen', 'Simon', 'Bo', 'Peppers'];
  for (let id = 1; id <= 300; id++) {
    const dog = { id, name: `${names[id % names.length]}${id}`, age: Math.floor(rnd() * 15), breed_id: (id % 5) + 1 };
    if (id % 7 !== 0) dog.weight = Math.round(rnd() * 400) / 10;
    if (id % 3 === 0) dog.owner_id = OWNERS[id % 3].id;
    if (id % 11 === 0) dog.meta = { tags: ['a', 'b'], score: id };
    DOGS.push(dog);
  }
}

const sql = async (text, expectStatus = 200) => {
  const r = await server.op({ operation: 'sql', sql: text });
  assert.equal(r.status, expectStatus, `${text} -> ${JSON.stringify(r.body)}`);
  return r.body;
};
const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

before(async () => {
  generate();
  server = await startServer();
  const ok = async (body) => { const r = await server.op(body); assert.equal(r.status, 200, JSON.stringify(r.body)); };
  await ok({ operation: 'create_table', database: 'dev', table: 'dog', primary_key: 'id' });
  await ok({ operation: 'create_table', database: 'dev', table: 'breed', primary_key: 'id' });
  await ok({ operation: 'create_table', database: 'people', table: 'owner', primary_key: 'id' });
  await ok({ operation: 'insert', database: 'dev', table: 'dog', records: DOGS });
  await ok({ operation: 'insert', database: 'dev', table: 'breed', records: BREEDS });
  await ok({ operation: 'insert', database: 'people', table: 'owner', records: OWNERS });
});

after(async () => {
  if (server) { await server.stop(); server.cleanup(); }
});

test('SELECT * on a dynamic table returns every known attribute, null-filled, like search_by_conditions', async () => {
  const rows = await sql('SELECT * FROM dev.dog WHERE age >= 10');
  const nosql = await server.op({
    operation: 'search_by_conditions', database: 'dev', table: 'dog', get_attributes: ['*'],
    conditions: [{ attribute: 'age', comparator: 'greater_than_equal', value: 10 }],
  });
  assert.equal(nosql.status, 200);
  assert.deepEqual(rows.sort(byId), nosql.body.sort(byId));
  assert.ok(rows.length > 0);
  for (const r of rows) {
    for (const a of ['id', 'name', 'age', 'breed_id', 'weight', 'owner_id', 'meta', '__createdtime__']) assert.ok(a in r, a);
  }
  assert.ok(rows.some((r) => r.owner_id === null));
});

test('WHERE handles comparisons, AND/OR/NOT, IN, LIKE, BETWEEN and IS NULL exactly as computed from the data', async () => {
  const cases = [
    ["age = 5 AND breed_id <> 2", (d) => d.age === 5 && d.breed_id !== 2],
    ["age < 3 OR age > 12", (d) => d.age < 3 || d.age > 12],
    ["NOT (age BETWEEN 4 AND 10)", (d) => !(d.age >= 4 && d.age <= 10)],
    ["breed_id IN (1, 3, 5)", (d) => [1, 3, 5].includes(d.breed_id)],
    ["name LIKE 'Pe%'", (d) => d.name.startsWith('Pe')],
    ["name LIKE '%1_'", (d) => /1.$/.test(d.name)],
    ["name NOT LIKE '%0'", (d) => !d.name.endsWith('0')],
    ["weight IS NULL", (d) => d.weight === undefined],
    ["owner_id IS NOT NULL AND weight > 20.5", (d) => d.owner_id !== undefined && d.weight > 20.5],
    ["age BETWEEN 3 AND 3", (d) => d.age === 3],
    ["age > breed_id", (d) => d.age > d.breed_id],
    ["age = '7'", (d) => d.age === 7],
    ["id >= 290", (d) => d.id >= 290],
  ];
  for (const [where, pred] of cases) {
    const rows = await sql(`SELECT id FROM dev.dog WHERE ${where}`);
    const expected = DOGS.filter(pred).map((d) => d.id).sort((a, b) => a - b);
    assert.deepEqual(rows.map((r) => r.id).sort((a, b) => a - b), expected, where);
  }
});

test('an indexed equality answers like search_by_value', async () => {
  const rows = await sql('SELECT id, name FROM dev.dog WHERE breed_id = 3');
  const nosql = await server.op({ operation: 'search_by_value', database: 'dev', table: 'dog', attribute: 'breed_id', value: 3, get_attributes: ['id', 'name'] });
  assert.deepEqual(rows.sort(byId), nosql.body.sort(byId));
  assert.equal(rows.length, DOGS.filter((d) => d.breed_id === 3).length);
});

test('projections, aliases, constants and expressions name their columns', async () => {
  const rows = await sql("SELECT id, name AS dog_name, age * 2 AS double_age, 'x' AS k, age + 1 FROM dev.dog WHERE id = 10");
  const d = DOGS[9];
  assert.deepEqual(rows, [{ id: 10, dog_name: d.name, double_age: d.age * 2, k: 'x', 'age + 1': d.age + 1 }]);
});

test('ORDER BY sorts on several columns (aliases and DESC allowed) and LIMIT/OFFSET page through it', async () => {
  const rows = await sql('SELECT id, age AS a, breed_id FROM dev.dog ORDER BY a DESC, breed_id, id DESC LIMIT 20 OFFSET 5');
  const expected = [...DOGS].sort((x, y) => y.age - x.age || x.breed_id - y.breed_id || y.id - x.id)
    .slice(5, 25).map((d) => ({ id: d.id, a: d.age, breed_id: d.breed_id }));
  assert.deepEqual(rows, expected);
  const top = await sql('SELECT TOP 3 id FROM dev.dog ORDER BY id');
  assert.deepEqual(top, [{ id: 1 }, { id: 2 }, { id: 3 }]);
  const mysqlStyle = await sql('SELECT id FROM dev.dog ORDER BY id LIMIT 2, 2');
  assert.deepEqual(mysqlStyle, [{ id: 3 }, { id: 4 }]);
});

test('nulls sort first ascending and last descending', async () => {
  const rows = await sql('SELECT id, weight FROM dev.dog ORDER BY weight, id LIMIT 3');
  assert.deepEqual(rows.map((r) => r.weight), [null, null, null]);
  const desc = await sql('SELECT weight FROM dev.dog ORDER BY weight DESC');
  assert.equal(desc[desc.length - 1].weight, null);
  assert.notEqual(desc[0].weight, null);
});

test('DISTINCT removes duplicate rows', async () => {
  const rows = await sql('SELECT DISTINCT breed_id FROM dev.dog ORDER BY breed_id');
  assert.deepEqual(rows, [1, 2, 3, 4, 5].map((b) => ({ breed_id: b })));
});

test('GROUP BY with COUNT, SUM, AVG, MIN, MAX and HAVING matches the aggregates computed from the data', async () => {
  const rows = await sql(`SELECT breed_id, COUNT(*) AS n, COUNT(weight) AS nw, SUM(age) AS s, AVG(age) AS av,
    MIN(weight) AS lo, MAX(weight) AS hi FROM dev.dog GROUP BY breed_id HAVING COUNT(*) > 0 ORDER BY breed_id`);
  const expected = [1, 2, 3, 4, 5].map((b) => {
    const g = DOGS.filter((d) => d.breed_id === b);
    const w = g.map((d) => d.weight).filter((v) => v !== undefined);
    const s = g.reduce((t, d) => t + d.age, 0);
    return { breed_id: b, n: g.length, nw: w.length, s, av: s / g.length, lo: Math.min(...w), hi: Math.max(...w) };
  });
  assert.deepEqual(rows, expected);
  const having = await sql('SELECT breed_id, COUNT(*) AS n FROM dev.dog WHERE age > 10 GROUP BY breed_id HAVING n >= 8 ORDER BY n DESC, breed_id');
  const counts = [1, 2, 3, 4, 5].map((b) => ({ breed_id: b, n: DOGS.filter((d) => d.breed_id === b && d.age > 10).length }))
    .filter((g) => g.n >= 8).sort((a, b) => b.n - a.n || a.breed_id - b.breed_id);
  assert.deepEqual(having, counts);
});

test('aggregates without GROUP BY give one row, also over no rows', async () => {
  assert.deepEqual(await sql('SELECT COUNT(*) FROM dev.dog'), [{ 'COUNT(*)': DOGS.length }]);
  assert.deepEqual(await sql('SELECT COUNT(*) AS n, SUM(age) AS s FROM dev.dog WHERE age > 100'), [{ n: 0, s: null }]);
  assert.deepEqual(await sql('SELECT COUNT(DISTINCT age) AS n FROM dev.dog'), [{ n: new Set(DOGS.map((d) => d.age)).size }]);
});

test('with a low sql.parallelThreshold, scans and aggregations run on the pool and answer exactly as the serving thread does', async () => {
  // same data on a server whose threshold sends every dev.dog scan to a 2-thread pool in key-range chunks
  const pooled = await startServer({ env: { SQL_PARALLELTHRESHOLD: '40', JOBS_POOLSIZE: '2' } });
  try {
    const ok = async (body) => { const r = await pooled.op(body); assert.equal(r.status, 200, JSON.stringify(r.body)); };
    await ok({ operation: 'create_table', database: 'dev', table: 'dog', primary_key: 'id' });
    await ok({ operation: 'create_table', database: 'dev', table: 'breed', primary_key: 'id' });
    await ok({ operation: 'insert', database: 'dev', table: 'dog', records: DOGS });
    await ok({ operation: 'insert', database: 'dev', table: 'breed', records: BREEDS });
    // exact: no WHERE, so both servers read dev.dog in primary-key order
    const exact = [
      'SELECT breed_id, COUNT(*) AS n, COUNT(weight) AS nw, SUM(weight) AS s, AVG(weight) AS av, MIN(weight) AS lo, MAX(weight) AS hi FROM dev.dog GROUP BY breed_id',
      'SELECT COUNT(*), AVG(age), COUNT(DISTINCT age), MEDIAN(weight), MODE(age), GROUP_CONCAT(name) FROM dev.dog',
      'SELECT age, ARRAY(id) AS ids, DISTINCT_ARRAY(owner_id) AS owners FROM dev.dog GROUP BY age HAVING COUNT(*) > 2',
      'SELECT owner_id, COUNT(*) AS n FROM dev.dog GROUP BY owner_id ORDER BY n DESC LIMIT 2',
      'SELECT DISTINCT breed_id, age FROM dev.dog ORDER BY breed_id, age',
      'SELECT id, name FROM dev.dog ORDER BY age DESC, weight LIMIT 9 OFFSET 4',
    ];
    // every attribute of a dynamic table is indexed: the serving thread reads these through the index (index
    // order) while the pool scans key ranges, so rows and list aggregates may come in another order; compare as sets
    const unordered = [
      'SELECT age, GROUP_CONCAT(name) AS names, ARRAY(id) AS ids FROM dev.dog WHERE weight > 12.5 GROUP BY age HAVING COUNT(*) > 2 ORDER BY age DESC',
      'SELECT COUNT(*) AS n, SUM(age) AS s FROM dev.dog WHERE age > 100',
      'SELECT id, name, age, breed_id, weight, owner_id, meta FROM dev.dog WHERE weight BETWEEN 10 AND 20',
      'SELECT id, name, weight FROM dev.dog WHERE age < 5 ORDER BY weight DESC, id LIMIT 9 OFFSET 4',
      "SELECT id, SEARCH_JSON('score', meta) AS score FROM dev.dog WHERE meta IS NOT NULL",
      "SELECT UPPER(name) AS n, age + 1 AS next FROM dev.dog WHERE name LIKE '%e%' AND NOT (age IN (1, 2, 3))",
    ];
    const canon = (rows) => rows.map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k,
      Array.isArray(v) ? [...v].sort() : k === 'names' && typeof v === 'string' ? v.split(',').sort() : v]))).sort();
    const queries = [...exact, ...unordered];
    for (const text of queries) {
      const mine = await sql(text);
      const r = await pooled.op({ operation: 'sql', sql: text });
      assert.equal(r.status, 200, `${text} -> ${JSON.stringify(r.body)}`);
      if (exact.includes(text)) assert.deepEqual(r.body, mine, text);
      else assert.deepEqual(canon(r.body), canon(mine), text);
      assert.ok(Array.isArray(r.body) && r.body.length > 0, text);
    }
    // while pooled aggregates run, point reads on another table are served; all of them succeed
    const reads = [];
    const aggs = [];
    for (let i = 0; i < 6; i++) aggs.push(pooled.op({ operation: 'sql', sql: queries[0] }));
    for (let i = 0; i < 60; i++) reads.push(pooled.op({ operation: 'search_by_id', database: 'dev', table: 'breed', ids: [(i % 4) + 1], get_attributes: ['*'] }));
    for (const r of await Promise.all(reads)) { assert.equal(r.status, 200); assert.equal(r.body.length, 1); }
    for (const r of await Promise.all(aggs)) { assert.equal(r.status, 200); assert.equal(r.body.length, 5); }
  } finally {
    await pooled.stop();
    pooled.cleanup();
  }
});

test('INNER and LEFT joins across tables and databases pair the right records', async () => {
  const inner = await sql(`SELECT d.id, b.name AS breed, o.name AS owner FROM dev.dog d
    INNER JOIN dev.breed b ON d.breed_id = b.id INNER JOIN people.owner o ON d.owner_id = o.id ORDER BY d.id`);
  const expected = DOGS.filter((d) => d.owner_id && d.breed_id <= 4).map((d) => ({
    id: d.id, breed: BREEDS.find((b) => b.id === d.breed_id).name, owner: OWNERS.find((o) => o.id === d.owner_id).name,
  }));
  assert.deepEqual(inner, expected);
  const left = await sql('SELECT d.id, b.size FROM dev.dog d LEFT JOIN dev.breed b ON d.breed_id = b.id WHERE d.id <= 10 ORDER BY d.id');
  assert.deepEqual(left, DOGS.slice(0, 10).map((d) => ({ id: d.id, size: BREEDS.find((b) => b.id === d.breed_id)?.size ?? null })));
  const grouped = await sql(`SELECT b.name, COUNT(*) AS n FROM dev.dog d INNER JOIN dev.breed b ON d.breed_id = b.id
    GROUP BY b.name ORDER BY b.name`);
  assert.deepEqual(grouped, BREEDS.map((b) => ({ name: b.name, n: DOGS.filter((d) => d.breed_id === b.id).length }))
    .sort((a, b) => (a.name < b.name ? -1 : 1)));
});

test('scalar functions compute strings, math, dates, null handling and casts', async () => {
  const [r] = await sql(`SELECT UPPER(name) AS u, LOWER(name) AS l, LEN(name) AS n, SUBSTRING(name, 1, 3) AS sub,
    CONCAT(name, '!') AS c, REPLACE(name, 'e', 'E') AS rep, TRIM('  x ') AS t, ABS(-age) AS a, CEIL(weight) AS ce,
    FLOOR(weight) AS fl, ROUND(weight / 3, 1) AS ro, SQRT(16) AS sq, IFNULL(owner_id, 'none') AS o,
    NULLIF(age, age) AS nu, CAST(age AS VARCHAR) AS s, YEAR(1700000000000) AS y,
    DATE_DIFF('2024-03-01', '2024-02-01', 'days') AS dd, CURRENT_TIMESTAMP AS now FROM dev.dog WHERE id = 1`);
  const d = DOGS[0];
  assert.deepEqual({ ...r, now: typeof r.now }, {
    u: d.name.toUpperCase(), l: d.name.toLowerCase(), n: d.name.length, sub: d.name.slice(0, 3), c: `${d.name}!`,
    rep: d.name.replaceAll('e', 'E'), t: 'x', a: d.age, ce: Math.ceil(d.weight), fl: Math.floor(d.weight),
    ro: Math.round((d.weight / 3) * 10) / 10, sq: 4, o: 'none', nu: null, s: String(d.age), y: 2023, dd: 29,
    now: 'number',
  });
  assert.ok(Math.abs(r.now - Date.now()) < 60_000);
  const [date] = await sql('SELECT CURRENT_DATE() AS d');
  assert.match(date.d, /^\d{4}-\d{2}-\d{2}$/);
});

test('SEARCH_JSON runs JSONata over a JSON attribute in SELECT and WHERE', async () => {
  const rows = await sql("SELECT id, SEARCH_JSON('score', meta) AS score FROM dev.dog WHERE SEARCH_JSON('$count(tags)', meta) = 2 ORDER BY id");
  assert.deepEqual(rows, DOGS.filter((d) => d.meta).map((d) => ({ id: d.id, score: d.meta.score })));
});

test('INSERT, UPDATE and DELETE answer like the NoSQL operations and change the data', async () => {
  const ins = await sql("INSERT INTO dev.dog (id, name, age, color) VALUES (1001, 'Rex', 2, 'red'), (1002, 'Max', 4, NULL), (1, 'Dup', 1, 'x')");
  assert.equal(ins.message, 'inserted 2 of 3 records');
  assert.deepEqual(ins.inserted_hashes, [1001, 1002]);
  assert.deepEqual(ins.skipped_hashes, [1]);
  assert.deepEqual(ins.new_attributes, ['color']);
  assert.equal(typeof ins.txn_time, 'number');
  const gen = await sql("INSERT INTO dev.breed (name) VALUES ('Mutt')");
  assert.equal(gen.inserted_hashes.length, 1);
  const [mutt] = await sql(`SELECT name FROM dev.breed WHERE id = ${gen.inserted_hashes[0]}`);
  assert.deepEqual(mutt, { name: 'Mutt' });

  const upd = await sql("UPDATE dev.dog SET age = age + 10, color = CONCAT('dark ', color) WHERE id IN (1001, 1002)");
  assert.equal(upd.message, 'updated 2 of 2 records');
  assert.deepEqual(upd.update_hashes.sort(), [1001, 1002]);
  assert.deepEqual(upd.skipped_hashes, []);
  assert.equal(typeof upd.txn_time, 'number');
  const after = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [1001, 1002], get_attributes: ['id', 'age', 'color', 'name'] });
  assert.deepEqual(after.body, [{ id: 1001, age: 12, color: 'dark red', name: 'Rex' }, { id: 1002, age: 14, color: null, name: 'Max' }]);

  const del = await sql('DELETE FROM dev.dog WHERE id >= 1001');
  assert.deepEqual(del, { message: '2 of 2 records successfully deleted', deleted_hashes: [1001, 1002], skipped_hashes: [] });
  const gone = await server.op({ operation: 'search_by_id', database: 'dev', table: 'dog', ids: [1001, 1002], get_attributes: ['id'] });
  assert.deepEqual(gone.body, []);
  assert.deepEqual(await sql(`DELETE FROM dev.breed WHERE id = ${gen.inserted_hashes[0]}`),
    { message: '1 of 1 record successfully deleted', deleted_hashes: gen.inserted_hashes, skipped_hashes: [] });
});

test('a failing UPDATE writes nothing', async () => {
  await sql('INSERT INTO dev.breed (id, name) VALUES (50, \'A\'), (51, \'B\')');
  const r = await server.op({ operation: 'sql', sql: "UPDATE dev.breed SET `bad/name` = 1 WHERE id >= 50" });
  assert.equal(r.status, 400);
  const rows = await sql('SELECT * FROM dev.breed WHERE id >= 50 ORDER BY id');
  assert.deepEqual(rows.map((x) => x.name), ['A', 'B']);
  assert.ok(rows.every((x) => !('bad/name' in x)));
  await sql('DELETE FROM dev.breed WHERE id >= 50');
});

test('client mistakes get the spec errors', async () => {
  const cases = [
    [{ operation: 'sql' }, 400, "The 'sql' parameter is missing from the request body"],
    [{ operation: 'sql', sql: 'SELECT * FROM dog' }, 400, 'schema not defined for table dog'],
    [{ operation: 'sql', sql: "INSERT INTO dog (id) VALUES (1)" }, 400, 'No schema specified'],
    [{ operation: 'sql', sql: 'DELETE FROM dog WHERE id = 1' }, 400, 'No schema specified'],
    [{ operation: 'sql', sql: 'SELECT * FROM nodb.dog' }, 404, "database 'nodb' does not exist"],
    [{ operation: 'sql', sql: 'SELECT * FROM dev.cat' }, 404, "Table 'dev.cat' does not exist"],
    [{ operation: 'sql', sql: 'CREATE TABLE dev.cat (id INT)' }, 400, 'unsupported SQL type CREATE'],
    [{ operation: 'sql', sql: "UPDATE system.hdb_user SET active = false" }, 403,
      "The 'system' database, tables and records are used internally by HarperDB and cannot be updated or removed."],
    [{ operation: 'sql', sql: 'SELECT name FROM dev.dog GROUP BY breed_id' }, 400, "group by column 'breed_id' must be in select"],
    [{ operation: 'sql', sql: 'SELECT name, breed_id FROM dev.dog GROUP BY breed_id' }, 400, "select column 'name' must be in group by"],
    [{ operation: 'sql', sql: 'SELECT nope FROM dev.dog GROUP BY nope' }, 400, "unknown column 'nope' in group by"],
    [{ operation: 'sql', sql: 'SELECT name FROM dev.dog d INNER JOIN dev.breed b ON d.breed_id = b.id' }, 400, 'ambiguous column reference name'],
  ];
  for (const [body, status, message] of cases) {
    const r = await server.op(body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.error, message, JSON.stringify(body));
  }
  const syntax = await server.op({ operation: 'sql', sql: 'SELECT * FROM dev.dog WHERE' });
  assert.equal(syntax.status, 400);
  assert.match(syntax.body.error, /^(Invalid SQL at: .*|We had trouble parsing your request)\. Please ensure your SQL is valid\. Try adding backticks to reserved words and schema table references\.$/);
});

test('malformed statements all get a 4xx and the server keeps answering', async () => {
  const bad = [
    'SELECT', 'SELECT * FROM', 'SELECT * FROM dev.', 'SELECT * FROM dev.dog WHERE (', "SELECT * FROM dev.dog WHERE name = 'x",
    'SELECT * FROM dev.dog ORDER', 'SELECT ,, FROM dev.dog', 'INSERT INTO dev.dog VALUES', 'INSERT INTO dev.dog (id) VALUES (1, 2)',
    'UPDATE dev.dog SET', 'DELETE dev.dog', 'SELECT * FROM dev.dog LIMIT -1', 'SELECT * FROM dev.dog LIMIT x',
    'SELECT * FROM dev.dog WHERE id IN (SELECT id FROM dev.breed)', 'SELECT * FROM dev.dog UNION SELECT * FROM dev.breed',
    'SELECT NOSUCHFN(id) FROM dev.dog', 'SELECT SUM(*) FROM dev.dog', 'SELECT * FROM dev.dog WHERE COUNT(*) > 1',
    "SELECT SEARCH_JSON('[', meta) FROM dev.dog", 'SELECT UPPER() FROM dev.dog', 'SELECT x.* FROM dev.dog d',
    'SELECT * FROM dev.dog; DELETE FROM dev.dog', '\u0000\u0001', '/* only a comment */', 'SELECT * FROM dev.dog d JOIN dev.breed b',
    'INSERT INTO dev.dog (id) SELECT id FROM dev.breed', "SELECT * FROM dev.dog WHERE name LIKE 5 ESCAPE '!'",
    "INSERT INTO dev.dog (id, name) VALUES ('null', 'x')",
    'UPDATE dev.dog SET id = 5 WHERE id = 1', 'SELECT 1 +', "SELECT CAST(x AS) FROM dev.dog",
  ];
  for (const text of bad) {
    const r = await server.op({ operation: 'sql', sql: text });
    assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(text)} -> ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body.error, 'string');
  }
  const wrongType = await server.op({ operation: 'sql', sql: 42 });
  assert.equal(wrongType.status, 400);
  assert.deepEqual(await sql('SELECT COUNT(*) AS n FROM dev.dog'), [{ n: DOGS.length }]);
});
