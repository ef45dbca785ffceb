/**
 * Resolving the configuration at start: file <- HARPER_DEFAULT_CONFIG <- env vars <- --FLAGS <- HARPER_SET_CONFIG.
 * Supplied values are persisted into the config file (old file backed up) as Harper does (spec §1.4, §1.5).
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import minimist from 'minimist';
import { DEFAULT_CONFIG, type WeftConfig } from './defaults.js';
import { castValue, deletePath, flatKeyToPath, flattenObject, getPath, setPath } from './flat.js';
import { weftError } from '../errors/index.js';

export const CONFIG_FILE_NAME = 'weft-config.yaml';
const HARPER_CONFIG_FILE_NAME = 'harperdb-config.yaml';
const STATE_FILE = '.harper-config-state.json';

export interface ConfigSources {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: Readonly<WeftConfig>;
  rootPath: string;
  configFile: string;
  /** True when this start created the root (first install). */
  created: boolean;
}

export function parseFlags(argv: string[]): Record<string, unknown> {
  const parsed = minimist(argv, { string: ['_'] });
  const flags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) if (k !== '_') flags[k] = v;
  return flags;
}

function pick(name: string, flags: Record<string, unknown>, env: NodeJS.ProcessEnv): string | undefined {
  for (const [k, v] of Object.entries(flags)) if (k.toUpperCase() === name && v !== undefined) return String(v);
  return env[name];
}

export function resolveRootPath(sources: ConfigSources = {}): string {
  const env = sources.env ?? process.env;
  const flags = parseFlags(sources.argv ?? []);
  const raw = pick('ROOTPATH', flags, env) ?? pick('HDB_ROOT', flags, env) ?? path.join(os.homedir(), 'weft');
  const resolved = path.resolve(raw.replace(/^~(?=$|\/)/, os.homedir()));
  return resolved.length > 1 ? resolved.replace(/\/+$/, '') : resolved;
}

export function configFileFor(rootPath: string): string {
  const weft = path.join(rootPath, CONFIG_FILE_NAME);
  const harper = path.join(rootPath, HARPER_CONFIG_FILE_NAME);
  return !fs.existsSync(weft) && fs.existsSync(harper) ? harper : weft;
}

function withRoot(value: unknown, root: string): unknown {
  if (typeof value === 'string') return value.replace(/<root>/g, root);
  if (Array.isArray(value)) return value.map((v) => withRoot(v, root));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withRoot(v, root);
    return out;
  }
  return value;
}

function deepMerge(base: any, over: any): any {
  if (over === undefined) return base;
  if (!over || typeof over !== 'object' || Array.isArray(over) || !base || typeof base !== 'object' || Array.isArray(base)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj);
    for (const v of Object.values(obj)) deepFreeze(v);
  }
  return obj;
}

/** Default worker count (spec §1.9), computed at every start. */
export function defaultThreadCount(): number {
  let n = os.cpus().length - 1;
  if (n <= 2) n = 2;
  let availMB = os.totalmem() / 1048576;
  try {
    const limit = Number(fs.readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim());
    if (Number.isFinite(limit)) availMB = Math.min(availMB, limit / 1048576);
  } catch { /* no cgroup v2 limit */ }
  return Math.max(1, Math.min(n, Math.round((availMB - 750) / 300)));
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'notify'];

function isPort(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 65535;
  if (typeof v === 'string') return /^(\d+|.+:\d+)$/.test(v.trim());
  return false;
}

/** Validate a raw config object; throws CONFIG_VALIDATION with the first problem found. */
export function validateConfig(raw: Record<string, any>): void {
  const problems: string[] = [];
  for (const p of ['http.port', 'http.securePort', 'operationsApi.network.port', 'operationsApi.network.securePort',
    'mqtt.network.port', 'mqtt.network.securePort', 'replication.port', 'replication.securePort']) {
    if (!isPort(getPath(raw, p))) problems.push(`'${p}' must be a port number or host:port`);
  }
  const count = getPath(raw, 'threads.count') ?? (typeof raw.threads === 'number' ? raw.threads : undefined);
  if (count !== undefined && count !== null && !(Number.isInteger(count) && (count as number) >= 0 && (count as number) <= 256)) {
    problems.push("'threads.count' must be an integer from 0 to 256");
  }
  const poolSize = getPath(raw, 'jobs.poolSize');
  if (poolSize !== undefined && poolSize !== null && !(Number.isInteger(poolSize) && (poolSize as number) >= 1 && (poolSize as number) <= 256)) {
    problems.push("'jobs.poolSize' must be an integer from 1 to 256");
  }
  const threshold = getPath(raw, 'sql.parallelThreshold');
  if (threshold !== undefined && threshold !== null && !(Number.isInteger(threshold) && (threshold as number) >= 0)) {
    problems.push("'sql.parallelThreshold' must be a non-negative integer");
  }
  const level = getPath(raw, 'logging.level');
  if (level !== undefined && !LEVELS.includes(String(level))) problems.push(`'logging.level' must be one of ${LEVELS.join(', ')}`);
  for (const p of ['authentication.authorizeLocal', 'authentication.enableSessions', 'logging.auditLog', 'storage.writeAsync']) {
    const v = getPath(raw, p);
    if (v !== undefined && typeof v !== 'boolean') problems.push(`'${p}' must be a boolean`);
  }
  if (problems.length) throw weftError('CONFIG_VALIDATION', problems.join('. '));
}

