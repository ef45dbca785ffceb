/**
 * Caching tables (spec §5.4, §4.4, §9 item 19): `Table.sourcedFrom(Source, {expiration, timeout})` makes a table a
 * cache of a source resource. A get on a missing or stale record calls the source's get; concurrent misses for one
 * key share one call, and so does a failure, which is remembered for a short while (negative caching) so a failing
 * origin is not hammered. The call has a timeout. Request Cache-Control directives: max-age (expiry of the new
 * entry), only-if-cached (never contact the origin; 504 when absent), no-cache (reload), no-store (do not store the
 * result), stale-if-error (serve the stale entry when the origin fails).
 *
 * When each entry was fetched and when it expires is storage's per-record expiry metadata (Table.recordMeta),
 * written in the same transaction as the record, so every thread agrees on freshness; the sweep of expiration.ts
 * removes entries `eviction` seconds after they expire. The source may set `context.lastModified` (the stored
 * entry's version, hence its ETag) and `context.expiresAt`; it sees `context.replacingRecord`,
 * `context.replacingVersion` (the stale entry) and `context.requestContext` (the original request).
 *
 * Stampede protection across worker threads: within a thread, waiters share the loading promise (`inflight`);
 * across the threads of the process, the loader holds lmdb-js's process-wide record lock on the entry's key in
 * `__cache_outcome__` (`attemptLock`/`unlock`). A thread that does not get the lock registers a callback that fires
 * when the lock is released, then reads what the winner left: the stored entry, or an outcome marker in
 * `__cache_outcome__` (the shared failure, or "not found"). lmdb-js releases the locks of a thread whose
 * environment is torn down (a crashed worker), which wakes the waiters and one of them takes over; a waiter that
 * is never woken gives up after the source timeout plus a margin and breaks the lock.
 *
 * Also here: stale-while-revalidate (`allowStaleWhileRevalidate` on the source), write-through of put/patch/
 * delete/publish to the source's methods of the same name, and active caching from a source's `subscribe()`,
 * consumed on the one thread that holds the table's subscription lock (taken over when that thread dies).
 */
import type { Database as LmdbDbi } from 'lmdb';
import { fromWire, WeftError, weftError, type WireError } from '../errors/index.js';
import { clearReloadsStale, copyWithKey, expiryMs, setReloadsStale, type Key, type LmdbStorage, type Rec, type RecordMeta, type Table, type WriteTxn } from '../storage/index.js';
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
const outcomeStores = new WeakMap<object, LmdbDbi<Outcome, [string, Key]>>();

/**
 * What the last load of a key ended with when it stored no entry: a failure (`error`, remembered until `until`) or
 * "not found" (no `error`). `at` lets a waiter tell an outcome of the load it waited for from an older one.
 */
interface Outcome { at: number; until?: number; error?: SharedError }
type SharedError = { weft: WireError } | { name: string; message: string; statusCode?: number };

/** lmdb-js record-lock "versions" (part of the lock key), one per kind of lock on `__cache_outcome__` keys. */
const LOAD_LOCK = 0;
const SUBSCRIBE_LOCK = 1;
/** The lmdb-js lock API, which its type declarations do not list. */
interface Lockable {
  attemptLock(key: unknown, version: number, onRelease: () => void): boolean;
  unlock(key: unknown, version: number, onlyCheck?: boolean): boolean;
}
const lockable = (dbi: unknown) => dbi as Lockable;

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
  stopSubscriptions();
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
function outcomeStore(storage: LmdbStorage, table: Table): LmdbDbi<Outcome, [string, Key]> {
  const db = storage.database(table.def.database);
  if (!db) throw weftError('DATABASE_NOT_FOUND', table.def.database);
  let o = outcomeStores.get(db);
  if (!o) {
    o = db.env.openDB<Outcome, [string, Key]>({ name: '__cache_outcome__', encoding: 'msgpack' });
    outcomeStores.set(db, o);
  }
  return o;
}

/** An error as plain data, so a waiter on another thread can throw the same status and message. */
function shareError(err: unknown): SharedError {
  if (err instanceof WeftError) return { weft: err.toWire() };
  const e = err instanceof Error ? err : new Error(String(err));
  const status = (e as { statusCode?: unknown }).statusCode;
  return { name: e.constructor?.name || 'Error', message: e.message, ...(typeof status === 'number' ? { statusCode: status } : {}) };
}

