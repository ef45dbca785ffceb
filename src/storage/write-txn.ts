/**
 * One write transaction of one database. Everything done through it commits atomically or not at all, and keeps
 * secondary indexes and the audit log in step with the records. Two ways to run (Database.transact picks):
 *
 * - locked: inside an LMDB (child) write transaction; reads see the latest data, writes apply at once. Needed for
 *   schema changes. Costs a JS callback while the process-wide write lock is held.
 * - optimistic: outside any write transaction. Reads come from the current snapshot (plus this transaction's own
 *   writes) and every record read is remembered with its version; writes are queued. At commit the queued writes go
 *   to lmdb-js's native writer inside nested `ifVersion` conditions, one per record read, so they apply all
 *   together only if no record read changed meanwhile (else the caller retries). No JavaScript runs under the write
 *   lock, so the worker threads do not wait on each other's event loops.
 */
import { randomUUID, randomInt } from 'node:crypto';
import type { Database as LmdbDbi } from 'lmdb';
import type { Database } from './database.js';
import { expiryMs, type Table } from './table.js';
import { indexKeys } from './index-keys.js';
import { CREATED_TIME, UPDATED_TIME, type AttributeDef, type Key, type Rec, type TableDef, type WriteKind } from './types.js';

/** What a write may say about the record beyond its content (spec §3.8, §5.4). */
export interface PutOptions {
  /** Expiry (epoch ms) of this record, overriding the @expiresAt attribute and the table's expiration. */
  expiresAt?: number;
  /** The record's version when it is not this transaction's time (a cache entry carrying its origin's). */
  version?: number;
}

const ID_BLOCK = 4_194_304;
const ID_SPACE = 2 ** 49;
/**
 * Records an optimistic transaction may read. Each one is a version condition at commit, and lmdb-js expresses
 * conditions as nested callbacks, so a bulk insert of ~15,000 records overflowed the stack (a 500 for a valid
 * request). Past this the transaction runs locked, which for a batch this size is also the cheaper commit.
 */
const MAX_OPTIMISTIC_READS = 1000;

/** Thrown by an optimistic transaction for work that needs the write lock; Database.transact reruns it locked. */
export class NeedsLock extends Error {
  constructor(what: string) { super(`${what} needs the write lock`); }
}

/** Changes one audit row holds at most (a row of 256 five-field records is ~23 KB). */
const AUDIT_ROW_MAX = 256;

/** Consecutive changes of one kind to one table in one transaction, as stored in the audit log. */
export interface AuditRow { table: string; operation: WriteKind; user: string | undefined; ids: Key[]; records: (Rec | undefined)[] }
/** An audit log value: one change, or a row of several (older files hold only the first form). */
export type StoredAuditRow = AuditRow | { table: string; operation: WriteKind; user: string | undefined; id: Key; record: Rec | undefined };

/** A Map key for a primary key (arrays compare by content). */
const mapKey = (id: Key): unknown => (Array.isArray(id) ? `\u0000${JSON.stringify(id)}` : id);

interface ReadNote { table: Table; id: Key; version: number | null }

export class WriteTxn {
  readonly time: number;
  readonly user: string | undefined;
  private seq = 0;
  schemaChanged = false;
  /** Optimistic mode only: queued writes, the records read (with versions), this transaction's own records. */
  private readonly queued: (() => void)[] | undefined;
  private readonly reads = new Map<Table, Map<unknown, ReadNote>>();
  private readCount = 0;
  private readonly own = new Map<Table, Map<unknown, Rec | null>>();
  private auditRow: AuditRow | undefined;

  constructor(private readonly db: Database, time: number, user?: string, optimistic = false) {
    this.time = time;
    this.user = user;
    this.queued = optimistic ? [] : undefined;
  }

  /** True when an optimistic transaction queued anything to write. */
  get hasWrites(): boolean {
    return !!this.queued?.length;
  }

  table(name: string): Table | undefined {
    return this.db.table(name);
  }

  get(table: Table, id: Key): Rec | undefined {
    if (!this.queued) return table.primary.get(id);
    const k = mapKey(id);
    const mine = this.own.get(table)?.get(k);
    if (mine !== undefined) return mine ?? undefined;
    const entry = table.primary.getEntry(id) as { value: Rec; version?: number } | undefined;
    this.noteRead(table, k, id, entry ? entry.version ?? 0 : null);
    return entry?.value;
  }

  private noteRead(table: Table, k: unknown, id: Key, version: number | null): void {
    let m = this.reads.get(table);
    if (!m) this.reads.set(table, (m = new Map()));
    if (m.has(k)) return;
    if (++this.readCount > MAX_OPTIMISTIC_READS) throw new NeedsLock(`reading more than ${MAX_OPTIMISTIC_READS} records`);
    m.set(k, { table, id, version });
  }

