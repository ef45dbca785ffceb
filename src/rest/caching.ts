/**
 * Caching tables (spec §5.4, §4.4, §9 item 19): `Table.sourcedFrom(Source, {expiration, timeout})` makes a table a
 * cache of a source resource. A get on a missing or stale record calls the source's get; concurrent misses for one
 * key share one call (per thread), and so does a failure, which is remembered for a short while (negative
 * caching) so a failing origin is not hammered. The call has a timeout. Request Cache-Control directives:
 * max-age (expiry of the new entry), only-if-cached (never contact the origin; 504 when absent), no-cache
 * (reload), no-store (do not store the result), stale-if-error (serve the stale entry when the origin fails).
 *
 * When each entry was fetched and when it expires is storage's per-record expiry metadata (Table.recordMeta),
 * written in the same transaction as the record, so every thread agrees on freshness; the sweep of expiration.ts
 * removes entries `eviction` seconds after they expire. The source may set `context.lastModified` (the stored
 * entry's version, hence its ETag) and `context.expiresAt`; it sees `context.replacingRecord`,
 * `context.replacingVersion` (the stale entry) and `context.requestContext` (the original request).
 */
import { weftError } from '../errors/index.js';
import { clearReloadsStale, setReloadsStale, type Key, type LmdbStorage, type Rec, type Table } from '../storage/index.js';
import { RequestTarget, type ResourceContext } from './resource.js';
import { setSourceExpiration } from './expiration.js';

export interface CacheOptions {
  /** Seconds an entry stays fresh (default: the table's @table(expiration); none = fresh until invalidated). */
  expiration?: number;
  /** Milliseconds a source call may take (default 30 000). */
  timeout?: number;
  /** Milliseconds a failed source call is remembered for the same key (default 1000). */
  negativeTtl?: number;
  /** Seconds after expiry an entry is removed (spec §3.8). */
  eviction?: number;
  /** Seconds between removal sweeps (default (expiration + eviction) / 4). */
  scanInterval?: number;
}

interface CacheConfig { source: any; options: CacheOptions }

export interface Directives {
  maxAge?: number;
  onlyIfCached: boolean;
  noCache: boolean;
  noStore: boolean;
  staleIfError: boolean;
}

export interface CachedResult {
  record: Rec | undefined;
  /** True when the source was called for this request (Server-Timing `miss`). */
  miss: boolean;
  /** Seconds since the entry was fetched, on hits. */
  age?: number;
  /** The record's version (its ETag), when known. */
  version?: number;
}

const configs = new Map<string, CacheConfig>();
const inflight = new Map<string, Promise<Loaded | undefined>>();
const failures = new Map<string, { error: unknown; until: number }>();

const tableKey = (database: string, table: string) => `${database}.${table}`;

export function setSource(database: string, table: string, source: unknown, options: CacheOptions = {}): void {
  if (!source || (typeof source !== 'function' && typeof (source as any).get !== 'function')) {
    throw new TypeError('sourcedFrom needs a resource class or an object with a get method');
  }
  configs.set(tableKey(database, table), { source, options });
  setReloadsStale(database, table, true);
  setSourceExpiration(database, table, { expiration: options.expiration, eviction: options.eviction, scanInterval: options.scanInterval });
}

/** Forget every source (a thread reloading its applications). */
export function clearSources(): void {
  configs.clear();
  clearReloadsStale();
  inflight.clear();
  failures.clear();
}

export function isCaching(table: Table): boolean {
  return configs.has(tableKey(table.def.database, table.name));
}

const MAX_CACHE_CONTROL = 1024;

