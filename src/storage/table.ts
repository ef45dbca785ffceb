/** The read side of one table: its primary store and secondary indexes, as seen by the current thread. */
import type { Database as LmdbDbi, RootDatabase } from 'lmdb';
import type { AttributeDef, Key, Rec, TableDef } from './types.js';
import { computedAttributes, type ComputeFn } from './computed.js';
import { withFastKeys } from './key-encoder.js';
import { copyRecord } from './records.js';

const STRUCTURES = Symbol.for('structures');

/**
 * Memory shared by every thread of the process that opened this LMDB environment, keyed by store and `id`
 * (lmdb-js user shared buffer; zero-filled on first use; not in lmdb-js's type declarations).
 */
export function sharedBuffer(dbi: LmdbDbi<any, any>, id: string, bytes: number): ArrayBuffer {
  return (dbi as unknown as { getUserSharedBuffer(id: string, init: ArrayBuffer): ArrayBuffer }).getUserSharedBuffer(id, new ArrayBuffer(bytes));
}

export function primaryDbiName(def: TableDef): string {
  return `t:${def.created}:${def.name}`;
}
export function indexDbiName(def: TableDef, attr: AttributeDef): string {
  return `i:${def.created}:${def.name}:${attr.created ?? 0}:${attr.attribute}`;
}

/** Per-record expiry metadata (spec §3.8): when the record goes stale, and when this node last wrote it. */
export interface RecordMeta {
  /** Epoch ms; absent = never stale. */
  expiresAt?: number;
  /** Transaction time of the last local write (a cache entry's refresh time; the version may come from its origin). */
  written: number;
}

export function expiryMetaDbiName(def: TableDef): string {
  return `e:${def.created}:${def.name}`;
}
export function expiryIndexDbiName(def: TableDef): string {
  return `x:${def.created}:${def.name}`;
}

/**
 * Tables whose stale records are reloaded rather than hidden (caching tables, registered by the REST layer):
 * they track per-record expiry even without a declared expiration.
 */
const reloading = new Set<string>();
export function setReloadsStale(database: string, table: string, on: boolean): void {
  if (on) reloading.add(`${database}\0${table}`); else reloading.delete(`${database}\0${table}`);
}
export function clearReloadsStale(): void {
  reloading.clear();
}

/** An expiry given as epoch ms, a Date or a date string; undefined when it is none of these. */
export function expiryMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : undefined;
  if (typeof v === 'string' && v) { const t = Date.parse(v); return Number.isFinite(t) ? t : undefined; }
  return undefined;
}

export class Table {
  readonly def: TableDef;
  readonly primary: LmdbDbi<Rec, Key>;
  readonly indexes = new Map<string, LmdbDbi<Key, any>>();
  private readonly attrs: Map<string, AttributeDef>;
  /** Computed attributes (never stored): name -> function of the record. */
  readonly computed: Map<string, ComputeFn>;
  /** The @expiresAt attribute, if any. */
  readonly expiresAtAttribute: string | undefined;
  private readonly env: RootDatabase;
  private meta: LmdbDbi<RecordMeta, Key> | undefined;
  private expiryIdx: LmdbDbi<Key, number> | undefined;

  constructor(env: RootDatabase, def: TableDef) {
    this.def = def;
    this.env = env;
    this.primary = env.openDB<Rec, Key>(withFastKeys({
      name: primaryDbiName(def), encoding: 'msgpack', sharedStructuresKey: STRUCTURES, useVersions: def.versioned === true,
    }));
    this.attrs = new Map(def.attributes.map((a) => [a.attribute, a]));
    this.computed = computedAttributes(def);
    this.expiresAtAttribute = def.attributes.find((a) => a.expires_at)?.attribute;
    for (const a of def.attributes) {
      if (a.indexed && !a.is_primary_key) {
        this.indexes.set(a.attribute, env.openDB<Key, any>(withFastKeys({ name: indexDbiName(def, a), dupSort: true, encoding: 'ordered-binary' })));
      }
    }
  }

  get name(): string { return this.def.name; }
  get primaryKey(): string { return this.def.primaryKey; }
  attribute(name: string): AttributeDef | undefined { return this.attrs.get(name); }
  hasAttribute(name: string): boolean { return this.attrs.has(name); }
  attributeNames(): string[] { return this.def.attributes.map((a) => a.attribute); }

  /** A property of a record, computed attributes included. */
  valueOf(rec: Rec, attribute: string): unknown {
    const f = this.computed.size ? this.computed.get(attribute) : undefined;
    return f ? f(rec) : rec[attribute];
  }

  /** The record with its computed attributes filled in (the record itself when the table has none). */
  withComputed(rec: Rec): Rec {
    if (!this.computed.size) return rec;
    const out = copyRecord(rec);
    for (const [name, f] of this.computed) out[name] = f(rec);
    return out;
  }

  /** The stored record, expired or not (one LMDB read; the GET hot path). */
  get(id: Key): Rec | undefined {
    return this.primary.get(id);
  }

