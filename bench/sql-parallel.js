// `npm run bench:sql`: a 1,000,000-row GROUP BY on the background pool with jobs.poolSize 1 and 2 (two server
// starts on the same root), and the latency of search_by_id on another table while that aggregate runs.
// Rows are written through the storage API directly (server stopped), in 100,000-row transactions.
// Options: --rows 1000000 --runs 3 --threads 2 (serving threads). Never part of `npm test`. See bench/RESULTS.md.
import { spawn, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import minimist from 'minimist';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = minimist(process.argv.slice(2), { default: { rows: 1_000_000, runs: 3, threads: 2, devices: 50 } });
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const THREADS = Number(args.threads);
const DEVICES = Number(args.devices);
const auth = 'Basic ' + Buffer.from('admin:bench-pass').toString('base64');
const SQL = 'SELECT device, COUNT(*), AVG(temp) FROM data.Sensor GROUP BY device';

async function waitFor(fn, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    try { if (await fn()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function start(root, poolSize) {
  const proc = spawn(process.execPath, [path.join(here, '../bin/weft.js'), 'run', `--ROOTPATH=${root}`, `--THREADS_COUNT=${THREADS}`,
    `--JOBS_POOLSIZE=${poolSize}`, '--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0', '--HTTP_PORT=127.0.0.1:0', '--LOGGING_LEVEL=error'], {
    env: { ...process.env, HDB_ADMIN_USERNAME: 'admin', HDB_ADMIN_PASSWORD: 'bench-pass' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; });
  await waitFor(() => out.includes('successfully started'));
  const port = Number(/operations: (?:[^,]*:)?(\d+)/.exec(/Listening:\s+(.*)/.exec(out)[1])[1]);
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => (await fetch(url + 'health')).ok);
  const op = async (body) => {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${body.operation}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  return { op, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

async function load(root) {
  const { LmdbStorage } = await import('../dist/storage/index.js');
  const storage = new LmdbStorage({ path: path.join(root, 'database'), writeAsync: true });
  const db = storage.openDatabase('data');
  const t0 = performance.now();
  await db.transact((txn) => { txn.addAttributes(txn.table('Sensor'), ['device', 'temp']); });
  const batch = 100_000;
  for (let i = 0; i < ROWS; i += batch) {
    await db.transact((txn) => {
      const t = txn.table('Sensor');
      for (let j = i; j < Math.min(ROWS, i + batch); j++) {
        const id = `s${j.toString(36).padStart(6, '0')}`;
        txn.put(t, id, { id, device: `d${j % DEVICES}`, temp: 15 + ((j * 7919) % 2000) / 100 }, 'insert', null);
      }
    });
  }
  const ms = performance.now() - t0;
  await storage.close();
  return ms;
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

/** search_by_id on data.Other from 4 concurrent clients until `until` resolves; latencies in ms. */
async function pointReads(op, until) {
  const lat = [];
  let done = false, failed = 0;
  until.then(() => { done = true; });
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (!done) {
      const t = performance.now();
      try { await op({ operation: 'search_by_id', database: 'data', table: 'Other', ids: [Math.floor(Math.random() * 100)], get_attributes: ['*'] }); }
      catch { failed++; }
      lat.push(performance.now() - t);
    }
  }));
  return { lat, failed };
}

/** Index-planned statements on the 1M-row table answer in milliseconds, not by a scan: time a few, once each. */
async function indexedLookups(op) {
  const cases = [
    ["SELECT * FROM data.Sensor WHERE id = 's00abcd'", 1],
    ['SELECT * FROM data.Sensor WHERE temp = 20.5', 500],
    ['SELECT id, temp FROM data.Sensor WHERE temp BETWEEN 20.5 AND 20.52', 1500],
    ["SELECT COUNT(*) AS n FROM data.Sensor WHERE temp > 34.98", 1],
  ];
  for (const [sql, expectRows] of cases) {
    const t = performance.now();
    const rows = await op({ operation: 'sql', sql });
    const ms = performance.now() - t;
    console.log(`  indexed: ${sql} -> ${rows.length} rows (expected ${expectRows}) in ${ms.toFixed(1)} ms`);
  }
}

async function measure(root, poolSize) {
  const s = await start(root, poolSize);
  try {
    const times = [];
    let result;
    await s.op({ operation: 'sql', sql: SQL }); // warm-up: pool threads start, pages cached
    if (poolSize === 1) await indexedLookups(s.op);
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      result = await s.op({ operation: 'sql', sql: SQL });
      times.push(performance.now() - t);
    }
    const idle = await pointReads(s.op, new Promise((r) => setTimeout(r, 2000)));
    const agg = (async () => { for (let i = 0; i < 2; i++) await s.op({ operation: 'sql', sql: SQL }); })();
    const busy = await pointReads(s.op, agg);
    await agg;
    return { times, result, idle, busy };
  } finally {
    await s.stop();
  }
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-sqlbench-'));
  try {
    const s = await start(root, 1);
    await s.op({ operation: 'create_table', database: 'data', table: 'Sensor', primary_key: 'id', audit: false });
    await s.op({ operation: 'create_table', database: 'data', table: 'Other', primary_key: 'id' });
    await s.op({ operation: 'insert', database: 'data', table: 'Other', records: Array.from({ length: 100 }, (_, id) => ({ id, v: `x${id}` })) });
    await s.stop();
    const loadMs = await load(root);
    console.log(`loaded ${ROWS} rows in ${(loadMs / 1000).toFixed(1)} s (${Math.round(ROWS / (loadMs / 1000))} rows/s, storage API)`);
    let commit = '?';
    try { commit = execSync('git rev-parse --short HEAD', { cwd: here }).toString().trim(); } catch { /* not a checkout */ }
    console.log(`${new Date().toISOString()}  ${os.cpus()[0]?.model} x${os.cpus().length}  node ${process.version}  commit ${commit}  serving threads ${THREADS}`);
    console.log(`query: ${SQL}`);
    const out = {};
    for (const size of [1, 2]) {
      const m = await measure(root, size);
      out[size] = m;
      const med = pct(m.times, 0.5);
      console.log(`poolSize ${size}: ${m.times.map((t) => t.toFixed(0)).join(' / ')} ms (median ${med.toFixed(0)} ms), ${m.result.length} groups, COUNT sum ${m.result.reduce((a, r) => a + r['COUNT(*)'], 0)}`);
      console.log(`  search_by_id on data.Other, p50/p99 ms: idle ${pct(m.idle.lat, 0.5).toFixed(1)}/${pct(m.idle.lat, 0.99).toFixed(1)} (${m.idle.lat.length} req),`
        + ` during aggregate ${pct(m.busy.lat, 0.5).toFixed(1)}/${pct(m.busy.lat, 0.99).toFixed(1)} (${m.busy.lat.length} req, ${m.busy.failed} failed)`);
    }
    if (JSON.stringify(out[1].result) !== JSON.stringify(out[2].result)) console.log('RESULTS DIFFER between pool sizes');
    console.log(`speed-up 1 -> 2 pool threads: ${(pct(out[1].times, 0.5) / pct(out[2].times, 0.5)).toFixed(2)}x (medians)`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
