/**
 * One database = one LMDB environment file `<storage.path>/<name>.mdb`, opened once per thread (lmdb-js shares the
 * native environment across the threads of a process). Holds the catalog of table definitions, the tables, and the
 * audit log of every committed change.
 */
import { open, type RootDatabase, type Database as LmdbDbi } from 'lmdb';
import { Table, primaryDbiName, sharedBuffer } from './table.js';
import { NeedsLock, WriteTxn, type StoredAuditRow } from './write-txn.js';
import type { TxnClock } from './clock.js';
import type { AuditEntry, Key, TableDef } from './types.js';

/** Conflicting runs of an optimistic transaction before it takes the write lock instead. */
const OPTIMISTIC_ATTEMPTS = 5;

const STRUCTURES = Symbol.for('structures');

export interface DatabaseOptions {
  clock: TxnClock;
  /** Answer writes once committed rather than once flushed to disk. */
  writeAsync: boolean;
  overlappingSync: boolean;
}

export interface TransactResult<T> { result: T; txnTime: number }

export class Database {
  readonly name: string;
  readonly path: string;
  readonly env: RootDatabase;
  readonly catalogStore: LmdbDbi<any, any>;
  readonly auditStore: LmdbDbi<StoredAuditRow, [number, number]>;
  private readonly tables = new Map<string, Table>();
  private loadedVersion = -1;
  /**
   * Change counters shared by every thread that opened this environment (lmdb-js user shared buffer): slot 0 moves
   * after each committed schema change, slot 1 after each commit that asked for it (`signal: true`, used for
   * users/roles). A reader compares a counter instead of reading LMDB on every access; LMDB stays the truth.
   */
  private readonly signals: Int32Array;
  private seenSchemaSignal = -1;
  /**
   * Moves after every commit of Database.transact on any thread of the process. A thread that sees it moved
   * renews its read snapshot before the next table lookup, so a request that starts after a write was acknowledged
   * (on whatever thread) reads that write: lmdb-js alone renews a thread's snapshot only on a timer.
   */
  private readonly commits: Int32Array;
  private seenCommits = -1;
  private closed = false;

  constructor(name: string, path: string, private readonly opts: DatabaseOptions) {
    this.name = name;
    this.path = path;
    this.env = open({ path, maxDbs: 10_000, noSubdir: true, overlappingSync: opts.overlappingSync });
    this.catalogStore = this.env.openDB({ name: '__catalog__', encoding: 'msgpack' });
    // Shared structures (msgpackr records) halve an entry (~185 -> ~90 bytes for a 5-field record): the audit log is
    // the largest part of every write. Entries written before (plain maps) read back the same.
    this.auditStore = this.env.openDB({ name: '__audit__', encoding: 'msgpack', sharedStructuresKey: STRUCTURES });
    this.signals = new Int32Array(sharedBuffer(this.catalogStore, 'weft:signals', 8));
    this.commits = new Int32Array(sharedBuffer(this.catalogStore, 'weft:commits', 4));
    this.migrateToVersions();
  }

  /** Counter that moves after every commit made with `signal: true` (any thread of this process). */
  changeSignal(): number {
    return Atomics.load(this.signals, 1);
  }

  private unversionedDefs(): TableDef[] {
    const out: TableDef[] = [];
    for (const { value } of this.catalogStore.getRange({ start: ['table'], end: ['table', '\uffff'] })) {
      if (!(value as TableDef).versioned) out.push(value as TableDef);
    }
    return out;
  }

  /**
   * Tables stored before records carried versions get them once, under the write lock, before this thread builds
   * any Table: each record's bytes are copied unchanged behind an 8-byte version (its numeric or Date
   * updated-time attribute, else the migration time), and so is the shared-structures entry. A thread opening
   * the same file at the same time waits for the lock and then finds nothing left to do.
   */
  private migrateToVersions(): void {
    if (!this.unversionedDefs().length) return;
    this.env.transactionSync(() => {
      const defs = this.unversionedDefs();
      if (!defs.length) return;
      const time = this.opts.clock.next();
      for (const def of defs) {
        const name = primaryDbiName(def);
        const raw = this.env.openDB<Buffer, any>({ name, encoding: 'binary' });
        const decoded = this.env.openDB<Record<string, unknown>, any>({ name, encoding: 'msgpack', sharedStructuresKey: STRUCTURES });
        const versioned = this.env.openDB<Buffer, any>({ name, encoding: 'binary', useVersions: true });
        const updated = def.attributes.find((a) => a.assigned_updated_time)?.attribute;
        // versions are read before any entry is rewritten: the decoder loads the structures entry lazily
        const plan: Array<[unknown, number]> = [];
        // key iteration leaves the structures entry out (lmdb-js hides symbol keys); it is rewritten like the rest
        if (raw.getBinary(STRUCTURES) !== undefined) plan.push([STRUCTURES, 0]);
        for (const key of raw.getKeys()) {
          if (typeof key === 'symbol') continue;
          const u = updated ? decoded.get(key)?.[updated] : undefined;
          const v = typeof u === 'number' && u > 0 ? u : u instanceof Date ? u.getTime() : typeof u === 'string' ? Date.parse(u) : NaN;
          plan.push([key, Number.isFinite(v) ? v : time]);
        }
        for (const [key, version] of plan) versioned.put(key, Buffer.from(raw.getBinary(key)!), version);
        def.versioned = true;
        this.catalogStore.put(['table', def.name], def);
      }
      this.catalogStore.put('version', ((this.catalogStore.get('version') as number | undefined) ?? 0) + 1);
    });
    Atomics.add(this.signals, 0, 1);
  }

