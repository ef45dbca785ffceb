// `npm run bench`: Weft (fresh root, 2 workers) against the bare node:http ceiling, in one run on this machine.
// `npm run bench -- --target <ops-url> <rest-url> --user U --password P` runs the same setup and scenarios
// against any server that speaks Harper's API. Never part of `npm test`. Prints one table; see bench/RESULTS.md.
import { spawn, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import minimist from 'minimist';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = minimist(process.argv.slice(2), { string: ['user', 'password'], default: { duration: 10, connections: 50, records: 100_000, threads: 2 } });
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const RECORDS = Number(args.records);
const DEVICES = 10_000;
const THREADS = Number(args.threads);
const user = args.user ?? 'admin';
const password = args.password ?? 'bench-pass';
const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

function rssOf(pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024; } catch { return NaN; }
}

async function waitFor(fn, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    try { if (await fn()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function op(opsUrl, body) {
  const res = await fetch(opsUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${body.operation}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const APP_SCHEMA = `type Sensor @table @export {
  id: ID @primaryKey
  device: String @indexed
  ts: Float
  temp: Float
  humidity: Float
}
`;

async function startWeft() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-'));
  const app = path.join(root, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'schema.graphql'), APP_SCHEMA);
  const t0 = performance.now();
  const proc = spawn(process.execPath, [path.join(here, '../bin/weft.js'), 'run', app, `--ROOTPATH=${path.join(root, 'db')}`,
    `--THREADS_COUNT=${THREADS}`, '--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0', '--HTTP_PORT=127.0.0.1:0', '--LOGGING_LEVEL=error'], {
    env: { ...process.env, HDB_ADMIN_USERNAME: user, HDB_ADMIN_PASSWORD: password }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; });
  await waitFor(() => out.includes('successfully started'));
  const listening = /Listening:\s+(.*)/.exec(out)[1];
  const port = (name) => Number(new RegExp(`${name}: (?:[^,]*:)?(\\d+)`).exec(listening)[1]);
  const opsUrl = `http://127.0.0.1:${port('operations')}/`;
  const restUrl = `http://127.0.0.1:${port('http')}/`;
  await waitFor(async () => (await fetch(opsUrl + 'health')).ok);
  const startup = performance.now() - t0;
  return { proc, root, opsUrl, restUrl, startup, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

async function startCeiling() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(process.execPath, [path.join(here, 'ceiling.js'), String(port), String(THREADS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; });
  await waitFor(() => out.includes('ceiling ready'));
  return { url: `http://127.0.0.1:${port}/`, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

function run(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const rand = (n) => Math.floor(Math.random() * n);
let nextNew = RECORDS + 1_000_000;

function scenarios(opsUrl, restUrl) {
  const h = { Authorization: auth, 'Content-Type': 'application/json' };
  const reading = () => ({ device: `d${rand(DEVICES)}`, ts: Date.now(), temp: 20 + Math.random() * 10, humidity: Math.random() * 100 });
  return [
    { name: 'REST GET /Sensor/<id>', opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'GET', path: `/Sensor/${rand(RECORDS)}` }) }] } },
    { name: 'REST PUT /Sensor/<new id>', opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'PUT', path: `/Sensor/${nextNew++}`, body: JSON.stringify(reading()) }) }] } },
    { name: 'REST POST /Sensor/', opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'POST', path: '/Sensor/', body: JSON.stringify(reading()) }) }] } },
    { name: 'ops insert x100', perRequest: 100, opts: { url: opsUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'POST', path: '/', body: JSON.stringify({ operation: 'insert', database: 'data', table: 'Sensor', records: Array.from({ length: 100 }, () => ({ id: String(nextNew++), ...reading() })) }) }) }] } },
    { name: 'REST GET /Sensor/?device=', opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'GET', path: `/Sensor/?device=d${rand(DEVICES)}` }) }] } },
    { name: 'ops search_by_value device', opts: { url: opsUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'POST', path: '/', body: JSON.stringify({ operation: 'search_by_value', database: 'data', table: 'Sensor', attribute: 'device', value: `d${rand(DEVICES)}`, get_attributes: ['*'] }) }) }] } },
    { name: 'ops SQL GROUP BY device', opts: { url: opsUrl, headers: h, connections: Math.min(CONNECTIONS, 4), requests: [{ method: 'POST', path: '/', body: JSON.stringify({ operation: 'sql', sql: 'SELECT device, COUNT(*) AS n, AVG(temp) AS t FROM data.Sensor GROUP BY device' }) }] } },
  ];
}

async function load(opsUrl) {
  const t0 = performance.now();
  const batch = 1000;
  for (let i = 0; i < RECORDS; i += batch) {
    const records = [];
    for (let j = i; j < Math.min(RECORDS, i + batch); j++) records.push({ id: String(j), device: `d${j % DEVICES}`, ts: Date.now(), temp: 20 + (j % 100) / 10, humidity: j % 100 });
    await op(opsUrl, { operation: 'upsert', database: 'data', table: 'Sensor', records });
  }
  return performance.now() - t0;
}

function fmt(n, d = 0) { return Number.isFinite(n) ? n.toFixed(d) : '-'; }

async function main() {
  const rows = [];
  let target;
  let weft;
  if (args.target) {
    const [opsUrl, restUrl] = [args.target, args._[0]];
    target = { opsUrl, restUrl, startup: NaN, proc: null, stop: async () => {} };
    await op(opsUrl, { operation: 'create_table', database: 'data', table: 'Sensor', primary_key: 'id' }).catch(() => {});
    await op(opsUrl, { operation: 'create_attribute', database: 'data', table: 'Sensor', attribute: 'device' }).catch(() => {});
  } else {
    weft = await startWeft();
    target = weft;
  }
  const idleRss = target.proc ? rssOf(target.proc.pid) : NaN;
  const loadMs = await load(target.opsUrl);
  const ceiling = await startCeiling();
  const c = await run({ url: ceiling.url });
  await ceiling.stop();
  const C = c.requests.average;
  rows.push({ name: 'node:http ceiling (C)', rps: C, p50: c.latency.p50, p99: c.latency.p99, errors: c.errors + c.non2xx, ratio: 1 });
  for (const s of scenarios(target.opsUrl, target.restUrl)) {
    const r = await run(s.opts);
    const rps = r.requests.average * (s.perRequest ?? 1);
    rows.push({ name: s.name, rps, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts, ratio: rps / C, unit: s.perRequest ? 'rec/s' : 'req/s' });
  }
  const loadedRss = target.proc ? rssOf(target.proc.pid) : NaN;
  await target.stop();
  let commit = '';
  try { commit = execSync('git rev-parse --short HEAD', { cwd: here }).toString().trim(); } catch { /* not a checkout */ }
  console.log(`\nWeft bench — ${new Date().toISOString()} — ${os.cpus().length} cores (${os.cpus()[0]?.model}), Node ${process.version}, commit ${commit}`);
  console.log(`${THREADS} workers, ${CONNECTIONS} connections, ${DURATION} s per scenario, ${RECORDS} records loaded in ${fmt(loadMs / 1000, 1)} s\n`);
  console.log('| scenario | throughput | p50 ms | p99 ms | errors | ratio to C |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.rps)} ${r.unit ?? 'req/s'} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} | ${fmt(r.ratio, 2)} |`);
  console.log(`\nidle RSS ${fmt(idleRss / 1048576)} MiB, RSS after load ${fmt(loadedRss / 1048576)} MiB, start-up to first successful request ${fmt(target.startup)} ms`);
  if (weft) fs.rmSync(weft.root, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