function unshareError(s: SharedError): Error {
  if ('weft' in s) return fromWire(s.weft);
  // the REST error body names the error's class (`Error: ...`), so the rebuilt error keeps the class name
  const named = { [s.name]: class extends Error {} }[s.name]!;
  const e = new named(s.message);
  if (s.statusCode !== undefined) (e as Error & { statusCode?: number }).statusCode = s.statusCode;
  return e;
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
  const outcomes = outcomeStore(storage, table);
  const failed = d.noCache ? undefined : outcomes.get([table.name, id]);
  const remembered = failed?.error && (failed.until ?? 0) > now ? failed.error : undefined;
  // stale-while-revalidate: answer with the stale entry now, refresh once in the background
  if (entry !== undefined && !d.noCache && !d.noStore && await allowsStale(cfg, entry.value, m, id, requestContext)) {
    if (!remembered) startLoad(key, false, () => loadShared(storage, table, cfg, id, d, entry, requestContext, username, now)).catch(() => {});
    return { record: stored, miss: false, age, version };
  }
  let load: Promise<Loaded | undefined>;
  if (remembered) load = Promise.reject(unshareError(remembered));
  else if (d.noStore) {
    // a no-store load stores nothing another thread could read, so it only shares within this thread
    load = startLoad(key, true, () => loadFromSource(storage, table, cfg, id, d, entry, requestContext, username));
  } else {
    load = startLoad(key, false, () => loadShared(storage, table, cfg, id, d, entry, requestContext, username, now));
  }
  try {
    const loaded = await load;
    return { record: loaded?.record, miss: true, version: loaded?.version };
  } catch (err) {
    if (d.staleIfError && stored !== undefined) return { record: stored, miss: true, age, version };
    throw err;
  }
}

/** The load of `key` this thread already runs, or a new one. */
function startLoad(key: string, noStore: boolean, run: () => Promise<Loaded | undefined>): Promise<Loaded | undefined> {
  // a no-store request must not share (or publish) a load that others will store, and vice versa
  const flightKey = noStore ? `${key}\0nostore` : key;
  let p = inflight.get(flightKey);
  if (!p) {
    p = run();
    inflight.set(flightKey, p);
    const done = () => { if (inflight.get(flightKey) === p) inflight.delete(flightKey); };
    p.then(done, done);
  }
  return p;
}

/** Ask the source whether a stale entry may be served while it is refreshed (spec §5.4). */
async function allowsStale(cfg: CacheConfig, stored: Rec, m: RecordMeta | undefined, id: Key, requestContext: unknown): Promise<boolean> {
  const src = cfg.source;
  const entry = { value: stored, id, fetched: m?.written, expiresAt: m?.expiresAt };
  try {
    if (typeof src === 'function' && typeof src.prototype?.allowStaleWhileRevalidate === 'function') {
      return Boolean(await new src(id, { requestContext }).allowStaleWhileRevalidate(entry, id));
    }
    if (typeof src?.allowStaleWhileRevalidate === 'function') return Boolean(await src.allowStaleWhileRevalidate(entry, id));
  } catch {
    // a throwing predicate means "no": the entry is reloaded as without it
  }
  return false;
}

/**
 * One load per process: the thread holding the entry's lock calls the source; the others wait for the lock to be
 * released and read what it left. Entries and outcomes written after `since` (when this request looked) are the
 * answer of a load this request waited for.
 */
