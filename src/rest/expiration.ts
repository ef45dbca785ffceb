/**
 * Expiration sweeps (spec §3.8). Records of an expiring table (`@table(expiration, eviction, scanInterval)`, an
 * @expiresAt attribute, or a caching table with an expiration) go stale at their expiry and are removed once
 * `eviction` seconds have passed after it. Stale records on plain tables are hidden by storage's reads
 * (Table.isStale, search); caching tables reload them (caching.ts).
 *
 * Every serving thread sweeps every scanInterval seconds (default (expiration + eviction) / 4), aligned to
 * multiples of the interval since the epoch so the threads' sweeps coincide rather than spread out. A sweep reads
 * only the due entries of the table's expiry index; each record is re-checked inside the write transaction, so
 * concurrent sweeps remove it once (Database.sweepExpired).
 */
import type { LmdbStorage, Table } from '../storage/index.js';

export interface SweepPlan { everyMs: number; evictionMs: number }

/** Expiration settings given to `sourcedFrom(source, {expiration, eviction, scanInterval})`, by `db.table`. */
const sourceSettings = new Map<string, { expiration?: number; eviction?: number; scanInterval?: number }>();

let current: { storage: LmdbStorage; refs: { database: string; table: string }[] } | undefined;
const timers = new Map<string, NodeJS.Timeout>();

const MIN_INTERVAL_MS = 100;
/** Sweep interval of a table whose records expire only by @expiresAt (nothing to take a quarter of). */
const DEFAULT_INTERVAL_S = 60;

/** When to sweep a table, or undefined when its records never expire on their own. */
export function sweepPlan(table: Table): SweepPlan | undefined {
  const src = sourceSettings.get(`${table.def.database}.${table.name}`);
  const expiration = src?.expiration ?? table.def.expiration;
  const eviction = src?.eviction ?? table.def.eviction ?? 0;
  const scan = src?.scanInterval ?? table.def.scanInterval;
  // a cache without a declared expiration keeps stale entries (stale-if-error serves them) until reloaded
  if (!expiration && table.expiresAtAttribute === undefined && scan === undefined) return undefined;
  const seconds = scan ?? (expiration || eviction ? ((expiration ?? 0) + eviction) / 4 : DEFAULT_INTERVAL_S);
  return { everyMs: Math.max(MIN_INTERVAL_MS, seconds * 1000), evictionMs: eviction * 1000 };
}

function schedule(storage: LmdbStorage, database: string, tableName: string): void {
  const key = `${database}.${tableName}`;
  const old = timers.get(key);
  if (old) clearTimeout(old);
  timers.delete(key);
  const table = storage.database(database)?.table(tableName);
  const plan = table && sweepPlan(table);
  if (!plan) return;
  const tick = () => {
    const now = Date.now();
    const next = (Math.floor(now / plan.everyMs) + 1) * plan.everyMs;
    const timer = setTimeout(() => {
      const db = storage.database(database);
      // a sweep failing (e.g. storage closing during shutdown) must never take the thread down
      Promise.resolve(db?.sweepExpired(tableName, Date.now() - plan.evictionMs)).catch(() => {}).finally(() => {
        if (timers.get(key) === timer) tick();
      });
    }, next - now);
    timer.unref();
    timers.set(key, timer);
  };
  tick();
}

/** (Re)start the sweeps for the applications' tables of this thread. */
export function startExpirationSweeps(storage: LmdbStorage, refs: { database: string; table: string }[]): void {
  for (const t of timers.values()) clearTimeout(t);
  timers.clear();
  sourceSettings.clear();
  current = { storage, refs };
  for (const ref of refs) schedule(storage, ref.database, ref.table);
}

/** A table became a cache (sourcedFrom) with these settings: its sweep follows them. */
export function setSourceExpiration(database: string, table: string, settings: { expiration?: number; eviction?: number; scanInterval?: number }): void {
  sourceSettings.set(`${database}.${table}`, settings);
  if (current) schedule(current.storage, database, table);
}
