/**
 * cli: the `weft` command (spec §1.2). Commands run the server (run, dev, start, stop, restart, status, install) or
 * send one Operations API request to the local server over its unix socket (`weft describe_all`, ...).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { callLocal } from './local-client.js';
import { ensureCertificates } from '../server/index.js';
import { loadConfig, resolveRootPath, configFileFor } from '../config/index.js';
import { Supervisor } from '../threads/index.js';
import { OPERATIONS } from '../operations/index.js';
import { LmdbStorage } from '../storage/index.js';
import { ensureSystemDatabase, type HashFunction } from '../auth/index.js';
import minimist from 'minimist';
import { loadFile } from './load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '../../bin/weft.js');
export const VERSION: string = JSON.parse(fs.readFileSync(path.resolve(here, '../../package.json'), 'utf8')).version;

const CLI_OPERATIONS = new Set<string>([...OPERATIONS, 'deploy', 'package', 'describe_schema', 'create_schema', 'drop_schema', 'search_by_hash']);

const USAGE = `Usage: weft [command] [--CONFIG_KEY=value ...]

Commands:
  run [dir]        run in the foreground (dir: a root path holding weft-config.yaml, or an application folder
                   with schema.graphql / config.yaml / resources.js, served over REST on the HTTP port)
  dev [dir]        like run, with one worker thread and local requests authorised as super user
  start            start in the background (pid file in the root)
  stop             stop the background server
  restart          restart the running server
  status           print whether the server runs
  install          create the root (config, system database, admin user) and exit
  version          print the version
  load <file.csv|file.json> --database D --table T [--action insert|update|upsert]
                   stream a file into the running local server, with a progress bar on stderr
  <operation> key=value ...   send one Operations API request to the local server, print the answer
                              (json=true prints JSON instead of YAML)

Configuration: ROOTPATH (default ~/weft), HDB_ADMIN_USERNAME / HDB_ADMIN_PASSWORD on first start, any flattened
config key as an env var or --FLAG (HTTP_PORT, OPERATIONSAPI_NETWORK_PORT, THREADS_COUNT, LOGGING_LEVEL, ...).`;

function out(line: string): void {
  process.stdout.write(line + '\n');
}

function readPid(root: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(root, 'hdb.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch { return undefined; }
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

async function runForeground(argv: string[], dev: boolean): Promise<void> {
  const args = argv.filter((a) => a !== 'run' && a !== 'dev');
  const dir = args.find((a) => !a.startsWith('-') && !args[args.indexOf(a) - 1]?.match(/^--[^=]+$/));
  const env = { ...process.env };
  const applications: string[] = [];
  // config loading reads DEV_MODE from process.env (one thread, authorizeLocal)
  if (dev) { env.DEV_MODE = 'true'; process.env.DEV_MODE = 'true'; }
  if (dir) {
    const abs = path.resolve(dir);
    if (!fs.existsSync(abs)) { console.error(`The folder ${dir} does not exist`); process.exit(1); }
    if (!fs.statSync(abs).isDirectory()) { console.error(`The path ${dir} is not a folder`); process.exit(1); }
    if (fs.existsSync(path.join(abs, 'weft-config.yaml')) || fs.existsSync(path.join(abs, 'harperdb-config.yaml'))) {
      env.ROOTPATH = abs;
    } else {
      applications.push(abs); // an application folder (spec §5.2); the root comes from ROOTPATH or the default
    }
  }
  const root = resolveRootPath({ argv: args, env });
  const pid = readPid(root);
  if (pid && pid !== process.pid && alive(pid)) {
    console.error(`Error: HarperDB is already running (pid: ${pid})`);
    process.exit(4);
  }
  out('Starting Weft...');
  const supervisor = new Supervisor({ argv: args, env, version: VERSION, print: out, onExit: (code) => process.exit(code), applications });
  let shuttingDown = false;
  const stop = () => {
    if (shuttingDown) return;
    shuttingDown = true;
    void supervisor.shutdown(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGQUIT', stop);
  try {
    await supervisor.start();
  } catch (err) {
    console.error(`Weft failed to start: ${(err as Error).message}`);
    await supervisor.shutdown(1).catch(() => process.exit(1));
    return;
  }
  const { config, rootPath } = supervisor.loaded;
  const ports = supervisor.ports.map((p) => `${p.name}: ${p.host && p.host !== '::' && p.host !== '0.0.0.0' ? p.host + ':' : ''}${p.port}`).join(', ');
  out(`${'Root Path:'.padEnd(20)}${rootPath}`);
  out(`${'Worker Threads:'.padEnd(20)}${config.threads.count}`);
  out(`${'Listening:'.padEnd(20)}${ports}`);
  out(`Weft ${VERSION} successfully started`);
  if (dev) for (const app of applications) watchApplication(app, supervisor);
}

/** `weft dev <app>`: a change to the application's files restarts the workers (rolling), debounced. */
function watchApplication(dir: string, supervisor: Supervisor): void {
  let timer: NodeJS.Timeout | undefined;
  try {
    fs.watch(dir, { recursive: true }, (_event, name) => {
      const file = String(name ?? '');
      if (file.split(/[\\/]/).some((p) => p === 'node_modules' || p.startsWith('.'))) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        out(`${file} changed, reloading the application`);
        void supervisor.restartWorkers().catch((err) => console.error(`Reload failed: ${(err as Error).message}`));
      }, 200);
    });
  } catch (err) {
    console.error(`Watching ${dir} for changes failed: ${(err as Error).message}`);
  }
}