async function loadShared(
  storage: LmdbStorage, table: Table, cfg: CacheConfig, id: Key, d: Directives, stale: { value: Rec; version?: number } | undefined,
  requestContext: unknown, username: string | undefined, since: number,
): Promise<Loaded | undefined> {
  const lockKey: [string, Key] = [table.name, id];
  const outcomes = outcomeStore(storage, table);
  const db = storage.database(table.def.database)!;
  const settled = (): { loaded: Loaded | undefined } | undefined => {
    // the load this request waited for committed on another thread just before it released the lock: read past
    // this thread's snapshot, which may predate that commit (else the record looks missing and the source is
    // called a second time)
    db.refreshReads();
    const m = table.recordMeta(id);
    if (m && m.written >= since) {
      const e = table.getEntry(id);
      if (e !== undefined) return { loaded: { record: e.value, version: e.version } };
    }
    const o = outcomes.get(lockKey);
    if (o && o.at >= since) {
      if (o.error) throw unshareError(o.error);
      return { loaded: undefined };
    }
    return undefined;
  };
  const patience = (cfg.options.timeout ?? 30_000) + 5_000;
  for (;;) {
    let wake!: () => void;
    const released = new Promise<void>((resolve) => { wake = resolve; });
    if (lockable(outcomes).attemptLock(lockKey, LOAD_LOCK, () => wake())) {
      try {
        // a load on another thread may have finished between this request's look and taking the lock
        const done = settled();
        if (done) return done.loaded;
        try {
          const loaded = await loadFromSource(storage, table, cfg, id, d, stale, requestContext, username);
          if (loaded === undefined) await outcomes.put(lockKey, { at: Date.now() });
          else if (outcomes.get(lockKey)) await outcomes.remove(lockKey);
          return loaded;
        } catch (error) {
          const at = Date.now();
          await outcomes.put(lockKey, { at, until: at + (cfg.options.negativeTtl ?? 1000), error: shareError(error) }).catch(() => {});
          throw error;
        }
      } finally {
        lockable(outcomes).unlock(lockKey, LOAD_LOCK);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const wokeUp = await Promise.race([released.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), patience); })]);
    clearTimeout(timer);
    const done = settled();
    if (done) return done.loaded;
    // never woken: the holder is gone without its lock being released; break the lock and load
    if (!wokeUp) lockable(outcomes).unlock(lockKey, LOAD_LOCK);
  }
}

interface Loaded { record: Rec; version?: number }

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
  const record = copyWithKey(raw as Rec, table.primaryKey, id);
  const version = expiryMs(context.lastModified);
  if (d.noStore) return { record, version };
  const seconds = d.maxAge ?? cfg.options.expiration ?? table.def.expiration;
  const { txnTime } = await db.transact((txn) => {
    const t = txn.table(table.name) ?? table;
    const expiresAt = expiryMs(context.expiresAt) ?? (seconds !== undefined ? txn.time + seconds * 1000 : undefined);
    txn.put(t, id, record, 'put', undefined, { expiresAt, version });
  }, username);
  return { record, version: version ?? txnTime };
}

/** Mark an entry stale: the next get reloads it from the source. */
export async function invalidate(storage: LmdbStorage, table: Table, id: Key): Promise<void> {
  const db = storage.database(table.def.database)!;
  await db.transact((txn) => { txn.invalidate(txn.table(table.name) ?? table, id); });
}

// ---- write-through (spec §5.4) ----

export type WriteMethod = 'put' | 'patch' | 'delete' | 'publish';

/** True when `table` is a cache whose source has a `method` to pass writes to. */
export function writesThrough(table: Table, method: WriteMethod): boolean {
  const src = configs.get(tableKey(table.def.database, table.name))?.source;
  if (!src) return false;
  if (typeof src === 'function') return typeof src.prototype?.[method] === 'function' || typeof src[method] === 'function';
  return typeof src[method] === 'function';
}

/**
 * Pass a write to the source's method of the same name before the cache table is written: a throw from the source
 * (or its timeout) aborts the write with the source's error. Same calling conventions as the source's get.
 */
export async function writeThrough(table: Table, method: WriteMethod, id: Key, data: unknown, context: unknown): Promise<void> {
  const cfg = configs.get(tableKey(table.def.database, table.name));
  if (!cfg) return;
  const src = cfg.source;
  const call = () => {
    if (typeof src === 'function' && typeof src.prototype?.[method] === 'function') {
      const target = Object.assign(new RequestTarget(`/${String(id)}`, '', String(id)), { id });
      const inst = new src(id, context);
      if (src.loadAsInstance === false) return method === 'delete' ? inst.delete(target) : inst[method](target, data);
      return method === 'delete' ? inst.delete(target) : inst[method](data, target);
    }
    return method === 'delete' ? src.delete(id, context) : src[method](id, data, context);
  };
  await withTimeout(Promise.resolve().then(call), cfg.options.timeout ?? 30_000);
}

/**
 * Called inside the storage transaction that wrote record `id` of a caching table (after the write): a written
 * record is the newest value, fresh for the source's expiration (which may differ from the table's).
 */
