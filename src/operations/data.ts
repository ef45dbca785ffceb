/** insert / update / upsert / delete (spec §2.8, §3.2): every request is one transaction. */
import { weftError } from '../errors/index.js';
import {
  checkRecordTypes, copyWithKey, type Database, type Key, type Rec, type Table, type TransactResult, type WriteTxn,
} from '../storage/index.js';
import { isSuperUser } from '../auth/index.js';
import { assertWritable, databaseName, resolveTable, tableName } from './validate.js';
import type { Handler } from './types.js';

export type WriteOp = 'insert' | 'update' | 'upsert';
const MAX_KEY_BYTES = 1978;

export function checkAttributeName(name: string): void {
  if (name === '' || name === 'null' || name === 'undefined') throw weftError('INVALID_ATTRIBUTE_NAME', name);
  if (name.trim() === '') throw weftError('ATTRIBUTE_NAME_BLANK');
}

export function checkNewAttributeName(name: string): void {
  if (name.includes('/') || name.includes('`')) throw weftError('ATTRIBUTE_NAME_CHARS');
  if (Buffer.byteLength(name) > 250) throw weftError('ATTRIBUTE_NAME_TOO_LONG', name);
}

/** A primary-key value from a request, or undefined when absent (a key will be generated). */
export function checkKey(v: unknown): Key | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'null' || v === 'undefined') throw weftError('INVALID_HASH_VALUE', v);
  if (typeof v === 'string' || typeof v === 'number') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw weftError('INVALID_PRIMARY_KEY_TYPE', 'number');
    if (typeof v === 'string' && Buffer.byteLength(v) > MAX_KEY_BYTES) throw weftError('PRIMARY_KEY_TOO_LARGE', Buffer.byteLength(v));
    return v;
  }
  if (Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string' || typeof p === 'number')) {
    const len = Buffer.byteLength(JSON.stringify(v));
    if (len > MAX_KEY_BYTES) throw weftError('PRIMARY_KEY_TOO_LARGE', len);
    return v as Key;
  }
  throw weftError('INVALID_PRIMARY_KEY_TYPE', Array.isArray(v) ? 'array' : typeof v);
}

function parseRecords(req: Record<string, unknown>): Rec[] {
  const records = req.records;
  if (records === undefined || records === null) throw weftError('FIELD_REQUIRED', 'records');
  if (!Array.isArray(records)) throw weftError('FIELD_TYPE', 'records', 'an array');
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw weftError('VALIDATION', `'records[${i}]' must be an object`);
    for (const k of Object.keys(r)) checkAttributeName(k);
  }
  return records as Rec[];
}

export interface WriteOutcome { written: Key[]; skipped: Key[]; newAttributes: string[]; schemaDefined: boolean }

/** Check record attribute names and declared types; returns each record's key (undefined = generate one). */
export function checkRecords(t: Table, op: WriteOp, records: Rec[]): Array<Key | undefined> {
  for (const r of records) for (const k of Object.keys(r)) checkAttributeName(k);
  const keys = records.map((r) => checkKey(r[t.primaryKey]));
  if (op === 'update' && keys.some((k) => k === undefined)) throw weftError('UPDATE_NEEDS_HASH');
  for (const r of records) {
    const problems = checkRecordTypes(t.def, r);
    if (problems.length) throw weftError('TYPE_VIOLATION', problems.join('. '));
  }
  return keys;
}

/**
 * Write checked records inside a transaction: adds new attributes on dynamic tables (spec §3.2), then applies the
 * records in order. Shared by the NoSQL operations and SQL INSERT/UPDATE.
 */
export function applyWrites(txn: WriteTxn, db: string, tableName: string, op: WriteOp, records: Rec[], keys: Array<Key | undefined>): WriteOutcome {
  let t = txn.table(tableName);
  if (!t) throw weftError('TABLE_NOT_FOUND', db, tableName).withStatus(400);
  let newAttributes: string[] = [];
  if (!t.def.schemaDefined) {
    const unknown = new Set<string>();
    for (const r of records) for (const k of Object.keys(r)) if (!t.hasAttribute(k)) unknown.add(k);
    for (const k of unknown) checkNewAttributeName(k);
    if (unknown.size) {
      newAttributes = txn.addAttributes(t, unknown);
      t = txn.table(tableName)!;
    }
  }
  const written: Key[] = [];
  const skipped: Key[] = [];
  for (let i = 0; i < records.length; i++) {
    const outcome = writeOne(txn, t, op, records[i]!, keys[i]);
    (outcome.written ? written : skipped).push(outcome.id);
  }
  return { written, skipped, newAttributes, schemaDefined: t.def.schemaDefined };
}

