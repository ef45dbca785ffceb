/**
 * `tables`: the table classes applications import from 'weftdb' (spec §5.3), a basic subset of the Resource API
 * statics (get, put, patch, delete, create, search, getRecordCount) over storage, and the V1 instance methods an
 * application's subclass reaches with `super`. A call joins the active transaction (transaction.ts) when there is
 * one, else it is its own transaction.
 *
 * Module-level state on purpose: applications import `tables` as a singleton, exactly like Harper's global, and
 * every serving thread fills it (setTables) before it loads the applications' resources.js files. Two runtimes in
 * one thread would share it; that only happens in tests that do not load applications.
 */
import { weftError } from '../errors/index.js';
import { checkRecordTypes, copyRecord, copyWithKey, expiryMs, search, setComputedFunction, type Key, type LmdbStorage, type Rec, type Table } from '../storage/index.js';
import { Resource } from './resource.js';
import { parseQuery } from './query-parser.js';
import { projector, tableQuery } from './query.js';
import { setRelations, type RelationDecl } from './joins.js';
import { checkTableAccess } from './access.js';
import { activeTransaction, setTransactionStorage, transaction } from './transaction.js';
import { startExpirationSweeps } from './expiration.js';
import {
  cachedGet, clearSources, invalidate, isCaching, noteCacheWrite, parseCacheControl, setSource, startSubscription,
  writesThrough, writeThrough, type CacheOptions, type WriteMethod,
} from './caching.js';

export const tables: Record<string, any> = {};
export const databases: Record<string, Record<string, any>> = {};

export type TableRef = RelationDecl;

/** Marks table classes (inherited by subclasses): the table a class, or the class it extends, stands for. */
export const TABLE_REF = Symbol('weft.tableRef');
/** Loads the record into a V1 instance before its method runs (spec §5.3). */
export const LOAD_RECORD = Symbol('weft.loadRecord');

/** The table behind a table class or a subclass of one. */
export function tableRefOf(cls: unknown): TableRef | undefined {
  return typeof cls === 'function' ? (cls as any)[TABLE_REF] : undefined;
}

/** True for the generated class itself (not an application's subclass). */
export function isBaseTableClass(cls: unknown): boolean {
  return typeof cls === 'function' && Object.hasOwn(cls, TABLE_REF);
}

type Ctx = {
  headers?: { get(name: string): string | undefined };
  user?: { username?: string } | null;
  transaction?: unknown;
  /** The newest version read through this context (spec §5.3): drives the response's ETag. */
  lastModified?: unknown;
  /** Expiry (epoch ms, Date or date string) for the records this context writes (spec §3.8). */
  expiresAt?: unknown;
} | undefined;

/** A read through `context` raises its lastModified to the record's version (the ETag of what it answers). */
function noteVersion(context: Ctx, version: number | undefined): void {
  if (!context || typeof context !== 'object' || version === undefined) return;
  const cur = context.lastModified;
  if (cur === undefined || (typeof cur === 'number' && cur < version)) context.lastModified = version;
}

/** A resource instance passed as the context (`tables.X.put(id, rec, this)`) stands for its request's context. */
function ctxOf(c: unknown): Ctx {
  return c instanceof Resource ? c.getContext() as Ctx : c as Ctx;
}