  /** Make sure a record written without a prior txn.get is still checked at commit. */
  private ensureRead(table: Table, id: Key, k: unknown, previous: Rec | null | undefined): void {
    if (this.reads.get(table)?.has(k) || this.own.get(table)?.has(k)) return;
    if (previous === null) { this.noteRead(table, k, id, null); return; }
    const entry = table.primary.getEntry(id) as { version?: number } | undefined;
    this.noteRead(table, k, id, entry ? entry.version ?? 0 : null);
  }

  private remember(table: Table, k: unknown, rec: Rec | null): void {
    let m = this.own.get(table);
    if (!m) this.own.set(table, (m = new Map()));
    m.set(k, rec);
  }

  /** Run now (locked) or at commit (optimistic). Every LMDB write of a transaction goes through here. */
  private write(f: () => void): void {
    if (this.queued) this.queued.push(f);
    else f();
  }

  /** Write a full record (the caller has merged it). Returns the record as stored. */
  put(table: Table, id: Key, record: Rec, kind: WriteKind, previous?: Rec | null, opts?: PutOptions): Rec {
    let prev: Rec | undefined;
    if (this.queued) {
      // expiry metadata is read and rewritten beside the record; keep that simple by taking the lock
      if (table.expiring) throw new NeedsLock('a write to an expiring table');
      const k = mapKey(id);
      this.ensureRead(table, id, k, previous);
      prev = previous === undefined ? this.get(table, id) : previous ?? undefined;
      this.remember(table, k, record);
    } else {
      prev = previous === undefined ? table.primary.get(id) : previous ?? undefined;
    }
    const version = opts?.version ?? this.time;
    this.write(() => {
      table.primary.put(id, record, version);
      for (const [attr, dbi] of table.indexes) {
        const oldKeys = prev ? indexKeys(table.valueOf(prev, attr)) : [];
        const newKeys = indexKeys(table.valueOf(record, attr));
        for (const key of oldKeys) if (!newKeys.includes(key)) dbi.remove(key, id);
        for (const key of newKeys) if (!oldKeys.includes(key)) dbi.put(key, id);
      }
    });
    if (table.expiring) this.setExpiry(table, id, this.expiryFor(table, record, opts?.expiresAt));
    this.audit(table, kind, id, record);
    return record;
  }

  /** Expiry of a record written now: explicit, else its @expiresAt attribute, else the table's expiration. */
  private expiryFor(table: Table, record: Rec, explicit: number | undefined): number | undefined {
    if (explicit !== undefined) return explicit;
    const attr = table.expiresAtAttribute;
    const fromAttr = attr === undefined ? undefined : expiryMs(record[attr]);
    if (fromAttr !== undefined) return fromAttr;
    return table.def.expiration ? this.time + table.def.expiration * 1000 : undefined;
  }

  /**
   * Set (or clear, with undefined) when record `id` goes stale, keeping the expiry index in step. A cache entry
   * is invalidated with expiresAt 0.
   */
  setExpiry(table: Table, id: Key, expiresAt: number | undefined): void {
    this.locked('expiry metadata');
    const old = table.metaStore.get(id);
    if (old?.expiresAt !== undefined) table.expiryIndex.remove(old.expiresAt, id);
    table.metaStore.put(id, expiresAt === undefined ? { written: this.time } : { expiresAt, written: this.time });
    if (expiresAt !== undefined) table.expiryIndex.put(expiresAt, id);
  }

  /** Mark a record stale now, keeping when it was written (a cache invalidation). */
  invalidate(table: Table, id: Key): void {
    this.locked('expiry metadata');
    const old = table.metaStore.get(id);
    if (old?.expiresAt !== undefined) table.expiryIndex.remove(old.expiresAt, id);
    table.metaStore.put(id, { expiresAt: 0, written: old?.written ?? 0 });
    table.expiryIndex.put(0, id);
  }

  /**
   * Remove record `id` if its expiry is still `expiresAt` (a sweep's re-check inside the write lock: a record
   * rewritten since, or removed by another thread's sweep, is left alone). Returns true when it was removed.
   */
  evict(table: Table, id: Key, expiresAt: number): boolean {
    this.locked('an eviction');
    const meta = table.metaStore.get(id);
    if (meta?.expiresAt !== expiresAt) {
      // an index entry whose record moved on (or is gone) is dropped, so it is never read again
      table.expiryIndex.remove(expiresAt, id);
      return false;
    }
    if (this.remove(table, id)) return true;
    this.dropExpiry(table, id);
    return false;
  }

