/** Database, table and attribute operations (spec §2.7). */
import { weftError } from '../errors/index.js';
import { CREATED_TIME, UPDATED_TIME, type AttributeDef, type Database, type Table, type TableDef } from '../storage/index.js';
import {
  assertWritable, checkName, databaseName, optionalBoolean, optionalInteger, requireString, resolveDatabase, resolveTable, tableName,
} from './validate.js';
import type { Handler, ServerServices } from './types.js';

export const createDatabase: Handler = async (req, _ctx, services) => {
  const db = databaseName(req);
  if (db === 'system' || services.storage.hasDatabase(db)) throw weftError('DATABASE_EXISTS', db);
  services.storage.openDatabase(db);
  services.cluster.schemaChanged(db);
  return { message: `database '${db}' successfully created` };
};

export const dropDatabase: Handler = async (req, ctx, services) => {
  if (req.database === undefined || req.database === null || req.database === '') throw weftError('FIELD_REQUIRED', 'database');
  const db = databaseName(req);
  if (db === 'system') throw weftError('SYSTEM_DATABASE');
  resolveDatabase(services, db);
  await services.cluster.dropDatabase(db);
  void ctx;
  return { message: `successfully deleted '${db}'` };
};

function parseAttributes(raw: unknown, primaryKey: string | undefined, time: number): { attributes: AttributeDef[]; primaryKey: string } {
  if (!Array.isArray(raw)) throw weftError('FIELD_TYPE', 'attributes', 'an array');
  let pk = primaryKey;
  const attributes: AttributeDef[] = [];
  for (const a of raw) {
    if (!a || typeof a !== 'object' || typeof (a as any).name !== 'string') throw weftError('VALIDATION', "'attributes' must be an array of objects with a 'name'");
    const name = checkName((a as any).name, 'attribute');
    const def: AttributeDef = { attribute: name, created: time };
    if (typeof (a as any).type === 'string') def.type = (a as any).type;
    if ((a as any).is_primary_key === true && !pk) pk = name;
    if ((a as any).indexed === true) def.indexed = true;
    if (name === CREATED_TIME) def.assigned_created_time = true;
    if (name === UPDATED_TIME) def.assigned_updated_time = true;
    attributes.push(def);
  }
  if (!pk) throw weftError('VALIDATION', 'A primary key must be specified with a `primary_key` property or with `attributes`');
  const pkDef = attributes.find((a) => a.attribute === pk);
  if (pkDef) { pkDef.is_primary_key = true; pkDef.indexed = true; }
  else attributes.unshift({ attribute: pk, is_primary_key: true, indexed: true, created: time });
  return { attributes, primaryKey: pk };
}

export const createTable: Handler = async (req, ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  assertWritable(db, table, false);
  const pkRaw = req.primary_key;
  if (pkRaw !== undefined && pkRaw !== null && typeof pkRaw !== 'string') throw weftError('FIELD_TYPE', 'primary_key', 'a string');
  const expiration = optionalInteger(req, 'expiration', 1);
  const audit = optionalBoolean(req, 'audit') ?? services.config.logging.auditLog;
  const time = Date.now();
  let def: TableDef;
  if (req.attributes !== undefined && req.attributes !== null) {
    const { attributes, primaryKey } = parseAttributes(req.attributes, (pkRaw as string) || undefined, time);
    checkName(primaryKey, 'primary_key');
    def = { database: db, name: table, primaryKey, attributes, schemaDefined: true, audit, created: time };
  } else {
    if (!pkRaw) throw weftError('PRIMARY_KEY_REQUIRED');
    const pk = checkName(pkRaw as string, 'primary_key');
    def = {
      database: db, name: table, primaryKey: pk, schemaDefined: false, audit, created: time,
      attributes: [
        { attribute: pk, is_primary_key: true, indexed: true, created: time },
        { attribute: CREATED_TIME, indexed: true, assigned_created_time: true, created: time },
        { attribute: UPDATED_TIME, indexed: true, assigned_updated_time: true, created: time },
      ],
    };
  }
  if (expiration) def.expiration = expiration;
  const database = services.storage.openDatabase(db);
  await database.transact((txn) => {
    if (txn.table(table)) throw weftError('TABLE_EXISTS', db, table);
    txn.saveTable(def);
  }, ctx.user?.username);
  services.cluster.schemaChanged(db);
  return { message: `table '${db}.${table}' successfully created.` };
};

