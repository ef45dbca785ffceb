/**
 * Ensuring the tables an application declares (spec §5.1): created when missing, declared attributes added,
 * attribute types and indexes brought in line. Runs once, on the main thread, before workers start, so workers
 * never race to create the same table. Tables are never renamed or dropped here.
 */
import { CREATED_TIME, UPDATED_TIME, indexKeys, type AttributeDef, type Key, type LmdbStorage, type TableDef } from '../storage/index.js';
import type { AttributeSpec, TableSpec } from './schema.js';

function attributeDef(a: AttributeSpec, time: number): AttributeDef {
  const def: AttributeDef = { attribute: a.name, created: time };
  if (a.type) def.type = a.type;
  if (a.elements) def.elements = a.elements;
  if (a.primaryKey) { def.is_primary_key = true; def.indexed = true; }
  else if (a.indexed) def.indexed = true;
  if (!a.nullable) def.nullable = false;
  if (a.createdTime) def.assigned_created_time = true;
  if (a.updatedTime) def.assigned_updated_time = true;
  if (a.expiresAt) def.expires_at = true;
  if (a.computed) {
    def.computed = a.computed.from;
    if (a.computed.version !== undefined) def.computed_version = a.computed.version;
  }
  return def;
}

function setExpirySettings(def: TableDef, spec: TableSpec): void {
  for (const k of ['expiration', 'eviction', 'scanInterval'] as const) {
    if (spec[k]) def[k] = spec[k]; else delete def[k];
  }
}

function sameAttribute(x: AttributeDef, y: AttributeDef): boolean {
  return x.type === y.type && x.elements === y.elements && !!x.indexed === !!y.indexed && x.nullable === y.nullable &&
    !!x.assigned_created_time === !!y.assigned_created_time && !!x.assigned_updated_time === !!y.assigned_updated_time &&
    !!x.expires_at === !!y.expires_at &&
    !!x.is_primary_key === !!y.is_primary_key && x.computed === y.computed && x.computed_version === y.computed_version;
}

export interface EnsureResult {
  created: string[];
  altered: string[];
  warnings: string[];
}

/** Create or bring in line every table of `specs`. Returns what changed (`db.table` names). */
export async function ensureTables(storage: LmdbStorage, specs: TableSpec[], auditDefault: boolean): Promise<EnsureResult> {
  const out: EnsureResult = { created: [], altered: [], warnings: [] };
  for (const spec of specs) {
    const database = storage.openDatabase(spec.database);
    await database.transact((txn) => {
      const time = txn.time;
      const existing = txn.table(spec.table);
      // relationships are joins, never stored: they are not attributes of the table
      const declared = spec.attributes.filter((a) => !a.relationship).map((a) => attributeDef(a, time));
      if (!existing) {
        const def: TableDef = {
          database: spec.database, name: spec.table, primaryKey: spec.primaryKey, attributes: declared, schemaDefined: true,
          audit: spec.audit ?? auditDefault, created: time,
        };
        setExpirySettings(def, spec);
        if (spec.sealed) def.sealed = true;
        txn.saveTable(def);
        out.created.push(`${spec.database}.${spec.table}`);
        return;
      }
      const def: TableDef = structuredClone(existing.def);
      let changed = false;
      const newlyIndexed: string[] = [];
      if (def.primaryKey !== spec.primaryKey) {
        out.warnings.push(`The primary key of ${spec.database}.${spec.table} is ${def.primaryKey}; it cannot be changed to ${spec.primaryKey}`);
      }
      for (const want of declared) {
        if (want.attribute === def.primaryKey) { want.is_primary_key = true; want.indexed = true; }
        else if (want.is_primary_key) { delete want.is_primary_key; if (!spec.attributes.find((a) => a.name === want.attribute)?.indexed) delete want.indexed; }
        const i = def.attributes.findIndex((a) => a.attribute === want.attribute);
        if (i < 0) {
          def.attributes.push(want);
          if (want.indexed && !want.is_primary_key) newlyIndexed.push(want.attribute);
          changed = true;
          continue;
        }
        const have = def.attributes[i]!;
        // The system timestamps of a table made through the operations API stay what they are.
        if (have.attribute === CREATED_TIME || have.attribute === UPDATED_TIME) continue;
        if (sameAttribute(have, want)) continue;
        // a computed attribute whose function changed (new version or expression) gets its index rebuilt
        const recompute = want.computed !== have.computed || want.computed_version !== have.computed_version;
        const indexNow = want.indexed && (!have.indexed || recompute) && !want.is_primary_key;
        // a fresh `created` stamp gives a newly indexed attribute a fresh, empty index dbi
        def.attributes[i] = { ...want, created: indexNow ? time : have.created };
        if (indexNow) newlyIndexed.push(want.attribute);
        changed = true;
      }
      const wantAudit = spec.audit ?? def.audit;
      if (!def.schemaDefined || def.audit !== wantAudit || def.expiration !== spec.expiration || def.eviction !== spec.eviction ||
        def.scanInterval !== spec.scanInterval || !!def.sealed !== spec.sealed) {
        def.schemaDefined = true;
        def.audit = wantAudit;
        setExpirySettings(def, spec);
        if (spec.sealed) def.sealed = true; else delete def.sealed;
        changed = true;
      }
      if (!changed) return;
      const table = txn.saveTable(def);
      for (const name of newlyIndexed) {
        const dbi = table.indexes.get(name);
        if (!dbi) continue;
        for (const rec of table.scan()) for (const k of indexKeys(table.valueOf(rec, name))) dbi.put(k, rec[def.primaryKey] as Key);
      }
      out.altered.push(`${spec.database}.${spec.table}`);
    });
  }
  return out;
}
