/**
 * Expiration of plain tables (spec §3.8): a table with `@table(expiration: N)` that is not a cache hides records
 * written more than N seconds ago from REST reads and the Resource API, and a periodic sweep deletes them. The
 * sweep runs every (expiration + eviction) / 4 seconds (at least every 250 ms) in every serving thread; each
 * thread re-checks inside its write transaction, so concurrent sweeps delete each record once. Caching tables
 * (sourcedFrom) keep their own freshness rules (caching.ts) and are left alone.
 */
import type { Key, LmdbStorage, Rec, Table } from '../storage/index.js';
import { isCaching } from './caching.js';

/** True when a read should not see this record. */
export function expired(table: Table, rec: Rec): boolean {
  return !!table.def.expiration && !isCaching(table) && table.isExpired(rec);
}

/** A search filter hiding expired records, or undefined when the table does not expire. */
export function freshFilter(table: Table): ((rec: Rec) => boolean) | undefined {
  if (!table.def.expiration || isCaching(table)) return undefined;
  const now = Date.now();
  return (rec) => !table.isExpired(rec, now);
}

const timers: NodeJS.Timeout[] = [];

async function sweep(storage: LmdbStorage, database: string, tableName: string): Promise<void> {
  const db = storage.database(database);
  const table = db?.table(tableName);
  if (!db || !table?.def.expiration || !table.written || isCaching(table)) return;
  const now = Date.now();
  const ids: Key[] = [];
  const unstamped: Key[] = [];
  for (const rec of table.scan()) {
    const id = rec[table.primaryKey] as Key;
    if (table.isExpired(rec, now)) ids.push(id);
    else if (table.written.get([table.name, id]) === undefined) unstamped.push(id);
  }
  if (!ids.length && !unstamped.length) return;
  await db.transact((txn) => {
    const t = txn.table(tableName) ?? table;
    for (const id of ids) {
      const rec = txn.get(t, id);
      if (rec && t.isExpired(rec, now)) txn.remove(t, id);
    }
    // records stored before the table had an expiration start their clock now
    for (const id of unstamped) if (t.written && t.written.get([t.name, id]) === undefined) t.written.put([t.name, id], now);
  });
}

/** (Re)start the sweeps for the applications' tables of this thread. */
export function startExpirationSweeps(storage: LmdbStorage, refs: { database: string; table: string }[]): void {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const ref of refs) {
    const table = storage.database(ref.database)?.table(ref.table);
    const def = table?.def as ({ expiration?: number; eviction?: number } | undefined);
    if (!def?.expiration) continue;
    const everyMs = Math.max(250, ((def.expiration + (def.eviction ?? 0)) * 1000) / 4);
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      // a sweep failing (e.g. storage closing during shutdown) must never take the thread down
      sweep(storage, ref.database, ref.table).catch(() => {}).finally(() => { running = false; });
    }, everyMs);
    timer.unref();
    timers.push(timer);
  }
}
