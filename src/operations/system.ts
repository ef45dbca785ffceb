/** system_information, get/set_configuration, restart, restart_service (spec §2.13). */
import os from 'node:os';
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { weftError } from '../errors/index.js';
import { readConfigFile, setConfiguration } from '../config/index.js';
import type { Handler, ServerServices } from './types.js';

function distro(): string {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? os.type();
  } catch { return os.type(); }
}

function tableSizes(services: ServerServices): unknown[] {
  const out: unknown[] = [];
  for (const dbName of services.storage.databaseNames()) {
    const db = services.storage.database(dbName);
    if (!db) continue;
    for (const name of db.tableNames()) {
      const t = db.table(name)!;
      out.push({ schema: dbName, table: name, table_size: t.sizeBytes(), record_count: t.recordCount(), transaction_log_size: db.auditSizeBytes() });
    }
  }
  return out;
}

export const systemInformation: Handler = async (req, _ctx, services) => {
  const mem = process.memoryUsage();
  const cpus = os.cpus();
  const all: Record<string, () => unknown> = {
    system: () => ({
      platform: os.platform(), distro: distro(), release: os.release(), hostname: os.hostname(), arch: os.arch(),
      node_version: process.versions.node, npm_version: undefined, weft_version: services.version, hdb_version: services.version,
    }),
    time: () => ({
      current: Date.now(), uptime: os.uptime(), timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      timezoneName: Intl.DateTimeFormat().resolvedOptions().timeZone, server_uptime: (Date.now() - services.startedAt) / 1000,
    }),
    cpu: () => ({
      manufacturer: '', brand: cpus[0]?.model ?? '', cores: cpus.length, physicalCores: cpus.length, speed: cpus[0]?.speed ?? 0,
      current_load: { avgLoad: os.loadavg()[0] },
    }),
    memory: () => ({
      total: os.totalmem(), free: os.freemem(), used: os.totalmem() - os.freemem(), active: os.totalmem() - os.freemem(),
      available: os.freemem(), rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external,
    }),
    disk: () => ({}),
    network: () => ({}),
    harperdb_processes: () => ({ core: [{ pid: process.pid, name: 'weft', ppid: process.ppid }], clustering: [] }),
    table_size: () => tableSizes(services),
    metrics: () => ({}),
    threads: () => services.cluster.threadInfo(),
    replication: () => ({}),
  };
  let wanted = Object.keys(all);
  if (req.attributes !== undefined) {
    if (!Array.isArray(req.attributes)) throw weftError('FIELD_TYPE', 'attributes', 'an array');
    wanted = (req.attributes as unknown[]).map((a) => (a === 'database_metrics' ? 'metrics' : String(a))).filter((a) => a in all);
  }
  const out: Record<string, unknown> = {};
  for (const k of wanted) out[k] = await all[k]!();
  return out;
};

export const getConfiguration: Handler = (_req, _ctx, services) => readConfigFile(services.configFile);

export const setConfigurationOp: Handler = (req, _ctx, services) => {
  setConfiguration(services.rootPath, services.configFile, req);
  return { message: 'Configuration successfully set. You must restart HarperDB for new config settings to take effect.' };
};

export const restart: Handler = (_req, _ctx, services) => {
  // The response goes out first; the supervisor restarts once it has been written (see the HTTP layer).
  setTimeout(() => services.cluster.restartProcess(), 50);
  return { message: 'Restarting HarperDB. This may take up to 60 seconds.' };
};

const SERVICES = new Set(['http_workers', 'http', 'harperdb', 'custom_functions', 'custom functions', 'clustering_config', 'clustering']);

export const restartService: Handler = (req, _ctx, services) => {
  const service = req.service;
  if (typeof service !== 'string' || !SERVICES.has(service)) throw weftError('INVALID_SERVICE');
  const jobId = randomUUID();
  if (service === 'harperdb') setTimeout(() => services.cluster.restartProcess(), 50);
  else if (service !== 'clustering' && service !== 'clustering_config') setTimeout(() => void services.cluster.restartWorkers(), 50);
  return { message: `Restarting ${service}`, job_id: jobId };
};
