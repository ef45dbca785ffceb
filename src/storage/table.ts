/** The read side of one table: its primary store and secondary indexes, as seen by the current thread. */
import type { Database as LmdbDbi, RootDatabase } from 'lmdb';
import type { AttributeDef, Key, Rec, TableDef } from './types.js';
import { computedAttributes, type ComputeFn } from './computed.js';

const STRUCTURES = Symbol.for('structures');

export function primaryDbiName(def: TableDef): string {
  return `t:${def.created}:${def.name}`;
}
export function indexDbiName(def: TableDef, attr: AttributeDef): string {
  return `i:${def.created}:${def.name}:${attr.created ?? 0}:${attr.attribute}`;
}

/** When each record of a table with `expiration` was last written: [table, id] -> transaction time (ms). */
export const WRITTEN_STORE = '__written__';

export class Table {
  readonly def: TableDef;
  readonly primary: LmdbDbi<Rec, Key>;
  readonly indexes = new Map<string, LmdbDbi<Key, any>>();
  private readonly attrs: Map<string, AttributeDef>;
  /** Computed attributes (never stored): name -> function of the record. */
  readonly computed: Map<string, ComputeFn>;
  /** Write times, for tables with `expiration` (spec §3.8). */
  readonly written: LmdbDbi<number, [string, Key]> | undefined;

  constructor(env: RootDatabase, def: TableDef) {
    this.def = def;
    // useVersions: each record carries the time of the transaction that wrote it (its version, spec §3), which
    // optimistic transactions check at commit
    this.primary = env.openDB<Rec, Key>({ name: primaryDbiName(def), encoding: 'msgpack', sharedStructuresKey: STRUCTURES, useVersions: true });
    this.attrs = new Map(def.attributes.map((a) => [a.attribute, a]));
    this.computed = computedAttributes(def);
    if (def.expiration) this.written = env.openDB<number, [string, Key]>({ name: WRITTEN_STORE, encoding: 'msgpack' });
    for (const a of def.attributes) {
      if (a.indexed && !a.is_primary_key) {
        this.indexes.set(a.attribute, env.openDB<Key, any>({ name: indexDbiName(def, a), dupSort: true, encoding: 'ordered-binary' }));
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
    const out: Rec = { ...rec };
    for (const [name, f] of this.computed) out[name] = f(rec);
    return out;
  }

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
      // not in lmdb-js's type declarations (3.x API)
      const dbi = this.primary as unknown as { getUserSharedBuffer(id: string, init: ArrayBuffer): ArrayBuffer };
      this.ids = new BigInt64Array(dbi.getUserSharedBuffer('weft:ids', new ArrayBuffer(16)));
    }
    return this.ids;
  }

  /**
   * True when the table has `expiration` and the record was written longer ago than that (spec §3.8). A record
   * without a write time (stored before expiration was set) counts as fresh; the sweep starts its clock.
   */
  isExpired(rec: Rec, now = Date.now()): boolean {
    if (!this.def.expiration || !this.written) return false;
    const t = this.written.get([this.def.name, rec[this.def.primaryKey] as Key]);
    return t !== undefined && t + this.def.expiration * 1000 <= now;
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
