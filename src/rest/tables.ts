/**
 * `tables`: the table classes applications import from 'weftdb' (spec §5.3), a basic subset of the Resource API
 * statics (get, put, patch, delete, create, search, getRecordCount) over storage. Each call is its own
 * transaction (joining the caller's transaction is not built yet).
 *
 * Module-level state on purpose: applications import `tables` as a singleton, exactly like Harper's global, and
 * every serving thread fills it (setTables) before it loads the applications' resources.js files. Two runtimes in
 * one thread would share it; that only happens in tests that do not load applications.
 */
import { weftError } from '../errors/index.js';
import { checkRecordTypes, search, setComputedFunction, type Key, type LmdbStorage, type Rec, type Table } from '../storage/index.js';
import { Resource } from './resource.js';
import { parseQuery } from './query-parser.js';
import { projector, tableQuery } from './query.js';
import { setRelations, type RelationDecl } from './joins.js';
import { cachedGet, clearSources, invalidate, isCaching, parseCacheControl, setSource, type CacheOptions } from './caching.js';

export const tables: Record<string, any> = {};
export const databases: Record<string, Record<string, any>> = {};

export type TableRef = RelationDecl;

function tableClass(storage: LmdbStorage, ref: TableRef) {
  const open = (): Table => {
    const t = storage.database(ref.database)?.table(ref.table);
    if (!t) throw weftError('TABLE_NOT_FOUND', ref.database, ref.table);
    return t;
  };
  const write = async (fn: (t: Table, txn: any) => unknown) => {
    const db = storage.database(ref.database);
    if (!db) throw weftError('DATABASE_NOT_FOUND', ref.database);
    return (await db.transact((txn) => fn(txn.table(ref.table) ?? open(), txn))).result;
  };
  const checked = (t: Table, record: Rec): Rec => {
    const problems = checkRecordTypes(t.def, record);
    if (problems.length) throw weftError('TYPE_VIOLATION', problems.join('. '));
    return record;
  };
  return class extends Resource {
    static readonly tableName = ref.table;
    static readonly databaseName = ref.database;
    static get primaryKey(): string { return open().primaryKey; }
    static get attributes() { return open().def.attributes; }

    /** On a caching table (sourcedFrom) a missing or stale record is loaded from the source. */
    static async get(id: Key, context?: { headers?: { get(name: string): string | undefined } }): Promise<Rec | undefined> {
      const t = open();
      if (!isCaching(t)) return t.get(id);
      return (await cachedGet(storage, t, id, parseCacheControl(context?.headers?.get('cache-control')), context)).record;
    }
    /** Make this table a cache of `source` (spec §5.4): a class with get() (V1 or V2) or an object with get(id). */
    static sourcedFrom(source: unknown, options: CacheOptions = {}): typeof this {
      setSource(ref.database, ref.table, source, options);
      return this;
    }
    /** Mark a cached record stale: the next get reloads it from the source. */
    static async invalidate(id: Key): Promise<void> {
      await invalidate(storage, open(), id);
    }
    /** put(id, record) or put(record) with the key inside. */
    static async put(idOrRecord: Key | Rec, maybeRecord?: Rec): Promise<void> {
      await write((t, txn) => {
        const record: Rec = { ...(maybeRecord ?? (idOrRecord as Rec)) };
        const id = (maybeRecord ? idOrRecord : record[t.primaryKey]) as Key;
        if (id === undefined || id === null) throw weftError('INVALID_PRIMARY_KEY_NULL');
        record[t.primaryKey] = id;
        const prev = txn.get(t, id);
        checked(t, record);
        txn.stampTimes(t, record, prev);
        txn.put(t, id, record, 'put', prev ?? null);
      });
    }
    static async patch(id: Key, partial: Rec): Promise<void> {
      await write((t, txn) => {
        const prev = txn.get(t, id);
        const record = checked(t, { ...(prev ?? {}), ...partial, [t.primaryKey]: id });
        txn.stampTimes(t, record, prev);
        txn.put(t, id, record, 'patch', prev ?? null);
      });
    }
    static async delete(id: Key): Promise<boolean> {
      return (await write((t, txn) => txn.remove(t, id))) as boolean;
    }
    /** Create with a generated key (or the one in the record); returns the key. */
    static async create(record: Rec): Promise<Key> {
      return (await write((t, txn) => {
        const given = record[t.primaryKey] as Key | undefined;
        const id = given ?? txn.newId(t);
        if (given !== undefined && txn.get(t, id) !== undefined) throw weftError('REST_RECORD_EXISTS');
        const rec = checked(t, { ...record, [t.primaryKey]: id });
        txn.stampTimes(t, rec, undefined);
        txn.put(t, id, rec, 'insert', null);
        return id;
      })) as Key;
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
  };
}

/** Fill `tables` / `databases` for this thread from the applications' declared tables. */
export function setTables(storage: LmdbStorage, refs: TableRef[]): void {
  for (const k of Object.keys(tables)) delete tables[k];
  for (const k of Object.keys(databases)) delete databases[k];
  setRelations(refs);
  clearSources();
  for (const ref of refs) {
    const cls = tableClass(storage, ref);
    Object.defineProperty(cls, 'name', { value: ref.typeName });
    (databases[ref.database] ??= {})[ref.typeName] = cls;
    if (ref.database === 'data') tables[ref.typeName] = cls;
  }
}