  /** Reload table definitions when another thread (or transaction) changed them. Cheap when nothing changed. */
  private sync(): void {
    // read the counters before LMDB: a change committed in between moves them again and the next call re-reads
    const commits = Atomics.load(this.commits, 0);
    const signal = Atomics.load(this.signals, 0);
    // both move after their commit, so a snapshot renewed now includes it: without that, an old snapshot could
    // read the old catalog with the schema counter then marked seen, missing the change until the next one
    // (inside a write transaction reads see the latest data already)
    if ((commits !== this.seenCommits || signal !== this.seenSchemaSignal) && !(this.env as unknown as { writeTxn?: unknown }).writeTxn) {
      this.seenCommits = commits;
      this.refreshReads();
    }
    if (signal === this.seenSchemaSignal) return;
    this.syncFromCatalog();
    this.seenSchemaSignal = signal;
  }

  private syncFromCatalog(): void {
    const version = (this.catalogStore.get('version') as number | undefined) ?? 0;
    if (version === this.loadedVersion) return;
    const seen = new Set<string>();
    for (const { key, value } of this.catalogStore.getRange({ start: ['table'], end: ['table', '\uffff'] })) {
      const def = value as TableDef;
      seen.add(def.name);
      const existing = this.tables.get(def.name);
      if (!existing || !existing.sameShape(def)) this.tables.set(def.name, new Table(this.env, def));
      void key;
    }
    for (const name of [...this.tables.keys()]) if (!seen.has(name)) this.tables.delete(name);
    this.loadedVersion = version;
  }

  table(name: string): Table | undefined {
    this.sync();
    return this.tables.get(name);
  }

  tableNames(): string[] {
    this.sync();
    return [...this.tables.keys()].sort();
  }

  /** Used by WriteTxn when it saves a definition inside the current transaction. */
  installTable(def: TableDef): Table {
    const t = new Table(this.env, def);
    this.tables.set(def.name, t);
    return t;
  }

