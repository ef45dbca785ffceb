/**
 * INSERT, UPDATE and DELETE. Each statement is one transaction; UPDATE and DELETE find their rows inside it, so a
 * concurrent writer cannot slip between the read and the write. Record checks and writes are the NoSQL operations'
 * own (operations/data.ts), so both APIs answer with the same shapes and the same validation messages.
 */
import { weftError } from '../errors/index.js';
import { search, type Key, type Rec } from '../storage/index.js';
import { applyWrites, checkRecords, writeResponse } from '../operations/internal.js';
import { columnName, compileExpr, newScope, type Scope } from './compile.js';
import { planWhere } from './plan.js';
import { resolveTableRef, type SqlServices } from './resolve.js';
import { truthy } from './values.js';
import type { Evaluator, Node } from './types.js';
import { sourceChecks } from './access.js';

function target(stmt: Node, services: SqlServices) {
  const ref = (Array.isArray(stmt.table) ? stmt.table[0] : stmt.table) as Node | undefined;
  if (!ref?.table) throw weftError('SQL_PARSE');
  const db = ref.db ?? ref.schema;
  if (!db) throw weftError('SQL_NO_SCHEMA');
  if (String(db) === 'system') throw weftError('SYSTEM_DATABASE');
  const src = resolveTableRef(ref, services, 'write');
  const database = services.storage.database(src.database)!;
  return { src, database, db: src.database, name: src.table.name };
}

function noAsync(scope: Scope): void {
  if (scope.pre.length) throw weftError('SQL_UNSUPPORTED', 'SEARCH_JSON in INSERT, UPDATE or DELETE');
}

export async function runInsert(stmt: Node, services: SqlServices, user?: string): Promise<Record<string, unknown>> {
  const { src, database, db, name } = target(stmt, services);
  const values = Array.isArray(stmt.values) ? stmt.values : stmt.values?.type === 'values' ? stmt.values.values : undefined;
  if (!values) throw weftError('SQL_UNSUPPORTED', 'INSERT ... SELECT');
  const columns = (stmt.columns ?? []).map((c: unknown) => (typeof c === 'string' ? c : columnName({ type: 'column_ref', column: c })));
  if (!columns.length) throw weftError('SQL_BAD_ARGUMENTS', 'INSERT needs a column list: INSERT INTO db.table (a, b) VALUES (...)');
  const scope = newScope([]);
  const records: Rec[] = (values as Node[]).map((row) => {
    const exprs = (row.type === 'expr_list' ? row.value : row) as Node[];
    if (!Array.isArray(exprs) || exprs.length !== columns.length) {
      throw weftError('SQL_BAD_ARGUMENTS', `INSERT has ${columns.length} columns but a row of ${Array.isArray(exprs) ? exprs.length : 0} values`);
    }
    const rec: Rec = {};
    exprs.forEach((e, i) => { rec[columns[i]!] = compileExpr(e, scope)({ recs: [] }); });
    return rec;
  });
  noAsync(scope);
  if (services.access) {
    services.access.writes(columns);
    services.access.check([{ database: db, table: name, actions: ['insert'], attributes: columns, primaryKey: src.table.primaryKey }]);
  }
  const keys = checkRecords(src.table, 'insert', records);
  const { result, txnTime } = await database.transact((txn) => applyWrites(txn, db, name, 'insert', records, keys), user);
  if (result.newAttributes.length) services.schemaChanged(db);
  return writeResponse('insert', result, records.length, txnTime);
}

/** The rows of the target table that `where` accepts, read inside the current transaction. */
function matching(t: import('../storage/index.js').Table, where: Node | undefined, scope: Scope, pred: Evaluator | undefined): Rec[] {
  const tree = planWhere(where, scope, 0);
  const out: Rec[] = [];
  for (const rec of tree ? search(t, tree) : t.scan()) if (!pred || truthy(pred({ recs: [rec] }))) out.push(rec);
  return out;
}

export async function runUpdate(stmt: Node, services: SqlServices, user?: string): Promise<Record<string, unknown>> {
  if (stmt.from?.length) throw weftError('SQL_UNSUPPORTED', 'UPDATE ... FROM');
  const { src, database, db, name } = target(stmt, services);
  const scope = newScope([src]);
  const pk = src.table.primaryKey;
  const sets = (stmt.set as Node[] ?? []).map((s) => {
    const column = typeof s.column === 'string' ? s.column : columnName({ type: 'column_ref', column: s.column });
    if (column === pk) throw weftError('SQL_UNSUPPORTED', 'changing the primary key with UPDATE');
    return { column, eval: compileExpr(s.value, scope) };
  });
  if (!sets.length) throw weftError('SQL_PARSE');
  const pred = stmt.where ? compileExpr(stmt.where, scope) : undefined;
  noAsync(scope);
  if (services.access) {
    const columns = sets.map((s) => s.column);
    services.access.writes(columns);
    services.access.check([
      { database: db, table: name, actions: ['update'], attributes: columns, primaryKey: pk },
      ...sourceChecks([src], scope, null, 'read'),
    ]);
  }
  const { result, txnTime } = await database.transact((txn) => {
    const t = txn.table(name);
    if (!t) throw weftError('TABLE_NOT_FOUND', db, name);
    const rows = matching(t, stmt.where, { ...scope, sources: [{ ...src, table: t }] }, pred);
    const records = rows.map((rec) => {
      const input: Rec = { [pk]: rec[pk] };
      for (const s of sets) input[s.column] = s.eval({ recs: [rec] });
      return input;
    });
    const keys = checkRecords(t, 'update', records);
    return { outcome: applyWrites(txn, db, name, 'update', records, keys), total: records.length };
  }, user);
  if (result.outcome.newAttributes.length) services.schemaChanged(db);
  return writeResponse('update', result.outcome, result.total, txnTime);
}

export async function runDelete(stmt: Node, services: SqlServices, user?: string): Promise<Record<string, unknown>> {
  const { src, database, db, name } = target(stmt, services);
  const scope = newScope([src]);
  const pred = stmt.where ? compileExpr(stmt.where, scope) : undefined;
  noAsync(scope);
  if (services.access) services.access.check([{ database: db, table: name, actions: ['delete'] }, ...sourceChecks([src], scope, null, 'read')]);
  const { result } = await database.transact((txn) => {
    const t = txn.table(name);
    if (!t) throw weftError('TABLE_NOT_FOUND', db, name);
    const ids = matching(t, stmt.where, { ...scope, sources: [{ ...src, table: t }] }, pred).map((r) => r[t.primaryKey] as Key);
    const deleted: Key[] = [];
    const skipped: Key[] = [];
    for (const id of ids) (txn.remove(t, id) ? deleted : skipped).push(id);
    return { deleted, skipped };
  }, user);
  const n = result.deleted.length;
  const total = n + result.skipped.length;
  // spec §2.9: the SQL DELETE body has no txn_time
  return {
    message: `${n} of ${total} record${total === 1 ? '' : 's'} successfully deleted`,
    deleted_hashes: result.deleted,
    skipped_hashes: result.skipped,
  };
}