function readYaml(file: string): Record<string, any> {
  const text = fs.readFileSync(file, 'utf8');
  const parsed = YAML.parse(text) ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw weftError('CONFIG_VALIDATION', `${file} must hold a YAML mapping`);
  return parsed;
}

/** Write the config file, backing up the previous one under <root>/backup/. */
export function writeConfigFile(rootPath: string, file: string, raw: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (fs.existsSync(file)) {
    const backupDir = path.join(rootPath, 'backup');
    fs.mkdirSync(backupDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/:/g, '-');
    fs.copyFileSync(file, path.join(backupDir, `${stamp}-${path.basename(file)}.bak`));
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, YAML.stringify(raw));
  fs.renameSync(tmp, file);
}

function parseJsonEnv(name: string, env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const text = env[name];
  if (!text) return undefined;
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw weftError('CONFIG_VALIDATION', `${name} is not valid JSON: ${(e as Error).message}`); }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw weftError('CONFIG_VALIDATION', `${name} must be a JSON object`);
  return v as Record<string, unknown>;
}

interface ConfigState {
  version: '1.0';
  sources: Record<string, string>;
  originalValues: Record<string, unknown>;
  applied: Record<string, unknown>;
  snapshots: { HARPER_SET_CONFIG?: { hash: string; config: Record<string, unknown> } };
}

function stateFileOf(rootPath: string): string {
  return path.join(rootPath, 'backup', STATE_FILE);
}

function readState(rootPath: string): ConfigState {
  const state: ConfigState = { version: '1.0', sources: {}, originalValues: {}, applied: {}, snapshots: {} };
  try { return { ...state, ...JSON.parse(fs.readFileSync(stateFileOf(rootPath), 'utf8')) }; } catch { return state; /* first use */ }
}

/** Saved only after the new config validated and was written, so a refused start leaves no half-applied state. */
function writeState(rootPath: string, state: ConfigState, before: string): void {
  const text = JSON.stringify(state, null, 2);
  if (text === before) return;
  fs.mkdirSync(path.dirname(stateFileOf(rootPath)), { recursive: true });
  fs.writeFileSync(stateFileOf(rootPath), text);
}

/**
 * HARPER_DEFAULT_CONFIG: sets keys the user has not edited; a manual edit ("drift") is kept; a key removed from the
 * variable gets back the value it replaced. The state file remembers what was set and what it replaced.
 */
function applyDefaultConfig(raw: Record<string, any>, state: ConfigState, value: Record<string, unknown> | undefined): void {
  if (!value && !Object.keys(state.applied).length) return;
  const wanted = new Map(value ? flattenObject(value) : []);
  for (const [p, applied] of Object.entries(state.applied)) {
    if (wanted.has(p)) continue;
    if (JSON.stringify(getPath(raw, p)) === JSON.stringify(applied)) {
      const orig = state.originalValues[p];
      if (orig === undefined) deletePath(raw, p); else setPath(raw, p, orig);
    }
    delete state.applied[p]; delete state.originalValues[p]; delete state.sources[p];
  }
  for (const [p, v] of wanted) {
    const current = getPath(raw, p);
    if (p in state.applied) {
      if (JSON.stringify(current) !== JSON.stringify(state.applied[p])) { state.sources[p] = 'user'; continue; }
    } else {
      state.originalValues[p] = current;
    }
    setPath(raw, p, v);
    state.applied[p] = v;
    state.sources[p] = 'HARPER_DEFAULT_CONFIG';
  }
}

