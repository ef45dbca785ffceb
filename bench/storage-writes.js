// The storage layer's own durable write rate for the write scenarios of `npm run bench`, without HTTP: the upper
// bound of what REST PUT/POST and `insert` of 100 records can reach on this machine's disk. Same table shape as the
// main bench (Sensor, `device` indexed with 10,000 values, audit log on), 100,000 records loaded first, then worker
// threads each keep W optimistic transactions in flight through Database.transact, exactly as the REST and
// Operations API handlers call it, and every write waits for its disk flush.
// Usage: npm run build && node bench/storage-writes.js [--threads 2] [--inflight 50] [--duration 5] [--only put,post,batch]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import minimist from 'minimist';
import { LmdbStorage } from '../dist/storage/index.js';

const DEVICES = 10_000;
const TABLE = {
  database: 'data', name: 'Sensor', primaryKey: 'id', schemaDefined: true, audit: true, created: 1,
  attributes: [
    { attribute: 'id', is_primary_key: true, indexed: true, type: 'ID' }, { attribute: 'device', indexed: true, type: 'String' },
    { attribute: 'ts', type: 'Float' }, { attribute: 'temp', type: 'Float' }, { attribute: 'humidity', type: 'Float' },
  ],
};
const reading = () => ({ device: `d${Math.floor(Math.random() * DEVICES)}`, ts: Date.now(), temp: 20 + Math.random() * 10, humidity: 50 });

/** One transaction of each pattern: a new id (PUT), a generated UUID (POST), 100 new ids (insert x100). */
const PATTERNS = {
  put: { records: 1, write: (txn, t, k, seq) => { const id = `p${k}-${seq}`; const prev = txn.get(t, id); txn.put(t, id, { id, ...reading() }, prev ? 'update' : 'insert', prev ?? null); } },
  post: { records: 1, write: (txn, t) => { const id = txn.newId(t); txn.put(t, id, { id, ...reading() }, 'insert', null); } },
  batch: { records: 100, write: (txn, t, k, seq) => { for (let j = 0; j < 100; j++) { const id = `b${k}-${seq}-${j}`; const prev = txn.get(t, id); txn.put(t, id, { id, ...reading() }, prev ? 'update' : 'insert', prev ?? null); } } },
};

if (isMainThread) {
  const args = minimist(process.argv.slice(2), { default: { threads: 2, inflight: 50, duration: 5, only: 'put,post,batch' } });
  const threads = Number(args.threads);
  console.log(`storage alone: ${threads} thread(s), ${args.inflight} transactions in flight, ${args.duration} s per pattern, every write flushed`);
  for (const pattern of String(args.only).split(',')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-storage-bench-'));
    const storage = new LmdbStorage({ path: dir });
    const db = storage.openDatabase('data');
    await db.transact((txn) => { txn.saveTable(TABLE); });
    const t = db.table('Sensor');
    for (let b = 0; b < 100; b++) {
      await db.transact((txn) => { for (let i = 0; i < 1000; i++) { const id = String(b * 1000 + i); txn.put(t, id, { id, ...reading() }, 'insert', null); } });
    }
    const per = Math.max(1, Math.round(Number(args.inflight) / threads));
    const workers = Array.from({ length: threads }, (_, k) => new Worker(new URL(import.meta.url), { workerData: { dir, inflight: per, duration: Number(args.duration), k, pattern } }));
    const results = await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
    const records = results.reduce((a, r) => a + r.records, 0);
    const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(1);
    const unit = PATTERNS[pattern].records > 1 ? 'records/s' : 'writes/s';
    console.log(`  ${pattern.padEnd(5)} ${(records / Number(args.duration)).toFixed(0).padStart(7)} ${unit}, latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`);
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
} else {
  const { dir, inflight, duration, k, pattern } = workerData;
  const storage = new LmdbStorage({ path: dir });
  const db = storage.openDatabase('data');
  const t = db.table('Sensor');
  const { records: size, write } = PATTERNS[pattern];
  const end = Date.now() + duration * 1000;
  const lat = [];
  let seq = 0;
  let records = 0;
  const loop = async () => {
    while (Date.now() < end) {
      const s = performance.now();
      const n = seq++;
      await db.transact((txn) => write(txn, t, k, n), 'bench', { optimistic: true });
      lat.push(performance.now() - s);
      records += size;
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  parentPort.postMessage({ records, lat });
}
