// The durable-write ceiling of this machine for the bench's PUT scenario: what Node itself does with the same
// storage engine, next to the hello-world ceiling, in one run. N node:http processes (node:cluster, as
// bench/ceiling.js) each answer `PUT /Sensor/<id>` by reading the record's version, writing the record (msgpack,
// shared structures, versioned), one `device` index entry and one audit entry under an lmdb-js version condition,
// and answering 204 once the write is flushed to disk: Weft's REST PUT without users, roles, validation, realtime
// or any of Weft's code. 100,000 records are loaded first (10,000 devices), as in `npm run bench`.
// Usage: node bench/write-ceiling.js [--processes 2] [--duration 8] [--connections 50] [--repeat 2]
// Needs wrk (it sends the request bodies); the hello-world ceiling is measured in the same run with the same wrk.
import cluster from 'node:cluster';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import minimist from 'minimist';
import { open } from 'lmdb';
import { hasWrk, parseWrk, WRK_DONE_LUA } from './wrk.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const STRUCTURES = Symbol.for('structures');

function openStores(file) {
  const env = open({ path: file, noSubdir: true, maxDbs: 10 });
  return {
    env,
    primary: env.openDB({ name: 'Sensor', useVersions: true, sharedStructuresKey: STRUCTURES }),
    index: env.openDB({ name: 'Sensor/device', dupSort: true, encoding: 'ordered-binary' }),
    audit: env.openDB({ name: '__audit__' }),
  };
}

if (cluster.isWorker) {
  const { env, primary, index, audit } = openStores(process.env.WRITE_CEILING_FILE);
  let seq = 0;
  http.createServer((req, res) => {
    const id = req.url.slice('/Sensor/'.length);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      const record = JSON.parse(body);
      record.id = id;
      const time = Date.now();
      const entry = primary.getEntry(id);
      const committed = primary.ifVersion(id, entry ? entry.version : null, () => {
        primary.put(id, record, time);
        index.put(record.device, id);
        audit.put([time, seq++], { table: 'Sensor', operation: 'put', user: 'admin', id, record });
      });
      const flushed = env.flushed;
      const ok = await committed;
      await flushed;
      res.writeHead(ok ? 204 : 409).end();
    });
  }).listen(Number(process.env.WRITE_CEILING_PORT), '127.0.0.1', () => process.send('ready'));
} else {
  const args = minimist(process.argv.slice(2), { default: { processes: 2, duration: 8, connections: 50, repeat: 2 } });
  if (!hasWrk()) { console.error('write-ceiling needs wrk (apt-get install wrk)'); process.exit(1); }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-write-ceiling-'));
  const file = path.join(dir, 'data.mdb');
  const { env, primary, index } = openStores(file);
  await env.transaction(() => {
    for (let i = 0; i < 100_000; i++) {
      const id = String(i);
      const device = `d${i % 10_000}`;
      primary.put(id, { id, device, ts: Date.now(), temp: 20 + Math.random() * 10, humidity: Math.random() * 100 }, 1);
      index.put(device, id);
    }
  });
  await env.close();
  const port = 20000 + Math.floor(Math.random() * 20000);
  cluster.setupPrimary({ exec: fileURLToPath(import.meta.url) });
  let ready = 0;
  const up = new Promise((resolve) => cluster.on('message', (_w, m) => { if (m === 'ready' && ++ready === Number(args.processes)) resolve(); }));
  for (let i = 0; i < Number(args.processes); i++) cluster.fork({ WRITE_CEILING_FILE: file, WRITE_CEILING_PORT: String(port) });
  await up;
  const hello = spawn(process.execPath, [path.join(here, 'ceiling.js'), String(port + 1), String(args.processes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => hello.stdout.on('data', (c) => { if (String(c).includes('ceiling ready')) resolve(); }));

  let next = 5_000_000;
  const wrk = (url, lua) => {
    const script = path.join(dir, `s${next}.lua`);
    fs.writeFileSync(script, `math.randomseed(${Math.floor(Math.random() * 1e9)})\nlocal counter = ${next}\n${lua}\n${WRK_DONE_LUA}`);
    return new Promise((resolve, reject) => {
      const p = spawn('wrk', ['-t1', `-c${args.connections}`, `-d${args.duration}s`, '-s', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (c) => { out += c; });
      p.on('close', () => {
        const j = parseWrk(out);
        if (!j) return reject(new Error(`wrk failed: ${out}`));
        next += j.requests + 1;
        resolve({ rate: j.requests / (j.duration / 1e6), p50: j.p50, p99: j.p99, errors: j.errors + j.status + j.timeout });
      });
    });
  };
  const put = `local function rand(n) return math.random(0, n - 1) end
request = function()
  counter = counter + 1
  return wrk.format('PUT', '/Sensor/' .. counter, { ['Content-Type'] = 'application/json' },
    string.format('{"device":"d%d","ts":%d,"temp":%.3f,"humidity":%.3f}', rand(10000), os.time() * 1000, 20 + math.random() * 10, math.random() * 100))
end`;
  const get = `request = function() return wrk.format('GET', '/') end`;
  await wrk(`http://127.0.0.1:${port + 1}/`, get); // warm-up
  await wrk(`http://127.0.0.1:${port}/`, put);
  console.log(`write ceiling: ${args.processes} processes, ${args.connections} connections, ${args.duration} s per run, ${os.cpus().length} cores, Node ${process.version}`);
  for (let r = 0; r < Number(args.repeat); r++) {
    const c = await wrk(`http://127.0.0.1:${port + 1}/`, get);
    const w = await wrk(`http://127.0.0.1:${port}/`, put);
    console.log(`  hello-world C ${c.rate.toFixed(0)} req/s; node:http + lmdb-js durable PUT ${w.rate.toFixed(0)} req/s ` +
      `(p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, errors ${w.errors}) = ${(w.rate / c.rate).toFixed(2)} C`);
  }
  hello.kill('SIGTERM');
  for (const w of Object.values(cluster.workers)) w.kill();
  await new Promise((r) => setTimeout(r, 300));
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