  /**
   * Run `fn` in one atomic write transaction. Resolves after the commit is flushed to disk unless
   * storage.writeAsync is set.
   *
   * `optimistic: true` runs `fn` outside the write lock against the current snapshot and commits its writes on
   * the condition that no record it read changed (see WriteTxn); on a conflict `fn` runs again, and work that
   * needs the lock (schema changes, a new id block) or repeated conflicts fall back to a locked run. `fn` must
   * then be safe to run more than once: no side effects outside the transaction before it returns.
   * Without it `fn` runs inside an LMDB child transaction (a throw rolls everything back).
   */
  async transact<T>(fn: (txn: WriteTxn) => T, user?: string, opts?: { signal?: boolean; optimistic?: boolean }): Promise<TransactResult<T>> {
    if (opts?.optimistic) {
      for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
        this.sync();
        const txn = new WriteTxn(this, this.opts.clock.next(), user, true);
        let result: T;
        try {
          result = fn(txn);
        } catch (err) {
          if (err instanceof NeedsLock) break;
          throw err;
        }
        if (!txn.hasWrites) return { result, txnTime: txn.time };
        const committed = txn.commit();
        const flushed = this.opts.writeAsync ? undefined : this.flushPromise();
        if (await committed) {
          Atomics.add(this.commits, 0, 1);
          if (flushed) await flushed;
          if (opts.signal) Atomics.add(this.signals, 1, 1);
          return { result, txnTime: txn.time };
        }
        // another thread changed a record this one read: read a fresh snapshot and run again
        this.refreshReads();
      }
    }
    return this.transactLocked(fn, user, opts);
  }

  /**
   * Make this thread's next reads see every commit made so far. lmdb-js keeps one read snapshot per thread and
   * renews it with a timer (at least 1 ms later, often a few event-loop turns), so without this a thread woken by
   * another thread's commit (a released lock, a message) can still read the state from before that commit.
   */
  refreshReads(): void {
    (this.env as unknown as { resetReadTxn(): void }).resetReadTxn();
  }

  /** The flush of the write batch being built now (taken right after queuing: `env.flushed` later may be a later batch's). */
  private flushPromise(): Promise<unknown> {
    const p = new Promise((resolve, reject) => { this.env.flushed.then(resolve, reject); });
    p.catch(() => { /* awaited by the caller unless the transaction failed */ });
    return p;
  }

  private async transactLocked<T>(fn: (txn: WriteTxn) => T, user?: string, opts?: { signal?: boolean }): Promise<TransactResult<T>> {
    let result!: T;
    let txnTime = 0;
    let schemaChanged = false;
    let flushed: Promise<unknown> | undefined;
    try {
      const committed = this.env.childTransaction(() => {
        this.syncFromCatalog();
        txnTime = this.opts.clock.next();
        const txn = new WriteTxn(this, txnTime, user);
        result = fn(txn);
        txn.finishAudit();
        if (txn.schemaChanged) {
          schemaChanged = true;
          this.catalogStore.put('version', ((this.catalogStore.get('version') as number | undefined) ?? 0) + 1);
        }
      });
      if (!this.opts.writeAsync) flushed = this.flushPromise();
      await committed;
      Atomics.add(this.commits, 0, 1);
      if (schemaChanged) Atomics.add(this.signals, 0, 1);
      if (opts?.signal) Atomics.add(this.signals, 1, 1);
    } catch (err) {
      // definitions installed during an aborted transaction must not survive it
      this.loadedVersion = -1;
      this.seenSchemaSignal = -1;
      throw err;
    }
    if (flushed) await flushed;
    return { result, txnTime };
  }

  /**
   * Remove the records of `tableName` whose expiry is before `before` (epoch ms), reading only the due entries of
   * the expiry index, in transactions of `batch` records. Safe to run in several threads at once: each record is
   * re-checked inside the write transaction and removed once. Returns how many records this call removed.
   */
  async sweepExpired(tableName: string, before: number, batch = 500): Promise<number> {
    let removed = 0;
    for (;;) {
      const table = this.table(tableName);
      if (!table) return removed;
      const due = [...table.dueExpiries(before, batch)];
      if (!due.length) return removed;
      const { result } = await this.transact((txn) => {
        const t = txn.table(tableName);
        if (!t) return 0;
        let n = 0;
        for (const { id, expiresAt } of due) if (txn.evict(t, id, expiresAt)) n++;
        return n;
      });
      removed += result;
      if (due.length < batch) return removed;
    }
  }

  /** Newest audit timestamp, so the clock never goes back across a restart. */
  lastAuditTime(): number {
    for (const key of this.auditStore.getKeys({ reverse: true, limit: 1 })) return (key as [number, number])[0];
    return 0;
  }

  /** One entry per change, oldest first (a stored row of several changes yields each, in the order written). */
  *auditEntries(from = 0, to = Infinity): Generator<AuditEntry> {
    for (const { key, value } of this.auditStore.getRange({ start: [from], end: [to === Infinity ? Number.MAX_VALUE : to, Infinity] })) {
      const timestamp = (key as [number, number])[0];
      if ('ids' in value) {
        const { table, operation, user, ids, records } = value;
        for (let i = 0; i < ids.length; i++) yield { table, operation, user, id: ids[i]!, record: records[i], timestamp };
      } else {
        yield { table: value.table, operation: value.operation, user: value.user, id: value.id, record: value.record, timestamp };
      }
    }
  }

  /** Remove audit entries older than `before` (epoch ms). Returns how many were removed. */
  async purgeAudit(before: number): Promise<number> {
    let n = 0;
    await this.env.transaction(() => {
      for (const key of this.auditStore.getKeys({ end: [before] })) {
        this.auditStore.remove(key as [number, number]);
        n++;
      }
    });
    return n;
  }

  sizeBytes(): number {
    const s = this.env.getStats() as Record<string, number>;
    return (s.lastPageNumber ?? 0) * (s.pageSize ?? 4096);
  }

  auditSizeBytes(): number {
    const s = this.auditStore.getStats() as Record<string, number>;
    return ((s.treeBranchPageCount ?? 0) + (s.treeLeafPageCount ?? 0) + (s.overflowPages ?? 0)) * (s.pageSize ?? 4096);
  }

  lastUpdated(tableName: string): number | undefined {
    for (const { key, value } of this.auditStore.getRange({ reverse: true })) {
      if (value.table === tableName) return (key as [number, number])[0];
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tables.clear();
    await this.env.close();
  }
}

export type { Key };
