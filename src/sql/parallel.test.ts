// Parallel SELECT on a real background pool (piscina threads over a real LMDB): every query gives exactly the rows
// the serving-thread path gives, heavy ones go through split and chunk tasks, light ones never touch the pool.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LmdbStorage, type TableDef } from '../storage/index.js';
import { Packr } from 'msgpackr';
import { TaskPool, type PoolTask } from '../pool/index.js';
import { DEFAULT_CONFIG, type WeftConfig } from '../config/index.js';
import { executeSql, type SqlServices } from './index.js';

let dir: string;
let storage: LmdbStorage;
let pool: TaskPool;
const tasks: PoolTask['kind'][] = [];
let local: SqlServices;
let pooled: SqlServices;
const ROWS = 3000;

function def(name: string, indexed: string[]): TableDef {
  return {
    database: 'p', name, primaryKey: 'id', schemaDefined: false, audit: false, created: 1,
    attributes: [{ attribute: 'id', is_primary_key: true, indexed: true }, ...indexed.map((a) => ({ attribute: a, indexed: true })),
      { attribute: 'temp' }, { attribute: 'note' }, { attribute: 'meta' }],
  };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-sqlpar-'));
  const config = structuredClone(DEFAULT_CONFIG) as WeftConfig;
  config.storage.path = dir;
  config.jobs.poolSize = 2;
  storage = new LmdbStorage({ path: dir, writeAsync: true });
  const db = storage.openDatabase('p');
  await db.transact((txn) => { txn.saveTable(def('sensor', ['device'])); txn.saveTable(def('small', ['device'])); });
  let x = 7;
  const rnd = () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  await db.transact((txn) => {
    const t = txn.table('sensor')!;
    for (let i = 0; i < ROWS; i++) {
      const r = rnd();
      const rec: Record<string, unknown> = {
        // string keys in random order, so ranges are not contiguous runs of insertion order
        id: `k${Math.floor(rnd() * 1e9).toString(36)}-${i}`,
        device: r < 0.03 ? null : `dev${Math.floor(rnd() * 23)}`,
        temp: r < 0.06 ? null : r < 0.1 ? String(Math.round(rnd() * 300) / 10) : Math.round(rnd() * 4000) / 100 - 5,
        note: i % 17 === 0 ? undefined : `n${i % 41}`,
      };
      if (i % 13 === 0) rec.meta = { score: i % 5 };
      txn.put(t, rec.id as string, rec, 'insert', null);
    }
    const s = txn.table('small')!;
    for (let i = 0; i < 20; i++) txn.put(s, i, { id: i, device: `dev${i % 3}`, temp: i }, 'insert', null);
  });
  pool = new TaskPool({ config, configFile: '', rootPath: dir, version: 'test', startedAt: Date.now(), clock: storage.clock.buffer, idleTimeout: 1000 });
  local = { storage, schemaChanged() {} };
  pooled = {
    storage, schemaChanged() {}, parallelThreshold: 500, poolSize: 2,
    runTask: (task) => { tasks.push(task.kind); return pool.run(task); },
  };
});