  private dropExpiry(table: Table, id: Key): void {
    const old = table.metaStore.get(id);
    if (old === undefined) return;
    if (old.expiresAt !== undefined) table.expiryIndex.remove(old.expiresAt, id);
    table.metaStore.remove(id);
  }

  /** Give every record of a table that just became expiring an expiry from its version (records lacking one). */
  backfillExpiry(table: Table): void {
    if (!table.def.expiration && table.expiresAtAttribute === undefined) return;
    for (const { key, value, version } of table.primary.getRange({ versions: true })) {
      if (typeof key === 'symbol' || table.metaStore.get(key) !== undefined) continue;
      const attr = table.expiresAtAttribute;
      const fromAttr = attr === undefined ? undefined : expiryMs(value[attr]);
      const base = version ?? this.time;
      const at = fromAttr ?? (table.def.expiration ? base + table.def.expiration * 1000 : undefined);
      if (at === undefined) continue;
      table.metaStore.put(key, { expiresAt: at, written: base });
      table.expiryIndex.put(at, key as Key);
    }
  }

  remove(table: Table, id: Key): boolean {
    const prev = this.get(table, id);
    if (prev === undefined) return false;
    if (this.queued) {
      if (table.expiring) throw new NeedsLock('a write to an expiring table');
      this.remember(table, mapKey(id), null);
    }
    this.write(() => {
      table.primary.remove(id);
      for (const [attr, dbi] of table.indexes) for (const k of indexKeys(table.valueOf(prev, attr))) dbi.remove(k, id);
    });
    if (table.expiring) this.dropExpiry(table, id);
    this.audit(table, 'delete', id, undefined);
    return true;
  }

  /**
   * Optimistic mode: hand the queued writes to lmdb-js's writer, nested inside one version condition per record
   * read, all in this event turn (so in one LMDB transaction). Resolves true once committed, false when a record
   * read had changed (nothing was written; the caller reruns the transaction).
   */
  commit(): Promise<boolean> {
    this.finishAudit();
    const queued = this.queued;
    if (!queued?.length) return Promise.resolve(true);
    const conditions: ReadNote[] = [];
    for (const m of this.reads.values()) for (const r of m.values()) conditions.push(r);
    const outcomes: Promise<boolean>[] = [];
    const apply = (): void => { for (const f of queued) f(); };
    if (!conditions.length) {
      outcomes.push(this.db.env.batch(apply) as Promise<boolean>);
    } else {
      const nest = (i: number): void => {
        if (i === conditions.length) { apply(); return; }
        const c = conditions[i]!;
        outcomes.push(c.table.primary.ifVersion(c.id, c.version as number, () => nest(i + 1)) as Promise<boolean>);
      };
      nest(0);
    }
    return Promise.all(outcomes).then((r) => r.every(Boolean));
  }

  /** Stamp __createdtime__/__updatedtime__ (or @createdTime/@updatedTime fields) with this transaction's time. */
  stampTimes(table: Table, record: Rec, prev: Rec | undefined): void {
    for (const a of table.def.attributes) {
      if (a.assigned_created_time) record[a.attribute] = prev?.[a.attribute] ?? this.time;
      if (a.assigned_updated_time) record[a.attribute] = this.time;
    }
  }

  /**
   * Audit a change. Consecutive changes of one kind to one table share an audit row (`ids`/`records`, at most
   * AUDIT_ROW_MAX): a batch of 100 inserts costs the log one write instead of 100 (the log was the largest part of
   * a bulk write). A row of one change keeps the single form. Database.auditEntries yields one entry per change.
   */
  private audit(table: Table, kind: WriteKind, id: Key, record: Rec | undefined): void {
    if (!table.def.audit) return;
    const row = this.auditRow;
    if (row && row.table === table.name && row.operation === kind && row.ids.length < AUDIT_ROW_MAX) {
      row.ids.push(id);
      row.records.push(record);
      return;
    }
    this.finishAudit();
    this.auditRow = { table: table.name, operation: kind, user: this.user, ids: [id], records: [record] };
  }

  /** Write the audit row being collected: at commit() (optimistic), or by Database.transact once `fn` returned (locked). */
  finishAudit(): void {
    const row = this.auditRow;
    if (!row) return;
    this.auditRow = undefined;
    const key: [number, number] = [this.time, this.seq++];
    const entry: StoredAuditRow = row.ids.length === 1
      ? { table: row.table, operation: row.operation, user: row.user, id: row.ids[0]!, record: row.records[0] }
      : row;
    this.write(() => { this.db.auditStore.put(key, entry); });
  }

