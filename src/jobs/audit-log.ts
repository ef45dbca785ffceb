/**
 * read_audit_log and read_transaction_log (spec §2.13) over Database.auditEntries(): one entry per transaction of
 * the table (consecutive audit rows sharing time, operation and user). `put` is reported as `upsert`.
 */
import { weftError } from '../errors/index.js';
import type { Database, Key, Rec } from '../storage/index.js';
import {
  databaseName, optionalInteger, resolveTable, tableName, type OperationRequest, type ServerServices,
} from '../operations/index.js';
import type { RequestContext } from '../auth/index.js';

interface Txn { operation: string; user: string | undefined; timestamp: number; ids: Key[]; records: Rec[] }

function* transactions(database: Database, table: string, from = 0, to = Infinity): Generator<Txn> {
  let cur: Txn | undefined;
  for (const e of database.auditEntries(from, to)) {
    if (e.table !== table) continue;
    const operation = e.operation === 'put' ? 'upsert' : e.operation;
    if (cur && cur.timestamp === e.timestamp && cur.operation === operation && cur.user === e.user) {
      cur.ids.push(e.id);
      if (e.record) cur.records.push(e.record);
      continue;
    }
    if (cur) yield cur;
    cur = { operation, user: e.user, timestamp: e.timestamp, ids: [e.id], records: e.record ? [e.record] : [] };
  }
  if (cur) yield cur;
}

function auditEntry(t: Txn, ids = t.ids, records = t.records): Record<string, unknown> {
  const out: Record<string, unknown> = { operation: t.operation, user_name: t.user ?? null, timestamp: t.timestamp, hash_values: ids };
  if (t.operation !== 'delete') out.records = records;
  return out;
}

function* limited<T>(it: Iterable<T>, limit: number | undefined): Generator<T> {
  if (limit === 0) return;
  let n = 0;
  for (const v of it) {
    yield v;
    if (limit !== undefined && ++n >= limit) return;
  }
}

function timeValue(v: unknown, field: string): number {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+(\.\d+)?$/.test(v) ? Number(v) : new Date(v).getTime()) : NaN;
  if (Number.isNaN(ms)) throw weftError('VALIDATION', `'${field}' must be a timestamp (epoch ms) or an ISO-8601 date`);
  return ms;
}

const sameKey = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b) || String(a) === String(b);

export function readAuditLog(req: OperationRequest, _ctx: RequestContext, services: ServerServices) {
  const db = databaseName(req);
  const table = tableName(req);
  const { database } = resolveTable(services, db, table, 404);
  const limit = optionalInteger(req, 'limit', 1);
  const type = req.search_type ?? req.comparator ?? 'timestamp';
  const values = req.search_values;
  if (values !== undefined && values !== null && !Array.isArray(values)) throw weftError('FIELD_TYPE', 'search_values', 'an array');
  const list = (values ?? []) as unknown[];
  switch (type) {
    case 'timestamp': {
      const from = list[0] !== undefined ? timeValue(list[0], 'search_values') : 0;
      const to = list[1] !== undefined ? timeValue(list[1], 'search_values') : Infinity;
      return limited((function* () { for (const t of transactions(database, table, from, to)) yield auditEntry(t); })(), limit);
    }
    case 'hash_value': {
      const out: Record<string, unknown[]> = {};
      for (const id of list) out[String(id)] = [];
      for (const t of transactions(database, table)) {
        for (const id of list) {
          const idx: number[] = [];
          t.ids.forEach((k, i) => { if (sameKey(k, id)) idx.push(i); });
          if (!idx.length) continue;
          const bucket = out[String(id)]!;
          if (limit !== undefined && bucket.length >= limit) continue;
          const recs = t.operation === 'delete' ? [] : idx.map((i) => t.records[i]).filter((r): r is Rec => !!r);
          bucket.push(auditEntry(t, idx.map((i) => t.ids[i]!), recs));
        }
      }
      return out;
    }
    case 'username': {
      const out: Record<string, unknown[]> = {};
      for (const u of list) out[String(u)] = [];
      for (const t of transactions(database, table)) {
        const bucket = t.user !== undefined ? out[t.user] : undefined;
        if (!bucket || (limit !== undefined && bucket.length >= limit)) continue;
        bucket.push(auditEntry(t));
      }
      return out;
    }
    default:
      throw weftError('VALIDATION', "'search_type' must be one of [hash_value, timestamp, username]");
  }
}

export function readTransactionLog(req: OperationRequest, _ctx: RequestContext, services: ServerServices) {
  const db = databaseName(req);
  const table = tableName(req);
  const { database } = resolveTable(services, db, table, 404);
  const limit = optionalInteger(req, 'limit', 1);
  const from = req.from !== undefined && req.from !== null ? timeValue(req.from, 'from') : 0;
  const to = req.to !== undefined && req.to !== null ? timeValue(req.to, 'to') : Infinity;
  return limited((function* () {
    for (const t of transactions(database, table, from, to)) {
      const out: Record<string, unknown> = { operation: t.operation, user: t.user ?? null, timestamp: t.timestamp, hash_values: t.ids };
      if (t.operation !== 'delete') out.records = t.records;
      yield out;
    }
  })(), limit);
}