  private ids: BigInt64Array | undefined;
  /**
   * [next, end) of the id block this process hands out (WriteTxn.newId), in memory shared by every thread that
   * opened the table (lmdb-js user shared buffer); empty after a start, so the first new id reserves a block.
   */
  idBlock(): BigInt64Array {
    if (!this.ids) {
      this.ids = new BigInt64Array(sharedBuffer(this.primary, 'weft:ids', 16));
    }
    return this.ids;
  }

  /** The record with its version (the writing transaction's time, or the origin's for a cache entry). Same one read. */
  getEntry(id: Key): { value: Rec; version: number | undefined } | undefined {
    const e = this.primary.getEntry(id);
    return e ? { value: e.value, version: (e as { version?: number }).version } : undefined;
  }

  versionOf(id: Key): number | undefined {
    return this.getEntry(id)?.version;
  }

  /** True when records of this table can go stale: `expiration`, an @expiresAt attribute, or a caching table. */
  get expiring(): boolean {
    return !!this.def.expiration || this.expiresAtAttribute !== undefined || this.reloadsStale;
  }

  /** Caching tables reload stale records from their source; other expiring tables hide them until removed. */
  get reloadsStale(): boolean {
    return reloading.has(`${this.def.database}\0${this.def.name}`);
  }

  get hidesStale(): boolean {
    return (!!this.def.expiration || this.expiresAtAttribute !== undefined) && !this.reloadsStale;
  }

  /** id -> RecordMeta, for expiring tables (opened on first use: most tables never need it). */
  get metaStore(): LmdbDbi<RecordMeta, Key> {
    return (this.meta ??= this.env.openDB<RecordMeta, Key>(withFastKeys({ name: expiryMetaDbiName(this.def), encoding: 'msgpack' })));
  }

  /** expiresAt -> ids, so a sweep reads only the entries that are due (never the whole table). */
  get expiryIndex(): LmdbDbi<Key, number> {
    return (this.expiryIdx ??= this.env.openDB<Key, number>(withFastKeys({ name: expiryIndexDbiName(this.def), dupSort: true, encoding: 'ordered-binary' })));
  }

  /** Expiry metadata of a record (undefined on tables that do not expire, and for records written before). */
  recordMeta(id: Key): RecordMeta | undefined {
    return this.expiring ? this.metaStore.get(id) : undefined;
  }

  /** True when the record `id` has an expiry at or before `now`. */
  isStale(id: Key, now = Date.now()): boolean {
    const at = this.recordMeta(id)?.expiresAt;
    return at !== undefined && at <= now;
  }

  /** (expiresAt, id) pairs with expiresAt < before, oldest first. */
  *dueExpiries(before: number, limit = Infinity): Generator<{ expiresAt: number; id: Key }> {
    for (const { key, value } of this.expiryIndex.getRange({ end: before, limit })) yield { expiresAt: key as unknown as number, id: value as unknown as Key };
  }

  /** Every record in primary-key order. */
  *scan(reverse = false): Generator<Rec> {
    for (const { key, value } of this.primary.getRange({ reverse })) {
      if (typeof key === 'symbol') continue;
      yield value;
    }
  }

  /** Records with start <= key < end in primary-key order (a missing bound is open). */
  *scanRange(start?: Key, end?: Key): Generator<Rec> {
    for (const { key, value } of this.primary.getRange({ start, end })) {
      if (typeof key === 'symbol') continue;
      yield value;
    }
  }

  /**
   * Keys that cut the table into `parts` key ranges of about equal record counts. Reads no record: LMDB skips
   * `offset` keys natively, so a million-key table splits in tens of milliseconds.
   */
  splitKeys(parts: number): Key[] {
    const count = this.recordCount();
    const step = Math.floor(count / parts);
    const out: Key[] = [];
    if (parts < 2 || step < 1) return out;
    let start: Key | undefined;
    for (let i = 1; i < parts; i++) {
      let next: Key | undefined;
      for (const k of this.primary.getKeys({ start, offset: step, limit: 1 })) {
        if (typeof k !== 'symbol') next = k as Key;
      }
      if (next === undefined) break;
      out.push(next);
      start = next;
    }
    return out;
  }

  *scanKeys(): Generator<Key> {
    for (const key of this.primary.getKeys()) if (typeof key !== 'symbol') yield key as Key;
  }

  recordCount(): number {
    const stats = this.primary.getStats() as { entryCount: number };
    return Math.max(0, stats.entryCount - (this.primary.get(STRUCTURES as unknown as Key) !== undefined ? 1 : 0));
  }

  /** Bytes used by the primary store and indexes of this table. */
  sizeBytes(): number {
    let total = 0;
    for (const dbi of [this.primary, ...this.indexes.values()]) {
      const s = dbi.getStats() as Record<string, number>;
      total += ((s.treeBranchPageCount ?? 0) + (s.treeLeafPageCount ?? 0) + (s.overflowPages ?? 0)) * (s.pageSize ?? 4096);
    }
    return total;
  }

  sameShape(def: TableDef): boolean {
    return JSON.stringify(def) === JSON.stringify(this.def);
  }
}