  private locked(what: string): void {
    if (this.queued) throw new NeedsLock(what);
  }

  /** Add attributes to a dynamic table (indexed, spec §3.2). Returns the names that were new. */
  addAttributes(table: Table, names: Iterable<string>): string[] {
    const added: string[] = [];
    const def: TableDef = structuredClone(table.def);
    for (const name of names) {
      if (def.attributes.some((a) => a.attribute === name)) continue;
      def.attributes.push({ attribute: name, indexed: true, created: this.time });
      added.push(name);
    }
    if (added.length) this.saveTable(def);
    return added;
  }

  /** Persist a table definition (create or alter); the catalog version bump makes every thread reload it. */
  saveTable(def: TableDef): Table {
    this.locked('a schema change');
    // every table stored from now on is versioned; older ones were migrated when the database was opened
    def.versioned = true;
    const before = this.db.table(def.name);
    const wasExpiring = !!before && (!!before.def.expiration || before.expiresAtAttribute !== undefined) && before.def.created === def.created;
    this.db.catalogStore.put(['table', def.name], def);
    this.schemaChanged = true;
    const table = this.db.installTable(def);
    if (before && !wasExpiring && before.def.created === def.created) this.backfillExpiry(table);
    return table;
  }

  addAttribute(table: Table, attr: AttributeDef): Table {
    const def: TableDef = structuredClone(table.def);
    def.attributes.push({ ...attr, created: attr.created ?? this.time });
    const next = this.saveTable(def);
    const dbi = next.indexes.get(attr.attribute);
    if (dbi) for (const rec of next.scan()) {
      const id = rec[def.primaryKey] as Key;
      for (const k of indexKeys(next.valueOf(rec, attr.attribute))) dbi.put(k, id);
    }
    return next;
  }

  dropAttribute(table: Table, name: string): void {
    this.locked('a schema change');
    const dbi = table.indexes.get(name);
    if (dbi) dbi.clearSync();
    const def: TableDef = structuredClone(table.def);
    def.attributes = def.attributes.filter((a) => a.attribute !== name);
    if (!def.schemaDefined) {
      for (const rec of table.scan()) {
        if (!(name in rec)) continue;
        const copy = { ...rec };
        delete copy[name];
        const id = rec[def.primaryKey] as Key;
        table.primary.put(id, copy, table.versionOf(id) ?? this.time);
      }
    }
    this.saveTable(def);
  }

  dropTable(table: Table): void {
    this.locked('a schema change');
    table.primary.clearSync();
    for (const dbi of table.indexes.values()) dbi.clearSync();
    table.metaStore.clearSync();
    table.expiryIndex.clearSync();
    this.db.catalogStore.remove(['table', table.name]);
    this.db.catalogStore.remove(['ids', table.name]);
    this.schemaChanged = true;
  }

  /**
   * A new primary key: a UUID for string keys, else the next number of this node's random block (spec §3.4). The
   * block lives in memory shared by every thread of the process, so ids are increasing across threads and an
   * optimistic transaction takes one without the write lock; reserving a new block (first use after start, or
   * when one runs out) takes the lock.
   */
  newId(table: Table): Key {
    const pkAttr = table.attribute(table.primaryKey);
    const t = pkAttr?.type;
    if (t === 'String' || t === 'ID') return randomUUID();
    const block = table.idBlock();
    for (;;) {
      const n = Atomics.add(block, 0, 1n);
      if (n >= Atomics.load(block, 1)) break;
      const id = Number(n);
      if (this.get(table, id) === undefined) {
        if (this.queued) this.noteRead(table, mapKey(id), id, null);
        return id;
      }
    }
    this.locked('a new id block');
    const blockSize = t === 'Int' ? 1024 : ID_BLOCK;
    const space = t === 'Int' ? 2 ** 31 : ID_SPACE;
    let start = 0;
    for (;;) {
      start = randomInt(0, Math.floor((space - blockSize) / blockSize)) * blockSize;
      let taken = false;
      for (const _ of table.primary.getKeys({ start, end: start + blockSize, limit: 1 })) taken = true;
      if (!taken) break;
    }
    // the first id goes to this transaction; publish the rest (next before end, so no thread sees a half-set block)
    Atomics.store(block, 0, BigInt(start + 1));
    Atomics.store(block, 1, BigInt(start + blockSize));
    this.db.catalogStore.put(['ids', table.name], { next: start, end: start + blockSize });
    return start;
  }
}

export { CREATED_TIME, UPDATED_TIME };
