/**
 * sql: the `sql` operation (spec §2.9). Parses one statement with node-sql-parser, plans WHERE clauses over storage's
 * indexes, and runs SELECT in this thread (large single-table scans and aggregations in key-range chunks on the
 * background pool, see parallel.ts) or INSERT/UPDATE/DELETE as one transaction each. It owns no data and no
 * write logic of its own (writes go through operations/data.ts helpers), and must never answer malformed SQL with
 * a 5xx.
 */
import { weftError } from '../errors/index.js';
import { runSelect } from './select.js';
import { runDelete, runInsert, runUpdate } from './write.js';
import { parseStatement } from './parse.js';
import type { SqlServices } from './resolve.js';

export type { SqlServices } from './resolve.js';
export type { SqlAccess } from './access.js';
export { runSqlTask, DEFAULT_PARALLEL_THRESHOLD } from './parallel.js';
export { aggregatePartial, mergePartials, finishGroups, type AggSpec, type Partial } from './aggregate.js';

/** Run one SQL statement. `user` is recorded in the audit log of writes. */
export async function executeSql(sql: unknown, services: SqlServices, user?: string): Promise<unknown> {
  if (sql === undefined || sql === null || sql === '') throw weftError('SQL_MISSING');
  if (typeof sql !== 'string') throw weftError('FIELD_TYPE', 'sql', 'a string');
  const stmt = parseStatement(sql);
  switch (stmt.type) {
    case 'select': return runSelect(stmt, services, sql);
    case 'insert': return runInsert(stmt, services, user);
    case 'update': return runUpdate(stmt, services, user);
    case 'delete': return runDelete(stmt, services, user);
  }
}