export const dropTable: Handler = async (req, ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  assertWritable(db, table, false);
  const { database } = resolveTable(services, db, table);
  await database.transact((txn) => {
    const t = txn.table(table);
    if (!t) throw weftError('TABLE_NOT_FOUND', db, table);
    txn.dropTable(t);
  }, ctx.user?.username);
  services.cluster.schemaChanged(db);
  return { message: `successfully deleted table '${db}.${table}'` };
};

export const createAttribute: Handler = async (req, ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  const attribute = checkName(requireString(req, 'attribute'), 'attribute');
  // changing the shape of a system table is never allowed, even for super users (only their record writes are)
  assertWritable(db, table, false);
  const indexed = optionalBoolean(req, 'indexed') ?? true;
  const { database } = resolveTable(services, db, table);
  await database.transact((txn) => {
    const t = txn.table(table);
    if (!t) throw weftError('TABLE_NOT_FOUND', db, table);
    if (t.hasAttribute(attribute)) throw weftError('ATTRIBUTE_EXISTS', attribute, db, table);
    txn.addAttribute(t, { attribute, indexed });
  }, ctx.user?.username);
  services.cluster.schemaChanged(db);
  return { message: `attribute '${db}.${table}.${attribute}' successfully created.` };
};

export const dropAttribute: Handler = async (req, ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  const attribute = requireString(req, 'attribute');
  assertWritable(db, table, false);
  const { database, table: t } = resolveTable(services, db, table);
  if (attribute === t.primaryKey) throw weftError('DROP_HASH_ATTRIBUTE');
  if (attribute === CREATED_TIME || attribute === UPDATED_TIME) throw weftError('DROP_TIMESTAMP', attribute);
  if (!t.hasAttribute(attribute)) throw weftError('ATTRIBUTE_NOT_FOUND', attribute);
  await database.transact((txn) => {
    const cur = txn.table(table);
    if (!cur || !cur.hasAttribute(attribute)) throw weftError('ATTRIBUTE_NOT_FOUND', attribute);
    txn.dropAttribute(cur, attribute);
  }, ctx.user?.username);
  services.cluster.schemaChanged(db);
  return { message: `successfully deleted attribute '${attribute}'` };
};

/** The table object of describe_table / describe_database / describe_all. */
export function describeTableObject(database: Database, t: Table): Record<string, unknown> {
  const def = t.def;
  const attributes = def.attributes.map((a) => {
    const out: Record<string, unknown> = { attribute: a.attribute };
    if (a.type) out.type = a.type;
    if (a.elements) out.elements = a.elements;
    if (a.indexed || a.is_primary_key) out.indexed = true;
    if (a.is_primary_key) out.is_primary_key = true;
    if (a.assigned_created_time) out.assigned_created_time = true;
    if (a.assigned_updated_time) out.assigned_updated_time = true;
    if (a.nullable !== undefined) out.nullable = a.nullable;
    return out;
  });
  const out: Record<string, unknown> = {
    schema: def.database,
    name: def.name,
    hash_attribute: def.primaryKey,
    audit: def.audit,
    schema_defined: def.schemaDefined,
    attributes,
    db_size: database.sizeBytes(),
    record_count: t.recordCount(),
    table_size: t.sizeBytes(),
    db_audit_size: database.auditSizeBytes(),
  };
  const last = database.lastUpdated(def.name);
  if (last !== undefined) out.last_updated_record = last;
  if (def.expiration) out.expiration = `${def.expiration}s`;
  return out;
}

export const describeTable: Handler = (req, _ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  optionalBoolean(req, 'exact_count');
  optionalBoolean(req, 'include_computed');
  const { database, table: t } = resolveTable(services, db, table);
  return describeTableObject(database, t);
};

export function describeDatabaseObject(database: Database): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of database.tableNames()) out[name] = describeTableObject(database, database.table(name)!);
  return out;
}

export const describeDatabase: Handler = (req, _ctx, services) => {
  const db = databaseName(req);
  return describeDatabaseObject(resolveDatabase(services, db));
};

export const describeAll: Handler = (req, _ctx, services: ServerServices) => {
  optionalBoolean(req, 'exact_count');
  const out: Record<string, unknown> = {};
  for (const db of services.storage.databaseNames()) {
    if (db === 'system') continue;
    const database = services.storage.database(db);
    if (database) out[db] = describeDatabaseObject(database);
  }
  return out;
};
