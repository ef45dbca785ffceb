// `npm run bench`: Weft (fresh root, 2 workers) against the bare node:http ceiling, in one run on this machine.
// `npm run bench -- --target <ops-url> <rest-url> --user U --password P` runs the same setup and scenarios
// against any server that speaks Harper's API: setup through the Operations API and the component operations only.
// Never part of `npm test`. Prints one table; see bench/RESULTS.md.
// Other flags: --duration s, --repeat n (runs per scenario, each paired with its own ceiling measurement; medians
// are printed), --connections n, --records n, --threads n, --only <substr,...> (scenarios to run),
// --profile <dir> (Weft workers write V8 CPU profiles there; summarise with bench/profile-summary.js <dir>),
// --generator wrk|autocannon (default: wrk when it is installed, as it needs far less CPU than autocannon on the
// same machine, leaving more of it to the server being measured; autocannon otherwise).
import { spawn, execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import minimist from 'minimist';
import { hasWrk, parseWrk, WRK_DONE_LUA } from './wrk.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = minimist(process.argv.slice(2), { string: ['user', 'password', 'target', 'only', 'profile', 'generator'], default: { duration: 10, connections: 50, records: 100_000, threads: 2, repeat: 1 } });
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const RECORDS = Number(args.records);
const DEVICES = 10_000;
const THREADS = Number(args.threads);
const REPEAT = Math.max(1, Number(args.repeat ?? 1));
const user = args.user ?? 'admin';
const password = args.password ?? 'bench-pass';
const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** CPU seconds used so far by each thread of a process (utime + stime from /proc), by thread id. */
function threadCpu(pid) {
  const out = new Map();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let name = '';
      try { name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(); } catch { /* gone */ }
      out.set(`${tid} ${name}`, (Number(f[11]) + Number(f[12])) / 100); // clock ticks (USER_HZ = 100 on Linux)
    }
  } catch { /* gone */ }
  return out;
}

/** CPU use of the two busiest threads between two threadCpu snapshots, in % of one core: both workers busy = both high. */
function busiest(before, after, seconds) {
  const d = [...after].map(([tid, s]) => [tid, s - (before.get(tid) ?? 0)]).sort((a, b) => b[1] - a[1]);
  if (args['thread-names']) console.error(d.slice(0, 4).map(([t, s]) => `${t}: ${Math.round((100 * s) / seconds)}%`).join(', '));
  return `${Math.round((100 * (d[0]?.[1] ?? 0)) / seconds)}/${Math.round((100 * (d[1]?.[1] ?? 0)) / seconds)}%`;
}

