/**
 * One write transaction of one database. Created by Database.transact inside the LMDB write lock; everything done
 * through it commits atomically or not at all. Keeps secondary indexes and the audit log in step with the records.
 */
import { randomUUID, randomInt } from 'node:crypto';
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

export class WriteTxn {
  readonly time: number;
  readonly user: string | undefined;
  private seq = 0;
  schemaChanged = false;

  constructor(private readonly db: Database, time: number, user?: string) {
    this.time = time;
    this.user = user;
  }

  table(name: string): Table | undefined {
    return this.db.table(name);
  }

  get(table: Table, id: Key): Rec | undefined {
    return table.primary.get(id);
  }

  /** Write a full record (the caller has merged it). Returns the record as stored. */
  put(table: Table, id: Key, record: Rec, kind: WriteKind, previous?: Rec | null, opts?: PutOptions): Rec {
    const prev = previous === undefined ? table.primary.get(id) : previous ?? undefined;
    table.primary.put(id, record, opts?.version ?? this.time);
    if (table.expiring) this.setExpiry(table, id, this.expiryFor(table, record, opts?.expiresAt));
    for (const [attr, dbi] of table.indexes) {
      const oldKeys = prev ? indexKeys(table.valueOf(prev, attr)) : [];
      const newKeys = indexKeys(table.valueOf(record, attr));
      for (const k of oldKeys) if (!newKeys.includes(k)) dbi.remove(k, id);
      for (const k of newKeys) if (!oldKeys.includes(k)) dbi.put(k, id);
    }
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
    const old = table.metaStore.get(id);
    if (old?.expiresAt !== undefined) table.expiryIndex.remove(old.expiresAt, id);
    table.metaStore.put(id, expiresAt === undefined ? { written: this.time } : { expiresAt, written: this.time });
    if (expiresAt !== undefined) table.expiryIndex.put(expiresAt, id);
  }

  /** Mark a record stale now, keeping when it was written (a cache invalidation). */
  invalidate(table: Table, id: Key): void {
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
    const prev = table.primary.get(id);
    if (prev === undefined) return false;
    table.primary.remove(id);
    if (table.expiring) this.dropExpiry(table, id);
    for (const [attr, dbi] of table.indexes) for (const k of indexKeys(table.valueOf(prev, attr))) dbi.remove(k, id);
    this.audit(table, 'delete', id, undefined);
    return true;
  }

  /** Stamp __createdtime__/__updatedtime__ (or @createdTime/@updatedTime fields) with this transaction's time. */
  stampTimes(table: Table, record: Rec, prev: Rec | undefined): void {
    for (const a of table.def.attributes) {
      if (a.assigned_created_time) record[a.attribute] = prev?.[a.attribute] ?? this.time;
      if (a.assigned_updated_time) record[a.attribute] = this.time;
    }
  }

  private audit(table: Table, kind: WriteKind, id: Key, record: Rec | undefined): void {
    if (!table.def.audit) return;
    this.db.auditStore.put([this.time, this.seq++], { table: table.name, operation: kind, user: this.user, id, record });
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
    table.primary.clearSync();
    for (const dbi of table.indexes.values()) dbi.clearSync();
    table.metaStore.clearSync();
    table.expiryIndex.clearSync();
    this.db.catalogStore.remove(['table', table.name]);
    this.db.catalogStore.remove(['ids', table.name]);
    this.schemaChanged = true;
  }

  /** A new primary key: a UUID for string keys, else the next number of this node's random block (spec §3.4). */
  newId(table: Table): Key {
    const pkAttr = table.attribute(table.primaryKey);
    const t = pkAttr?.type;
    if (t === 'String' || t === 'ID') return randomUUID();
    const blockSize = t === 'Int' ? 1024 : ID_BLOCK;
    const space = t === 'Int' ? 2 ** 31 : ID_SPACE;
    const key = ['ids', table.name];
    let state = this.db.catalogStore.get(key) as { next: number; end: number } | undefined;
    while (!state || state.next >= state.end) {
      const start = randomInt(0, Math.floor((space - blockSize) / blockSize)) * blockSize;
      let taken = false;
      for (const _ of table.primary.getKeys({ start, end: start + blockSize, limit: 1 })) taken = true;
      if (!taken) state = { next: start, end: start + blockSize };
    }
    let id = state.next++;
    while (table.primary.doesExist(id) && state.next < state.end) id = state.next++;
    this.db.catalogStore.put(key, state);
    return id;
  }
}

export { CREATED_TIME, UPDATED_TIME };