export function parseCacheControl(header: string | string[] | undefined): Directives {
  const d: Directives = { onlyIfCached: false, noCache: false, noStore: false, staleIfError: false };
  const text = Array.isArray(header) ? header.join(',') : header ?? '';
  if (text.length > MAX_CACHE_CONTROL) throw weftError('VALIDATION', `Cache-Control header is longer than ${MAX_CACHE_CONTROL} characters`);
  for (const part of text.split(',')) {
    const [name, value] = part.trim().toLowerCase().split('=', 2) as [string, string | undefined];
    switch (name) {
      case 'max-age': {
        const n = Number(value);
        if (value && /^\d+$/.test(value) && Number.isSafeInteger(n)) d.maxAge = n;
        break;
      }
      case 'only-if-cached': d.onlyIfCached = true; break;
      case 'no-cache': case 'must-revalidate': d.noCache = true; break;
      case 'no-store': d.noStore = true; break;
      case 'stale-if-error': d.staleIfError = true; break;
    }
  }
  return d;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(weftError('CACHE_ORIGIN_TIMEOUT', ms)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

async function callSource(cfg: CacheConfig, id: Key, context: Partial<ResourceContext> & Record<string, unknown>): Promise<unknown> {
  const src = cfg.source;
  if (typeof src === 'function') {
    const target = new RequestTarget(`/${String(id)}`, '', String(id));
    if (src.loadAsInstance === false) {
      const inst = new src(id, context);
      return inst.get(Object.assign(target, { id }));
    }
    if (typeof src.prototype?.get === 'function') return new src(id, context).get(target);
    return src.get(id, context);
  }
  return src.get(id, context);
}

/**
 * The record for `id` from a caching table: the stored entry while fresh, else the source's answer (stored
 * unless no-store). Throws 504 `Entry is not cached` for only-if-cached misses, the source's error (or a timeout)
 * when it fails and no stale entry may be served.
 */
export async function cachedGet(storage: LmdbStorage, table: Table, id: Key, d: Directives, requestContext?: unknown, username?: string): Promise<CachedResult> {
  const database = table.def.database;
  const cfg = configs.get(tableKey(database, table.name))!;
  const now = Date.now();
  const entry = table.getEntry(id);
  const stored = entry?.value;
  const version = entry?.version;
  const m = stored ? table.recordMeta(id) : undefined;
  const fresh = stored !== undefined && (!m || m.expiresAt === undefined || now < m.expiresAt);
  const age = m ? Math.max(0, Math.floor((now - m.written) / 1000)) : undefined;
  if (fresh && !d.noCache) return { record: stored, miss: false, age, version };
  if (d.onlyIfCached) {
    if (stored !== undefined) return { record: stored, miss: false, age, version };
    throw weftError('CACHE_NOT_CACHED');
  }
  const key = `${tableKey(database, table.name)}\0${typeof id === 'object' ? JSON.stringify(id) : String(id)}`;
  const failed = failures.get(key);
  let load: Promise<Loaded | undefined>;
  if (failed && failed.until > now && !d.noCache) load = Promise.reject(failed.error);
  else {
    // a no-store request must not share (or publish) a load that others will store, and vice versa
    const flightKey = d.noStore ? `${key}\0nostore` : key;
    let p = inflight.get(flightKey);
    if (!p) {
      p = loadFromSource(storage, table, cfg, id, d, entry, requestContext, username);
      inflight.set(flightKey, p);
      const done = () => { if (inflight.get(flightKey) === p) inflight.delete(flightKey); };
      p.then(done, (error) => {
        done();
        failures.set(key, { error, until: Date.now() + (cfg.options.negativeTtl ?? 1000) });
      });
    }
    load = p;
  }
  try {
    const loaded = await load;
    return { record: loaded?.record, miss: true, version: loaded?.version };
  } catch (err) {
    if (d.staleIfError && stored !== undefined) return { record: stored, miss: true, age, version };
    throw err;
  }
}

interface Loaded { record: Rec; version?: number }

/** A time the source set on its context (epoch ms, a Date or a date string). */
function contextTime(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : undefined;
  if (typeof v === 'string' && v) { const t = Date.parse(v); return Number.isFinite(t) ? t : undefined; }
  return undefined;
}

async function loadFromSource(
  storage: LmdbStorage, table: Table, cfg: CacheConfig, id: Key, d: Directives, stale: { value: Rec; version?: number } | undefined,
  requestContext: unknown, username: string | undefined,
): Promise<Loaded | undefined> {
  const context: Record<string, unknown> = { requestContext, replacingRecord: stale?.value, replacingVersion: stale?.version };
  const raw = await withTimeout(Promise.resolve().then(() => callSource(cfg, id, context)), cfg.options.timeout ?? 30_000);
  const db = storage.database(table.def.database)!;
  if (raw === undefined || raw === null) {
    if (!d.noStore && stale !== undefined) {
      await db.transact((txn) => { txn.remove(txn.table(table.name) ?? table, id); }, username);
    }
    return undefined;
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw weftError('CACHE_ORIGIN_NOT_RECORD');
  const record: Rec = { ...(raw as Rec), [table.primaryKey]: id };
  const version = contextTime(context.lastModified);
  if (d.noStore) return { record, version };
  const seconds = d.maxAge ?? cfg.options.expiration ?? table.def.expiration;
  const { txnTime } = await db.transact((txn) => {
    const t = txn.table(table.name) ?? table;
    const expiresAt = contextTime(context.expiresAt) ?? (seconds !== undefined ? txn.time + seconds * 1000 : undefined);
    txn.put(t, id, record, 'put', undefined, { expiresAt, version });
  }, username);
  return { record, version: version ?? txnTime };
}

/** Mark an entry stale: the next get reloads it from the source. */
export async function invalidate(storage: LmdbStorage, table: Table, id: Key): Promise<void> {
  const db = storage.database(table.def.database)!;
  await db.transact((txn) => { txn.invalidate(txn.table(table.name) ?? table, id); });
}