/** HARPER_SET_CONFIG: a key it set before and no longer holds is deleted from the file (spec §1.5: no restore). */
function dropRemovedSetConfig(raw: Record<string, any>, state: ConfigState, value: Record<string, unknown> | undefined): void {
  const before = state.snapshots.HARPER_SET_CONFIG?.config;
  const now = new Set(value ? flattenObject(value).map(([p]) => p) : []);
  if (before) {
    for (const [p] of flattenObject(before)) {
      if (now.has(p)) continue;
      deletePath(raw, p);
      delete state.sources[p];
    }
  }
  if (value) {
    state.snapshots.HARPER_SET_CONFIG = { hash: createHash('sha256').update(JSON.stringify(value)).digest('hex'), config: value };
    for (const p of now) state.sources[p] = 'HARPER_SET_CONFIG';
  } else {
    delete state.snapshots.HARPER_SET_CONFIG;
  }
}

/** Turn a raw (file-shaped) config into the frozen runtime config. */
export function resolveConfig(raw: Record<string, any>, rootPath: string): Readonly<WeftConfig> {
  const normalized = { ...raw };
  if (typeof normalized.threads === 'number') normalized.threads = { count: normalized.threads };
  const merged = withRoot(deepMerge(DEFAULT_CONFIG, normalized), rootPath) as any;
  merged.rootPath = rootPath;
  if (merged.threads.count === undefined || merged.threads.count === null) {
    merged.threads.count = process.env.DEV_MODE ? 1 : defaultThreadCount();
  }
  if (process.env.DEV_MODE) merged.authentication.authorizeLocal = true;
  return deepFreeze(merged as WeftConfig);
}

export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? process.env;
  const argv = sources.argv ?? [];
  const rootPath = resolveRootPath({ argv, env });
  const configFile = configFileFor(rootPath);
  const created = !fs.existsSync(configFile);
  const fileRaw: Record<string, any> = created ? (withRoot(structuredClone(DEFAULT_CONFIG), rootPath) as any) : readYaml(configFile);
  const raw: Record<string, any> = structuredClone(fileRaw);
  if (typeof raw.threads === 'number') raw.threads = { count: raw.threads };

  fs.mkdirSync(rootPath, { recursive: true });
  const state = readState(rootPath);
  const stateBefore = JSON.stringify(state, null, 2);
  const defaultConfig = parseJsonEnv('HARPER_DEFAULT_CONFIG', env);
  const setConfig = parseJsonEnv('HARPER_SET_CONFIG', env);
  applyDefaultConfig(raw, state, defaultConfig);
  dropRemovedSetConfig(raw, state, setConfig);

  const overrides = new Map<string, unknown>();
  for (const [name, value] of Object.entries(env)) {
    const p = flatKeyToPath(name);
    if (p && p !== 'rootPath' && value !== undefined) overrides.set(p, castValue(p, value));
  }
  for (const [name, value] of Object.entries(parseFlags(argv))) {
    const p = flatKeyToPath(name);
    if (p && p !== 'rootPath') overrides.set(p, castValue(p, value));
  }
  for (const [p, v] of overrides) applySetting(raw, p, v);

  if (setConfig) for (const [p, v] of flattenObject(setConfig)) applySetting(raw, p, v);

  validateConfig(raw);
  if (created || JSON.stringify(raw) !== JSON.stringify(fileRaw)) writeConfigFile(rootPath, configFile, raw);
  writeState(rootPath, state, stateBefore);
  return { config: resolveConfig(raw, rootPath), rootPath, configFile, created };
}

/** Apply one dotted setting with Harper's side rules (a secure port equal to the plain port disables the plain one). */
export function applySetting(raw: Record<string, any>, p: string, v: unknown): void {
  setPath(raw, p, v);
  for (const base of ['http', 'operationsApi.network']) {
    if (p === `${base}.securePort` && v != null && String(getPath(raw, `${base}.port`)) === String(v)) setPath(raw, `${base}.port`, null);
  }
}

/** set_configuration: flat keys in any case; unknown keys are ignored (spec §2.13). Returns the keys applied. */
export function setConfiguration(rootPath: string, configFile: string, settings: Record<string, unknown>): string[] {
  const raw = fs.existsSync(configFile) ? readYaml(configFile) : (withRoot(structuredClone(DEFAULT_CONFIG), rootPath) as any);
  const applied: string[] = [];
  for (const [k, v] of Object.entries(settings)) {
    if (k === 'operation') continue;
    const p = flatKeyToPath(k);
    if (!p) continue;
    applySetting(raw, p, castValue(p, v));
    applied.push(p);
  }
  validateConfig(raw);
  writeConfigFile(rootPath, configFile, raw);
  return applied;
}

/** The config file as a nested object, for get_configuration (secrets are never stored in it). */
export function readConfigFile(configFile: string): Record<string, unknown> {
  return readYaml(configFile);
}