async function startBackground(argv: string[]): Promise<void> {
  const args = argv.filter((a) => a !== 'start');
  const root = resolveRootPath({ argv: args });
  const pid = readPid(root);
  if (alive(pid)) { console.error(`Error: HarperDB is already running (pid: ${pid})`); process.exit(4); }
  fs.mkdirSync(path.join(root, 'log'), { recursive: true });
  const logFile = path.join(root, 'log', 'stdout.log');
  fs.writeFileSync(logFile, '');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [BIN, 'run', ...args], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ROOTPATH: root } });
  child.unref();
  fs.closeSync(fd);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const text = fs.readFileSync(logFile, 'utf8');
    const line = text.split('\n').find((l) => l.includes('successfully started'));
    if (line) {
      for (const l of text.split('\n')) if (l.startsWith('Created super user') || l.startsWith('This password')) out(l);
      out(line);
      process.exit(0);
    }
    if (child.exitCode !== null || !alive(child.pid)) { process.stderr.write(text); process.exit(1); }
  }
  console.error('Timed out waiting for Weft to start; see ' + logFile);
  process.exit(1);
}

async function stop(argv: string[]): Promise<void> {
  const root = resolveRootPath({ argv });
  const pid = readPid(root);
  out('Stopping HarperDB.');
  if (!alive(pid)) return;
  process.kill(pid!, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid!, 'SIGKILL');
}

function status(argv: string[]): void {
  const root = resolveRootPath({ argv });
  const installed = fs.existsSync(configFileFor(root));
  const pid = readPid(root);
  const state = !installed ? 'not installed' : alive(pid) ? 'running' : 'stopped';
  out(YAML.stringify({ harperdb: { status: state, ...(state === 'running' ? { pid } : {}) }, replication: [] }).trimEnd());
}

export { callLocal };

async function operation(argv: string[]): Promise<void> {
  const body: Record<string, unknown> = {};
  let json = false;
  const flagArgs: string[] = [];
  for (const a of argv) {
    if (a.startsWith('--')) { flagArgs.push(a); continue; }
    const eq = a.indexOf('=');
    if (eq < 0) { body.operation = a; continue; }
    const k = a.slice(0, eq), raw = a.slice(eq + 1);
    let v: unknown = raw;
    try { v = JSON.parse(raw); } catch { /* keep string */ }
    if (k === 'json') { json = v === true; continue; }
    body[k] = v;
  }
  const root = resolveRootPath({ argv: flagArgs });
  const pid = readPid(root);
  if (!alive(pid)) { console.error('HarperDB must be running to perform this operation'); process.exit(1); }
  let socketPath = path.join(root, 'operations-server');
  try { socketPath = loadConfigSilently(root) ?? socketPath; } catch { /* default */ }
  if (!fs.existsSync(socketPath)) { console.error('No domain socket found, unable to perform this operation'); process.exit(1); }
  const res = await callLocal(socketPath, body);
  out(json ? JSON.stringify(res.body, null, 2) : YAML.stringify(res.body).trimEnd());
  if (res.status >= 400) process.exitCode = 1;
}

function loadConfigSilently(root: string): string | undefined {
  const file = configFileFor(root);
  if (!fs.existsSync(file)) return undefined;
  const raw = YAML.parse(fs.readFileSync(file, 'utf8')) ?? {};
  return raw?.operationsApi?.network?.domainSocket ?? undefined;
}