export function noteCacheWrite(txn: WriteTxn, table: Table, id: Key, deleted: boolean): void {
  const cfg = configs.get(tableKey(table.def.database, table.name));
  if (!cfg || deleted) return;
  const seconds = cfg.options.expiration ?? table.def.expiration;
  txn.setExpiry(table, id, seconds === undefined ? undefined : txn.time + seconds * 1000);
}

// ---- active caching: the source's subscribe() (spec §5.4) ----

interface SourceEvent { type?: string; id?: Key; value?: unknown; timestamp?: number; writes?: SourceEvent[] }

const subscriptions = new Set<() => void>();

function stopSubscriptions(): void {
  for (const stop of subscriptions) stop();
  subscriptions.clear();
}

function subscribable(src: any): boolean {
  return typeof src === 'function' ? typeof src.prototype?.subscribe === 'function' || typeof src.subscribe === 'function' : typeof src?.subscribe === 'function';
}

/** One event applied to the cache table; events that change nothing stored here ('message') are skipped. */
function applyEvent(storage: LmdbStorage, txn: WriteTxn, table: Table, e: SourceEvent): void {
  if (!e || typeof e !== 'object' || e.id === undefined || e.id === null) return;
  const t = txn.table(table.name) ?? table;
  switch (e.type) {
    case 'put': {
      if (!e.value || typeof e.value !== 'object' || Array.isArray(e.value)) return;
      const record = copyWithKey(e.value as Rec, t.primaryKey, e.id);
      txn.put(t, e.id, record, 'put');
      noteCacheWrite(txn, t, e.id, false);
      return;
    }
    case 'delete':
      txn.remove(t, e.id);
      return;
    case 'invalidate':
      if (t.get(e.id) !== undefined) txn.invalidate(t, e.id);
      return;
  }
}

/**
 * Consume the source's `subscribe()` events into the cache table on one thread of the process: the thread that
 * holds the table's subscription lock. The others wait on the lock; lmdb-js releases it when the holding thread's
 * environment is torn down (crash or exit), and the first waiter to retake it subscribes anew. When the event
 * stream ends or fails, the lock is released and taken again (by any thread) a second later.
 */
export function startSubscription(storage: LmdbStorage, table: Table): void {
  const cfg = configs.get(tableKey(table.def.database, table.name));
  if (!cfg || !subscribable(cfg.source)) return;
  const db = storage.database(table.def.database);
  if (!db) return;
  const locks = outcomeStore(storage, table);
  // the subscription lock has its own lock "version", so an id '' of the table never shares it
  const lockKey: [string, Key] = [table.name, ''];
  let stopped = false;
  let owned = false;
  let iterator: AsyncIterator<SourceEvent> | undefined;
  let retry: NodeJS.Timeout | undefined;
  const release = () => {
    if (!owned) return;
    owned = false;
    try { lockable(locks).unlock(lockKey, SUBSCRIBE_LOCK); } catch { /* the environment is already closed */ }
  };
  const consume = async () => {
    const src = cfg.source;
    const iterable = typeof src === 'function' && typeof src.prototype?.subscribe === 'function'
      ? await new src(null, {}).subscribe({})
      : await src.subscribe({});
    if (!iterable || typeof iterable[Symbol.asyncIterator] !== 'function') return;
    iterator = iterable[Symbol.asyncIterator]() as AsyncIterator<SourceEvent>;
    while (!stopped) {
      const next = await iterator.next();
      if (next.done || stopped) break;
      const e = next.value;
      const events = e?.type === 'transaction' && Array.isArray(e.writes) ? e.writes : [e];
      await db.transact((txn) => { for (const one of events) applyEvent(storage, txn, table, one); });
    }
  };
  const take = () => {
    if (stopped) return;
    try {
      if (!lockable(locks).attemptLock(lockKey, SUBSCRIBE_LOCK, take)) return;
    } catch {
      return; // the environment is closing
    }
    owned = true;
    consume().catch(() => { /* a failing source stream is resubscribed below */ }).finally(() => {
      release();
      if (!stopped) { retry = setTimeout(take, 1000); retry.unref(); }
    });
  };
  const stop = () => {
    stopped = true;
    clearTimeout(retry);
    const it = iterator;
    iterator = undefined;
    Promise.resolve().then(() => it?.return?.()).catch(() => {});
    release();
  };
  subscriptions.add(stop);
  setImmediate(take);
}
