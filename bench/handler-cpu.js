// JavaScript cost of one REST request in Weft's handler, without sockets: the handler of a real root is called with
// node's IncomingMessage/ServerResponse objects in a loop. On a shared VM this is far steadier than a load test,
// so use it to decide between two versions of the request path (then confirm with `npm run bench`).
// Writes (--method PUT|POST) run 50 requests at once, as the load test does, and report the serving thread's own CPU
// per request (from /proc: the LMDB writer and sync threads are not counted) next to the throughput, which includes
// waiting for the disk.
// Usage: npm run build && node bench/handler-cpu.js [--requests 200000] [--path /Sensor/<n>] [--method PUT|POST]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import minimist from 'minimist';
import pino from 'pino';
import { LmdbStorage } from '../dist/storage/index.js';
import { UserStore } from '../dist/auth/index.js';
import { DEFAULT_CONFIG } from '../dist/config/index.js';
import { createRestHandler, ResourceMap } from '../dist/rest/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = minimist(process.argv.slice(2), { default: { records: 10_000 } });
const RECORDS = Number(args.records);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-handler-'));
const app = path.join(root, 'app');
fs.mkdirSync(app);
fs.writeFileSync(path.join(app, 'schema.graphql'), 'type Sensor @table @export {\n  id: ID @primaryKey\n  device: String @indexed\n  ts: Float\n  temp: Float\n  humidity: Float\n}\n');
const auth = 'Basic ' + Buffer.from('admin:bench-pass').toString('base64');

/** A real server creates the root (admin user, table) and loads the records, then stops. */
async function prepare() {
  const proc = spawn(process.execPath, [path.join(here, '../bin/weft.js'), 'run', app, `--ROOTPATH=${path.join(root, 'db')}`, '--THREADS_COUNT=1',
    '--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0', '--HTTP_PORT=127.0.0.1:0', '--LOGGING_LEVEL=error'], {
    env: { ...process.env, HDB_ADMIN_USERNAME: 'admin', HDB_ADMIN_PASSWORD: 'bench-pass' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; });
  for (let i = 0; i < 600 && !/Listening:\s+.*\n/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  const ops = `http://127.0.0.1:${/operations: (?:[^,]*:)?(\d+)/.exec(out)[1]}/`;
  for (let i = 0; i < RECORDS; i += 1000) {
    const records = Array.from({ length: Math.min(1000, RECORDS - i) }, (_, j) => ({ id: String(i + j), device: `d${(i + j) % 1000}`, ts: Date.now(), temp: 20 + ((i + j) % 100) / 10, humidity: (i + j) % 100 }));
    const res = await fetch(ops, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth }, body: JSON.stringify({ operation: 'upsert', database: 'data', table: 'Sensor', records }) });
    if (res.status !== 200) throw new Error(await res.text());
  }
  await new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); });
}

await prepare();
const config = structuredClone(DEFAULT_CONFIG);
const storage = new LmdbStorage({ path: path.join(root, 'db', 'database'), closeNotified: true });
const users = new UserStore(storage, { cacheTTL: 30_000, rootPath: path.join(root, 'db') });
const resources = new ResourceMap();
resources.add({ kind: 'table', path: 'Sensor', database: 'data', table: 'Sensor', typeName: 'Sensor' });
const handle = createRestHandler({ storage, users, config, logger: pino({ level: 'error' }), resources, notFound: (_q, s) => s.writeHead(404).end() });
const socket = new Socket();

const METHOD = String(args.method ?? 'GET').toUpperCase();
const WRITE = METHOD !== 'GET';
let nextNew = RECORDS;

function request(i) {
  const req = new http.IncomingMessage(socket);
  req.method = METHOD;
  req.url = args.path ?? (METHOD === 'POST' ? '/Sensor/' : METHOD === 'PUT' ? `/Sensor/${nextNew++}` : `/Sensor/${i % RECORDS}`);
  req.headers = { authorization: auth, host: 'bench' };
  if (WRITE) {
    const body = Buffer.from(JSON.stringify({ device: `d${i % 10_000}`, ts: Date.now(), temp: 21.5, humidity: 40 }));
    req.headers['content-type'] = 'application/json';
    req.headers['content-length'] = String(body.length);
    req.push(body);
    req.push(null);
  }
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  const res = new http.ServerResponse(req);
  return handle(req, res).then(() => res);
}

const first = await request(5);
if (first.statusCode >= 300) throw new Error(`${METHOD} answered ${first.statusCode}`);
const N = Number(args.requests ?? (WRITE ? 20_000 : 200_000));
/** CPU (user + system) of this thread so far, in microseconds; the writer threads of lmdb-js are not counted. */
function threadCpuUs() {
  const f = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * (1e6 / 100);
}
const results = [];
for (let round = 0; round < 5; round++) {
  const t0 = performance.now();
  const c0 = threadCpuUs();
  if (WRITE) {
    let started = 0;
    const loop = async () => { while (started < N) { started++; const res = await request(started); if (res.statusCode >= 300) throw new Error(`${METHOD} answered ${res.statusCode}`); } };
    await Promise.all(Array.from({ length: 50 }, loop));
  } else {
    for (let i = 0; i < N; i++) await request(i);
  }
  const wall = performance.now() - t0;
  results.push({ us: (wall * 1000) / N, cpu: (threadCpuUs() - c0) / N, rate: N / (wall / 1000) });
}
if (WRITE) {
  results.sort((a, b) => a.cpu - b.cpu);
  console.log(`${METHOD} ${args.path ?? '/Sensor/'}, 50 at once: ${results.map((r) => r.cpu.toFixed(1)).join(' / ')} us of serving-thread CPU per request; ${results.map((r) => r.rate.toFixed(0)).join(' / ')} req/s (5 rounds of ${N}, sorted by CPU; /proc ticks are 10 ms, so use rounds of 10,000+)`);
} else {
  results.sort((a, b) => a.us - b.us);
  console.log(`GET ${args.path ?? '/Sensor/<id>'}: ${results.map((r) => r.us.toFixed(2)).join(' / ')} us per request (5 rounds of ${N}, sorted; the lowest is the least disturbed)`);
}
await storage.close();
fs.rmSync(root, { recursive: true, force: true });
process.exit(0);