after(async () => {
  await pool?.close(1000);
  await storage?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function both(sql: string): Promise<{ local: unknown[]; pooled: unknown[]; tasks: string[] }> {
  const l = [...(await executeSql(sql, local)) as Iterable<unknown>];
  tasks.length = 0;
  const p = [...(await executeSql(sql, pooled)) as Iterable<unknown>];
  return { local: l, pooled: p, tasks: [...tasks] };
}

const HEAVY = [
  'SELECT device, COUNT(*) AS n, AVG(temp) AS avg, SUM(temp) AS s, MIN(temp) AS lo, MAX(temp) AS hi FROM p.sensor GROUP BY device',
  'SELECT COUNT(*), COUNT(temp), COUNT(DISTINCT device), COUNT(DISTINCT temp), AVG(temp) FROM p.sensor',
  'SELECT device, MEDIAN(temp) AS med, MODE(note) AS mo, MAD(temp) AS mad, GROUP_CONCAT(note) AS notes FROM p.sensor GROUP BY device ORDER BY device',
  'SELECT device, ARRAY(temp) AS temps, DISTINCT_ARRAY(note) AS notes FROM p.sensor WHERE temp > 20 GROUP BY device',
  'SELECT device, COUNT(*) AS n FROM p.sensor GROUP BY device HAVING COUNT(*) > 120 ORDER BY n DESC, device LIMIT 5',
  'SELECT note, device, COUNT(*) AS n FROM p.sensor WHERE note LIKE \'n1%\' GROUP BY note, device ORDER BY n DESC LIMIT 3 OFFSET 2',
  'SELECT COUNT(*) AS n, SUM(temp) AS s FROM p.sensor WHERE temp > 1000',
  'SELECT * FROM p.sensor WHERE temp BETWEEN 10 AND 11.5',
  'SELECT id, temp FROM p.sensor WHERE note = \'n3\' ORDER BY temp DESC, id LIMIT 7 OFFSET 3',
  'SELECT DISTINCT device FROM p.sensor ORDER BY device',
  'SELECT id, temp * 2 AS t2 FROM p.sensor ORDER BY t2 LIMIT 10',
  'SELECT id, SEARCH_JSON(\'score\', meta) AS sc FROM p.sensor WHERE SEARCH_JSON(\'score\', meta) >= 3',
  'SELECT device, COUNT(*) FROM p.sensor WHERE device <> \'dev1\' GROUP BY device',
  'SELECT device, UPPER(device) AS d, note, COUNT(*) AS n FROM p.sensor GROUP BY device, note HAVING note <> \'n2\' ORDER BY d, note',
];

test('heavy scans and aggregations run as split and chunk tasks on the pool and give the serving-thread result exactly', async () => {
  for (const sql of HEAVY) {
    const r = await both(sql);
    assert.deepEqual(r.pooled, r.local, sql);
    assert.equal(r.tasks.filter((k) => k === 'sql-split').length, 1, `${sql}: one split`);
    assert.ok(r.tasks.filter((k) => k === 'sql-chunk').length >= 2, `${sql}: several chunks (${r.tasks.join(',')})`);
  }
  // the aggregate is not a degenerate answer
  const [sensor] = (await both('SELECT COUNT(*) AS n FROM p.sensor')).pooled as Array<{ n: number }>;
  assert.equal(sensor!.n, ROWS);
});

test('index lookups, small tables, LIMIT without ORDER BY, plain SELECT * and PROD stay on the serving thread', async () => {
  for (const sql of [
    "SELECT * FROM p.sensor WHERE device = 'dev3'",
    "SELECT device, COUNT(*) FROM p.sensor WHERE device IN ('dev1', 'dev2') GROUP BY device",
    "SELECT * FROM p.sensor WHERE id = 'nope'",
    'SELECT device, COUNT(*) FROM p.small GROUP BY device',
    'SELECT * FROM p.sensor WHERE temp > 10 LIMIT 5',
    'SELECT * FROM p.sensor',
    'SELECT PROD(temp) FROM p.sensor',
    'SELECT s.id FROM p.sensor s INNER JOIN p.small m ON s.temp = m.temp',
  ]) {
    const r = await both(sql);
    assert.deepEqual(r.pooled, r.local, sql);
    assert.deepEqual(r.tasks, [], `${sql} must not use the pool`);
  }
});

test('a grouped chunk sends back, of the first row of each group, only the attributes the statement reads', async () => {
  const sql = 'SELECT device, UPPER(device) AS d, COUNT(*) AS n, AVG(temp) AS t FROM p.sensor GROUP BY device';
  const r = await pool.run({ kind: 'sql-chunk', sql }) as { packed: Uint8Array };
  const { partial } = new Packr({ moreTypes: true }).unpack(r.packed) as { partial: Array<{ first: { recs: Array<Record<string, unknown>> } }> };
  assert.ok(partial.length > 10, 'one entry per device');
  const seen = new Set(partial.flatMap((g) => Object.keys(g.first.recs[0] ?? {})));
  assert.deepEqual([...seen].sort(), ['device', 'temp'], 'not id, note or meta');
});

test('a client mistake met inside a pool thread comes back with its status and message intact', async () => {
  // e.g. the table was dropped between planning on the serving thread and the chunk starting
  const r = await pool.run({ kind: 'sql-chunk', sql: 'SELECT COUNT(*) FROM p.gone' }) as { error?: { status: number; message: string } };
  assert.equal(r.error?.status, 404);
  assert.equal(r.error?.message, "Table 'p.gone' does not exist");
  const split = await pool.run({ kind: 'sql-split', database: 'p', table: 'gone', parts: 4 });
  assert.deepEqual(split, []);
});