/** The response body of insert/update/upsert (spec §2.8). */
export function writeResponse(op: WriteOp, result: WriteOutcome, total: number, txnTime: number): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const verb = op === 'insert' ? 'inserted' : op === 'update' ? 'updated' : 'upserted';
  body.message = `${verb} ${result.written.length} of ${total} records`;
  if (!result.schemaDefined) body.new_attributes = result.newAttributes;
  body.txn_time = txnTime;
  if (op === 'insert') { body.inserted_hashes = result.written; body.skipped_hashes = result.skipped; }
  else if (op === 'update') { body.update_hashes = result.written; body.skipped_hashes = result.skipped; }
  else body.upserted_hashes = result.written;
  return body;
}

function write(op: WriteOp): Handler {
  return async (req, ctx, services) => {
    const db = databaseName(req);
    const table = tableName(req);
    assertWritable(db, table, isSuperUser(ctx.user));
    const { database, table: t0 } = resolveTable(services, db, table, 400);
    const records = parseRecords(req);
    const keys = checkRecords(t0, op, records);
    const { result, txnTime } = await writeRecords(database, db, table, op, records, keys, ctx.user?.username);
    if (result.newAttributes.length) services.cluster.schemaChanged(db);
    return writeResponse(op, result, records.length, txnTime);
  };
}

/** insert/update/upsert of checked records as one atomic transaction (used by the operations and bulk loads). */
export function writeRecords(
  database: Database, db: string, table: string, op: WriteOp, records: Rec[], keys: Array<Key | undefined>, user?: string,
): Promise<TransactResult<WriteOutcome>> {
  // optimistic: records are checked at commit instead of holding the write lock while JavaScript runs (WriteTxn);
  // a new attribute on a dynamic table needs the lock and reruns locked
  return database.transact((txn) => applyWrites(txn, db, table, op, records, keys), user, { optimistic: true });
}

/** Apply one record of a request (later records see earlier ones: they run in the same transaction). */
export function writeOne(txn: WriteTxn, t: Table, op: WriteOp, input: Rec, key: Key | undefined): { id: Key; written: boolean } {
  const pk = t.primaryKey;
  const id = key ?? txn.newId(t);
  const existing = key === undefined ? undefined : txn.get(t, id);
  if (op === 'insert' && existing) return { id, written: false };
  if (op === 'update' && !existing) return { id, written: false };
  // merge: the stored record keeps every top-level property the submission does not mention (spec §3.2)
  const record = existing ? copyWithKey(existing, pk, id, input) : copyWithKey(input, pk, id);
  txn.stampTimes(t, record, existing);
  txn.put(t, id, record, op, existing ?? null);
  return { id, written: true };
}

export const insert = write('insert');
export const update = write('update');
export const upsert = write('upsert');

export const deleteRecords: Handler = async (req, ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  assertWritable(db, table, isSuperUser(ctx.user));
  const ids = req.ids;
  if (ids === undefined || ids === null) throw weftError('FIELD_REQUIRED', 'hash_values');
  if (!Array.isArray(ids)) throw weftError('FIELD_TYPE', 'hash_values', 'an array');
  const keys = ids.map((v) => checkKey(v)).filter((k): k is Key => k !== undefined);
  const { database } = resolveTable(services, db, table, 404);
  const { txnTime } = await database.transact((txn) => {
    const t = txn.table(table);
    if (!t) throw weftError('TABLE_NOT_FOUND', db, table);
    for (const k of keys) txn.remove(t, k);
  }, ctx.user?.username, { optimistic: true });
  // Harper reports ids that did not exist under deleted_hashes too (spec §2.8, §10 item 8)
  const n = keys.length;
  return {
    message: `${n} of ${n} record${n === 1 ? '' : 's'} successfully deleted`,
    deleted_hashes: keys,
    skipped_hashes: [],
    txn_time: txnTime,
  };
};