function tableClass(storage: LmdbStorage, ref: TableRef) {
  const open = (): Table => {
    const t = storage.database(ref.database)?.table(ref.table);
    if (!t) throw weftError('TABLE_NOT_FOUND', ref.database, ref.table);
    return t;
  };
  const db = () => {
    const d = storage.database(ref.database);
    if (!d) throw weftError('DATABASE_NOT_FOUND', ref.database);
    return d;
  };
  /** Read by id, seeing the writes of the active transaction. */
  const read = (id: Key, context: Ctx): Rec | undefined => {
    const w = activeTransaction(context)?.written(ref.database, ref.table, id);
    if (w !== undefined) return w ?? undefined;
    const t = open();
    const entry = t.getEntry(id);
    if (!entry || (t.hidesStale && t.isStale(id))) return undefined;
    noteVersion(context, entry.version);
    return entry.value;
  };
  /**
   * One write of record `id`: `build(prev)` gives the new record (null = delete). Inside a transaction it is queued
   * (and re-evaluated against the committed state at commit); otherwise it is its own storage transaction.
   */
  const writeOne = async (id: Key, context: Ctx, kind: 'put' | 'patch' | 'insert', build: (t: Table, prev: Rec | undefined) => Rec | null): Promise<void> => {
    const apply = (txn: any) => {
      const t = txn.table(ref.table) ?? open();
      const prev = txn.get(t, id);
      const rec = build(t, prev);
      if (rec === null) { txn.remove(t, id); return; }
      txn.stampTimes(t, rec, prev);
      txn.put(t, id, rec, kind, prev ?? null, { expiresAt: expiryMs(context?.expiresAt) });
      if (isCaching(t) && context?.expiresAt === undefined) noteCacheWrite(txn, t, id, false);
    };
    const txn = activeTransaction(context);
    if (txn) {
      // validate now so the caller gets the error at the call, not at commit
      const preview = build(open(), read(id, context));
      txn.queue(ref.database, ref.table, id, preview, apply);
      return;
    }
    await db().transact(apply, context?.user?.username ?? undefined);
  };
  const checked = (t: Table, record: Rec): Rec => {
    const problems = checkRecordTypes(t.def, record);
    if (problems.length) throw weftError('TYPE_VIOLATION', problems.join('. '));
    return record;
  };
  /**
   * On a caching table whose source has `method`, the source gets the write first (spec §5.4), in one transaction
   * with the table write so writes the source makes to other tables commit or roll back with it.
   */
  const through = async (method: WriteMethod, id: Key, data: unknown, context: Ctx, write: () => Promise<void>): Promise<void> => {
    const t = open();
    if (!writesThrough(t, method)) return write();
    await transaction(context ?? {}, async () => {
      await writeThrough(t, method, id, data, context ?? {});
      await write();
    });
  };
  const allowed = (user: any, action: 'read' | 'insert' | 'update' | 'delete'): boolean => {
    try { checkTableAccess(user, ref.database, ref.table, action); return true; } catch { return false; }
  };
  return class extends Resource {
    static readonly [TABLE_REF] = ref;
    static readonly tableName = ref.table;
    static readonly databaseName = ref.database;
    static get primaryKey(): string { return open().primaryKey; }
    static get attributes() { return open().def.attributes; }

    /** On a caching table (sourcedFrom) a missing or stale record is loaded from the source. */
    static async get(id: Key, context?: Ctx): Promise<Rec | undefined> {
      context = ctxOf(context);
      const t = open();
      if (!isCaching(t)) return read(id, context);
      const got = await cachedGet(storage, t, id, parseCacheControl(context?.headers?.get('cache-control')), context);
      if (got.record) noteVersion(context, got.version);
      return got.record;
    }
    /** Make this table a cache of `source` (spec §5.4): a class with get() (V1 or V2) or an object with get(id). */
    static sourcedFrom(source: unknown, options: CacheOptions = {}): typeof this {
      setSource(ref.database, ref.table, source, options);
      startSubscription(storage, open());
      return this;
    }
    /** Mark a cached record stale: the next get reloads it from the source. */
    static async invalidate(id: Key, _context?: Ctx): Promise<void> {
      await invalidate(storage, open(), id);
    }
    /**
     * A message for record `id` (spec §5.3). The record is unchanged; on a caching table the source's publish
     * gets it first (write-through). There are no local subscribers to deliver it to yet.
     */
    static async publish(id: Key, message: unknown, context?: Ctx): Promise<void> {
      context = ctxOf(context);
      const t = open();
      if (writesThrough(t, 'publish')) await transaction(context ?? {}, () => writeThrough(t, 'publish', id, message, context ?? {}));
    }
    /** put(id, record, context?) or put(record, context?) with the key inside. */
    static async put(idOrRecord: Key | Rec, maybeRecord?: Rec | Ctx, maybeContext?: Ctx): Promise<void> {
      // put(record, context?) when the first argument is a record; keys are scalars or arrays (composite)
      const byRecord = !!idOrRecord && typeof idOrRecord === 'object' && !Array.isArray(idOrRecord);
      const context = ctxOf(byRecord ? maybeRecord : maybeContext);
      const given = ((byRecord ? idOrRecord : maybeRecord) ?? {}) as Rec;
      const id = (byRecord ? given[open().primaryKey] : idOrRecord) as Key;
      if (id === undefined || id === null) throw weftError('INVALID_PRIMARY_KEY_NULL');
      const record = copyWithKey(given, open().primaryKey, id);
      await through('put', id, record, context, () => writeOne(id, context, 'put', (t) => checked(t, copyRecord(record))));
    }
    static async patch(id: Key, partial: Rec, context?: Ctx): Promise<void> {
      context = ctxOf(context);
      await through('patch', id, partial, context, () =>
        writeOne(id, context, 'patch', (t, prev) => checked(t, copyWithKey(prev ?? {}, t.primaryKey, id, partial))));
    }
    static async delete(id: Key, context?: Ctx): Promise<boolean> {
      context = ctxOf(context);
      const existed = read(id, context) !== undefined;
      await through('delete', id, undefined, context, () => writeOne(id, context, 'put', () => null));
      return existed;
    }
    /** Create with a generated key (or the one in the record); returns the key. */
    static async create(record: Rec, context?: Ctx): Promise<Key> {
      context = ctxOf(context);
      const t = open();
      const given = record[t.primaryKey] as Key | undefined;
      // a generated id is reserved in its own small transaction: a rolled-back create only skips an id
      const id = given ?? (await db().transact((txn) => txn.newId(txn.table(ref.table) ?? t))).result;
      if (given !== undefined && read(id, context) !== undefined) throw weftError('REST_RECORD_EXISTS');
      await writeOne(id, context, 'insert', (tt, prev) => {
        if (given !== undefined && prev !== undefined && !activeTransaction(context)) throw weftError('REST_RECORD_EXISTS');
        return checked(tt, copyWithKey(record, tt.primaryKey, id));
      });
      return id;
    }
    /**
     * Records matching a query: a REST query string (`'age=gt=3&sort(name)'`) or `{conditions, operator, limit,
     * offset}` with storage conditions. An async iterable, like Harper's.
     */
    static async *search(query: string | { conditions?: any[]; operator?: 'and' | 'or'; limit?: number; offset?: number } = {}): AsyncGenerator<Rec> {
      const t = open();
      if (typeof query === 'string') {
        const env = { storage };
        const tq = tableQuery(t, parseQuery(query), env);
        const project = projector(t, tq.select, env);
        for (const rec of search(t, tq.tree, tq.options)) yield project(rec) as Rec;
        return;
      }
      const conditions = Array.isArray(query) ? query : query.conditions;
      const tree = conditions?.length ? { operator: query.operator ?? 'and', conditions } : undefined;
      yield* search(t, tree as any, { limit: query.limit, offset: query.offset });
    }
    /** Supply the function of a `@computed` attribute declared without `from` (spec §5.3). */
    static setComputedAttribute(name: string, fn: (record: Rec) => unknown): void {
      setComputedFunction(ref.database, ref.table, name, fn);
    }
    static getRecordCount(): { recordCount: number } {
      return { recordCount: open().recordCount() };
    }

    // ---- V1 instance behaviour (spec §5.3): what `super.get(query)` etc. reach in an application's subclass ----

    #record: Rec | undefined;

    /** Called before the method runs: the record becomes readable as properties of the instance. */
    [LOAD_RECORD](record: Rec | undefined): void {
      this.#record = record;
      if (!record) return;
      for (const [k, v] of Object.entries(record)) {
        if (!(k in this)) Object.defineProperty(this, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
    }
    /** The record (by id) or the matching records (collection) as the table's default GET answers them. */
    get(query?: unknown): unknown {
      const id = this.getId();
      if (id === null) return (this.constructor as any).search(typeof query === 'string' ? query : String(query ?? ''));
      return this.#record ? { ...this.#record } : undefined;
    }
    async put(data: Rec): Promise<void> {
      await (this.constructor as any).put(this.getId(), data, this.getContext());
    }
    async patch(data: Rec): Promise<void> {
      await (this.constructor as any).patch(this.getId(), data, this.getContext());
    }
    async post(data: Rec): Promise<unknown> {
      const id = await (this.constructor as any).create(data ?? {}, this.getContext());
      return { status: 201, headers: { Location: String(id) }, data: id };
    }
    async delete(): Promise<boolean> {
      await (this.constructor as any).delete(this.getId(), this.getContext());
      return true;
    }
    async publish(message: unknown): Promise<void> {
      await (this.constructor as any).publish(this.getId(), message, this.getContext());
    }
    /** Mark this record stale (caching tables): the next get reloads it from the source. */
    async invalidate(): Promise<void> {
      await (this.constructor as any).invalidate(this.getId(), this.getContext());
    }
    /** Tables use role permissions (spec §7.6) where the base Resource allows super users only. */
    override allowRead(user: any): boolean { return allowed(user, 'read'); }
    override allowUpdate(user: any): boolean { return allowed(user, 'update'); }
    override allowCreate(user: any): boolean { return allowed(user, 'insert'); }
    override allowDelete(user: any): boolean { return allowed(user, 'delete'); }
  };
}

/** Fill `tables` / `databases` for this thread from the applications' declared tables. */
export function setTables(storage: LmdbStorage, refs: TableRef[]): void {
  for (const k of Object.keys(tables)) delete tables[k];
  for (const k of Object.keys(databases)) delete databases[k];
  setRelations(refs);
  setTransactionStorage(storage);
  startExpirationSweeps(storage, refs);
  clearSources();
  for (const ref of refs) {
    const cls = tableClass(storage, ref);
    Object.defineProperty(cls, 'name', { value: ref.typeName });
    (databases[ref.database] ??= {})[ref.typeName] = cls;
    if (ref.database === 'data') tables[ref.typeName] = cls;
  }
}