async function install(argv: string[]): Promise<void> {
  const root = resolveRootPath({ argv });
  if (fs.existsSync(configFileFor(root))) { out('It appears that HarperDB is already installed. Exiting install...'); return; }
  out('Starting HarperDB install...');
  const { config } = loadConfig({ argv });
  const storage = new LmdbStorage({ path: config.storage.path });
  const flags = argv.reduce<Record<string, string>>((acc, a) => { const m = /^--([^=]+)=(.*)$/.exec(a); if (m) acc[m[1]!.toUpperCase()] = m[2]!; return acc; }, {});
  const res = await ensureSystemDatabase(storage, {
    username: flags.HDB_ADMIN_USERNAME ?? process.env.HDB_ADMIN_USERNAME, password: flags.HDB_ADMIN_PASSWORD ?? process.env.HDB_ADMIN_PASSWORD,
    hashFunction: config.authentication.hashFunction as HashFunction, version: VERSION,
  });
  await storage.close();
  // spec §1.3: the self-signed CA and certificate are made at install, so secure ports work out of the box
  ensureCertificates(root, config.node.hostname);
  if (res.generatedPassword) out(`Created super user '${res.adminUser}' with password: ${res.generatedPassword}`);
  out('HarperDB installation was successful.');
}

async function load(argv: string[]): Promise<void> {
  const args = minimist(argv, { string: ['database', 'schema', 'table', 'action', '_'] });
  const file = args._.find((a) => a !== 'load');
  const database = args.database ?? args.schema ?? 'data';
  const action = (args.action ?? 'insert') as 'insert' | 'update' | 'upsert';
  if (!file || !args.table) { console.error('Usage: weft load <file.csv|file.json> --database D --table T [--action insert|update|upsert]'); process.exit(1); }
  if (!['insert', 'update', 'upsert'].includes(action)) { console.error('Action is required and must be either insert, update, or upsert'); process.exit(1); }
  if (!fs.existsSync(file)) { console.error(`No such file or directory ${file}`); process.exit(1); }
  const root = resolveRootPath({ argv: argv.filter((a) => /^--[A-Z_]+=/.test(a)) });
  if (!alive(readPid(root))) { console.error('HarperDB must be running to perform this operation'); process.exit(1); }
  let socketPath = path.join(root, 'operations-server');
  try { socketPath = loadConfigSilently(root) ?? socketPath; } catch { /* default */ }
  if (!fs.existsSync(socketPath)) { console.error('No domain socket found, unable to perform this operation'); process.exit(1); }
  try {
    const s = await loadFile({ file, database, table: String(args.table), action, socketPath });
    const verb = action === 'insert' ? 'inserted' : action === 'update' ? 'updated' : 'upserted';
    out(`${verb} ${s.written} of ${s.total} records into ${database}.${args.table} (${s.skipped} skipped, ${s.rejectedCount} rejected)`);
    for (const r of s.rejected.slice(0, 20)) out(`  line ${r.line}: ${r.error}`);
    if (s.rejectedCount) process.exitCode = 1;
  } catch (err) {
    console.error(`\nload failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

export async function main(argv: string[]): Promise<void> {
  const first = argv.find((a) => !a.startsWith('-'));
  const command = first?.toLowerCase();
  if (command === 'load') return load(argv);
  // `weft restart` alone is the restart command (spec §1.2 table), which also covers a server that is not running;
  // with key=value pairs it is the operation.
  const restartCommand = command === 'restart' && !argv.some((a) => !a.startsWith('-') && a.includes('='));
  if (!restartCommand && argv.some((a) => CLI_OPERATIONS.has(a))) return operation(argv);
  switch (command) {
    case undefined: return runForeground(argv, false);
    case 'run': return runForeground(argv, false);
    case 'dev': return runForeground(argv, true);
    case 'start': return startBackground(argv);
    case 'stop': return stop(argv.filter((a) => a !== first));
    case 'restart': {
      const args = argv.filter((a) => a !== first);
      const root = resolveRootPath({ argv: args });
      if (alive(readPid(root))) {
        out('Restarting Harper...');
        return operation([...args, 'restart']);
      }
      out('Starting Harper...');
      return startBackground(args);
    }
    case 'status': return status(argv.filter((a) => a !== first));
    case 'install': return install(argv.filter((a) => a !== first));
    case 'version': out(VERSION); return;
    case 'help': out(USAGE); return;
    default:
      out(`The "${first}" command is not understood.`);
      out(USAGE);
      process.exitCode = 1;
  }
}