/** RSS split into anonymous memory (heaps, buffers) and file pages (LMDB's memory map counts here). */
function rssParts(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) / 1024;
    return `${fmt(kb('VmRSS'))} (anon ${fmt(kb('RssAnon'))} / file ${fmt(kb('RssFile'))})`;
  } catch { return '-'; }
}

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
  const env = { ...process.env, HDB_ADMIN_USERNAME: user, HDB_ADMIN_PASSWORD: password };
  if (args.profile) { fs.mkdirSync(path.resolve(args.profile), { recursive: true }); env.WEFT_CPU_PROF = path.resolve(args.profile); }
  const t0 = performance.now();
  const proc = spawn(process.execPath, [path.join(here, '../bin/weft.js'), 'run', app, `--ROOTPATH=${path.join(root, 'db')}`,
    `--THREADS_COUNT=${THREADS}`, '--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0', '--HTTP_PORT=127.0.0.1:0', '--LOGGING_LEVEL=error'], {
    env, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; });
  await waitFor(() => /Listening:\s+.*\n/.test(out), 60_000);
  const listening = /Listening:\s+(.*)/.exec(out)[1];
  const port = (name) => Number(new RegExp(`${name}: (?:[^,]*:)?(\\d+)`).exec(listening)[1]);
  const opsUrl = `http://127.0.0.1:${port('operations')}/`;
  const restUrl = `http://127.0.0.1:${port('http')}/`;
  // the first successful request = an authenticated operation answered 200, not just a health check
  await waitFor(async () => (await op(opsUrl, { operation: 'describe_all' })) !== undefined, 60_000);
  const startup = performance.now() - t0;
  return { proc, root, opsUrl, restUrl, startup, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

/**
 * --target: create the Sensor table the way a user would, as a component (schema.graphql with @export) written with
 * set_component_file and picked up by a restart, since tables created by create_table are not exported over REST.
 * Skipped when the REST resource already answers (deployed before).
 */
async function setupTarget(opsUrl, restUrl) {
  const exported = async () => (await fetch(`${restUrl}Sensor/`, { headers: { Authorization: auth } })).status !== 404;
  if (await exported().catch(() => false)) return;
  const project = 'weft-bench';
  await op(opsUrl, { operation: 'set_component_file', project, file: 'schema.graphql', payload: APP_SCHEMA });
  await op(opsUrl, { operation: 'set_component_file', project, file: 'config.yaml', payload: "rest: true\ngraphqlSchema:\n  files: '*.graphql'\n" });
  await op(opsUrl, { operation: 'restart' });
  await new Promise((r) => setTimeout(r, 1000));
  await waitFor(() => exported(), 120_000);
}

async function startCeiling() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(process.execPath, [path.join(here, 'ceiling.js'), String(port), String(THREADS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; });
  await waitFor(() => out.includes('ceiling ready'));
  return { url: `http://127.0.0.1:${port}/`, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

const GENERATOR = args.generator ?? (hasWrk() ? 'wrk' : 'autocannon');

/** Run one load: `opts` in autocannon's shape; with wrk each request is built by `opts.lua` (a request() body). */
function run(opts) {
  if (GENERATOR === 'wrk') return runWrk(opts);
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const luaString = (s) => JSON.stringify(String(s)); // JSON string escapes are valid Lua string escapes for this text

/**
 * wrk with one thread (as autocannon has one), a Lua script that builds each request, and a done() hook that prints
 * the figures as JSON. Results come back in autocannon's shape so the table code is shared.
 */
async function runWrk(opts) {
  const duration = opts.duration ?? DURATION;
  const connections = opts.connections ?? CONNECTIONS;
  const headers = Object.entries(opts.headers ?? {}).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`).join('\n');
  const script = `${headers}
math.randomseed(${Math.floor(Math.random() * 1e9)})
local counter = ${nextNew}
local function rand(n) return math.random(0, n - 1) end
local function nextId() counter = counter + 1; return counter end
local function reading()
  return string.format('{"device":"d%d","ts":%d,"temp":%.3f,"humidity":%.3f}', rand(${DEVICES}), os.time() * 1000, 20 + math.random() * 10, math.random() * 100)
end
request = function()
${opts.lua ?? `  return wrk.format(${luaString(opts.method ?? 'GET')}, ${luaString(new URL(opts.url).pathname)})`}
end
${WRK_DONE_LUA}`;
  const file = path.join(os.tmpdir(), `weft-bench-${process.pid}-${Math.random().toString(36).slice(2)}.lua`);
  fs.writeFileSync(file, script);
  try {
    const proc = spawn('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--timeout', '60s', '-s', file, opts.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let cpu = 0;
    proc.stdout.on('data', (c) => { out += c; });
    // wrk's CPU: sampled from /proc while it runs (its last sample is within 250 ms of the end)
    const sampler = setInterval(() => {
      try { const f = fs.readFileSync(`/proc/${proc.pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); cpu = (Number(x[11]) + Number(x[12])) / 100; } catch { /* exited */ }
    }, 250);
    // 'close', not 'exit': the exit can come before the last of stdout is read
    const code = await new Promise((r) => proc.once('close', r));
    clearInterval(sampler);
    const j = parseWrk(out);
    if (code !== 0 || !j) throw new Error(`wrk failed (exit ${code}): ${out.slice(-500)}`);
    nextNew += j.requests * (opts.perRequest ?? 1) + 1;
    return {
      requests: { average: j.requests / (j.duration / 1e6) }, latency: { p50: j.p50, p99: j.p99 },
      errors: j.errors + j.timeout, non2xx: j.status, timeouts: 0, generatorCpu: Math.round((100 * cpu) / duration),
    };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * The ceiling server stays up for the whole run (idle between measurements) and C is measured right before each
 * scenario run, so every ratio compares two measurements taken seconds apart: on a shared VM the ceiling itself
 * moved by 30-40% within minutes, which made one C for the whole run the largest error in every ratio.
 */
async function ceilingMeter() {
  const ceiling = await startCeiling();
  await run({ url: ceiling.url, duration: 1 }); // warm-up
  return {
    async measure() {
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await run({ url: ceiling.url });
      const u = process.cpuUsage(u0);
      r.client = r.generatorCpu ?? Math.round((u.user + u.system) / 1e4 / ((performance.now() - t0) / 1000));
      return r;
    },
    stop: () => ceiling.stop(),
  };
}

const median = (xs) => { const v = xs.filter(Number.isFinite).sort((a, b) => a - b); return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : NaN; };

const rand = (n) => Math.floor(Math.random() * n);
let nextNew = RECORDS + 1_000_000;

/** In the issue's order; `reads` run first so the writes do not change what the reads find (10 rows a device). */
function scenarios(opsUrl, restUrl) {
  const h = { Authorization: auth, 'Content-Type': 'application/json' };
  const reading = () => ({ device: `d${rand(DEVICES)}`, ts: Date.now(), temp: 20 + Math.random() * 10, humidity: Math.random() * 100 });
  return [
    { name: 'REST GET /Sensor/<id>', read: true, opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'GET', path: `/Sensor/${rand(RECORDS)}` }) }],
      lua: `  return wrk.format('GET', '/Sensor/' .. rand(${RECORDS}))` } },
    { name: 'REST PUT /Sensor/<new id>', opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'PUT', path: `/Sensor/${nextNew++}`, body: JSON.stringify(reading()) }) }],
      lua: "  return wrk.format('PUT', '/Sensor/' .. nextId(), nil, reading())" } },
    { name: 'REST POST /Sensor/', opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'POST', path: '/Sensor/', body: JSON.stringify(reading()) }) }],
      lua: "  return wrk.format('POST', '/Sensor/', nil, reading())" } },
    { name: 'ops insert x100', perRequest: 100, opts: { url: opsUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'POST', path: '/', body: JSON.stringify({ operation: 'insert', database: 'data', table: 'Sensor', records: Array.from({ length: 100 }, () => ({ id: String(nextNew++), ...reading() })) }) }) }], perRequest: 100,
      lua: `  local parts = {}
  for i = 1, 100 do parts[i] = string.sub(reading(), 1, -2) .. ',"id":"' .. nextId() .. '"}' end
  return wrk.format('POST', '/', nil, '{"operation":"insert","database":"data","table":"Sensor","records":[' .. table.concat(parts, ',') .. ']}')` } },
    { name: 'REST GET /Sensor/?device=', read: true, probe: async () => (await fetch(`${restUrl}Sensor/?device=d${rand(DEVICES)}`, { headers: h })).json(), opts: { url: restUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'GET', path: `/Sensor/?device=d${rand(DEVICES)}` }) }],
      lua: `  return wrk.format('GET', '/Sensor/?device=d' .. rand(${DEVICES}))` } },
    { name: 'ops search_by_value device', read: true, probe: () => op(opsUrl, { operation: 'search_by_value', database: 'data', table: 'Sensor', search_attribute: 'device', search_value: `d${rand(DEVICES)}`, get_attributes: ['*'] }), opts: { url: opsUrl, headers: h, requests: [{ setupRequest: (r) => ({ ...r, method: 'POST', path: '/', body: JSON.stringify({ operation: 'search_by_value', database: 'data', table: 'Sensor', search_attribute: 'device', search_value: `d${rand(DEVICES)}`, get_attributes: ['*'] }) }) }],
      lua: `  return wrk.format('POST', '/', nil, '{"operation":"search_by_value","database":"data","table":"Sensor","search_attribute":"device","search_value":"d' .. rand(${DEVICES}) .. '","get_attributes":["*"]}')` } },
    { name: 'ops SQL GROUP BY device', read: true, last: true, fixed: () => fixedQueries(opsUrl, { operation: 'sql', sql: 'SELECT device, COUNT(*) AS n, AVG(temp) AS t FROM data.Sensor GROUP BY device' }, 4, 2), opts: { url: opsUrl, headers: h, connections: Math.min(CONNECTIONS, 4), requests: [{ method: 'POST', path: '/', body: JSON.stringify({ operation: 'sql', sql: 'SELECT device, COUNT(*) AS n, AVG(temp) AS t FROM data.Sensor GROUP BY device' }) }],
      lua: `  return wrk.format('POST', '/', nil, ${luaString(JSON.stringify({ operation: 'sql', sql: 'SELECT device, COUNT(*) AS n, AVG(temp) AS t FROM data.Sensor GROUP BY device' }))})` } },
  ].filter((s) => !args.only || String(args.only).split(',').some((o) => s.name.toLowerCase().includes(o.toLowerCase())));
}

/**
 * A whole-table aggregate takes seconds: a fixed-time load would cut off the queries still running at its end (and
 * report none when each takes longer than the run). Instead: `rounds` rounds of `concurrency` queries at once, every
 * query timed to its answer; results in the shape run() returns.
 */
async function fixedQueries(opsUrl, body, concurrency, rounds) {
  const times = [];
  let errors = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      const q0 = performance.now();
      try { await op(opsUrl, body); times.push(performance.now() - q0); } catch { errors++; }
    }));
  }
  const secs = (performance.now() - t0) / 1000;
  const sorted = times.sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { requests: { average: times.length / secs }, latency: { p50: pct(0.5), p99: pct(0.99) }, errors, non2xx: 0, timeouts: 0 };
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

/** One request by hand before a scenario: a wrong answer (not just a slow one) fails the run instead of being timed. */
async function sanity(s) {
  const body = await s.probe();
  if (!Array.isArray(body) || body.length !== 10) throw new Error(`${s.name}: expected 10 rows, got ${JSON.stringify(body).slice(0, 200)}`);
}

function fmt(n, d = 0) { return Number.isFinite(n) ? n.toFixed(d) : '-'; }

async function main() {
  const loads = [`start ${loadavg()}`];
  let target;
  let weft;
  if (args.target) {
    const [opsUrl, restUrl] = [String(args.target).replace(/\/?$/, '/'), String(args._[0] ?? '').replace(/\/?$/, '/')];
    if (!args._[0]) throw new Error('usage: --target <ops-url> <rest-url> --user U --password P');
    target = { opsUrl, restUrl, startup: NaN, proc: null, stop: async () => {} };
    await setupTarget(opsUrl, restUrl);
  } else {
    weft = await startWeft();
    target = weft;
  }
  await new Promise((r) => setTimeout(r, 1000)); // let start-up work settle before the idle figure
  const idleRss = target.proc ? rssOf(target.proc.pid) : NaN;
  const loadMs = await load(target.opsUrl);
  loads.push(`loaded ${loadavg()}`);
  // profiling measures Weft alone (the ceiling would show as idle time in the workers' profiles)
  const meter = args.profile ? null : await ceilingMeter();
  const ceilings = [];
  const results = new Map();
  const rssSteps = [`after loading: ${target.proc ? rssParts(target.proc.pid) : '-'}`];
  const all = scenarios(target.opsUrl, target.restUrl);
  // Reads first (writes would change what they find), the long SQL aggregate last. The pause lets the previous
  // scenario's last requests finish before the next one opens its 50 connections.
  const order = [...all.filter((x) => x.read && !x.last), ...all.filter((x) => !x.read), ...all.filter((x) => x.last)];
  try {
    for (const s of order) {
      const runs = [];
      for (let rep = 0; rep < (s.last ? 1 : REPEAT); rep++) {
        // the whole-table aggregate answers a handful of requests: a ratio to C would mean nothing
        const c = meter && !s.last ? await meter.measure() : undefined;
        if (c) ceilings.push(c);
        await new Promise((r) => setTimeout(r, 1000));
        if (s.probe) await sanity(s);
        const cpu0 = target.proc ? threadCpu(target.proc.pid) : new Map();
        const t0 = performance.now();
        const u0 = process.cpuUsage();
        const r = s.fixed ? await s.fixed() : await run(s.opts);
        const secs = (performance.now() - t0) / 1000;
        const split = target.proc ? busiest(cpu0, threadCpu(target.proc.pid), secs) : '-';
        const u = process.cpuUsage(u0);
        const rps = r.requests.average * (s.perRequest ?? 1);
        runs.push({ r, rps, ratio: c ? rps / c.requests.average : NaN, split, client: r.generatorCpu ?? Math.round((u.user + u.system) / 1e4 / secs) });
      }
      results.set(s, runs);
      if (target.proc) rssSteps.push(`${s.name}: ${rssParts(target.proc.pid)}`);
    }
  } finally {
    await meter?.stop();
  }
  loads.push(`end ${loadavg()}`);
  const spread = (xs, d) => (xs.length > 1 ? ` (${fmt(Math.min(...xs), d)}-${fmt(Math.max(...xs), d)})` : '');
  const cRates = ceilings.map((c) => c.requests.average);
  const rows = [{
    name: `node:http ceiling C (median of ${cRates.length} measurements, each right before a scenario run)`, rps: median(cRates), rpsRange: spread(cRates, 0),
    p50: median(ceilings.map((c) => c.latency.p50)), p99: median(ceilings.map((c) => c.latency.p99)),
    errors: ceilings.reduce((n, c) => n + c.errors + c.non2xx, 0), ratio: 1, ratioRange: '', split: '-', client: ceilings[0]?.client,
  }];
  for (const s of all) {
    const runs = results.get(s);
    const ratios = runs.map((x) => x.ratio);
    rows.push({
      name: s.name, rps: median(runs.map((x) => x.rps)), rpsRange: spread(runs.map((x) => x.rps), 0),
      p50: median(runs.map((x) => x.r.latency.p50)), p99: median(runs.map((x) => x.r.latency.p99)),
      errors: runs.reduce((n, x) => n + x.r.errors + x.r.non2xx + x.r.timeouts, 0), ratio: median(ratios), ratioRange: spread(ratios, 2),
      unit: s.perRequest ? 'rec/s' : s.fixed ? 'queries/s' : 'req/s', split: runs.map((x) => x.split).join(' '), client: Math.round(median(runs.map((x) => x.client))),
    });
  }
  const loadedRss = target.proc ? rssOf(target.proc.pid) : NaN;
  await target.stop();
  let commit = '';
  try { commit = execSync('git rev-parse --short HEAD', { cwd: here }).toString().trim(); } catch { /* not a checkout */ }
  console.log(`\nWeft bench — ${new Date().toISOString()} — ${os.cpus().length} cores (${os.cpus()[0]?.model}), Node ${process.version}, commit ${commit}`);
  console.log(`${args.target ? `target ${target.opsUrl} ${target.restUrl}` : `${THREADS} workers`}, ${CONNECTIONS} connections, ${DURATION} s per run, ${REPEAT} run(s) per scenario (medians; ranges in brackets), load generator ${GENERATOR}, ${RECORDS} records loaded in ${fmt(loadMs / 1000, 1)} s`);
  console.log(`load average (1/5/15 min): ${loads.join('; ')}\n`);
  console.log('| scenario | throughput | p50 ms | p99 ms | errors | ratio to C | CPU of 2 busiest threads (% of a core) | load generator CPU |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.rps, r.rps < 10 ? 2 : 0)}${r.rpsRange} ${r.unit ?? 'req/s'} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} | ${fmt(r.ratio, 2)}${r.ratioRange} | ${r.split} | ${r.client === undefined ? '-' : r.client + '%'} |`);
  console.log(`\nidle RSS ${fmt(idleRss / 1048576)} MiB, RSS after load ${fmt(loadedRss / 1048576)} MiB, start-up to first successful request ${fmt(target.startup)} ms`);
  if (rssSteps.length > 1) console.log(`RSS in MiB after each step: ${rssSteps.join('; ')}`);
  if (weft) fs.rmSync(weft.root, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
