/** delete_records_before (runs in a pool thread): removes records created before a date, 1,000 per transaction. */
import { weftError } from '../errors/index.js';
import { search, type Key, type Table } from '../storage/index.js';
import { BATCH_ROWS, JobStopped } from './csv-load.js';
import type { JobCounts, JobEnv } from './types.js';

/** The created-time attribute of a table (__createdtime__ or an @createdTime field), or undefined. */
export function createdTimeAttribute(t: Table): { attribute: string; type?: string } | undefined {
  const a = t.def.attributes.find((x) => x.assigned_created_time);
  return a ? { attribute: a.attribute, type: a.type } : undefined;
}

export async function runDeleteBefore(
  req: { database: string; table: string; date: string }, user: string | null, env: JobEnv, counts: JobCounts,
): Promise<string> {
  const database = env.services.storage.database(req.database);
  const t0 = database?.table(req.table);
  if (!database || !t0) throw weftError('TABLE_NOT_FOUND', req.database, req.table);
  const created = createdTimeAttribute(t0);
  if (!created) throw weftError('NO_CREATED_TIME');
  const ms = new Date(req.date).getTime();
  // compare in the attribute's own representation (epoch ms, Date or ISO string)
  const bound = created.type === 'Date' ? new Date(ms) : created.type === 'String' ? new Date(ms).toISOString() : ms;
  for (;;) {
    const t = database.table(req.table);
    if (!t) break;
    const ids: Key[] = [];
    for (const r of search(t, { attribute: created.attribute, comparator: 'less_than', value: bound }, { limit: BATCH_ROWS })) {
      ids.push(r[t.primaryKey] as Key);
    }
    if (!ids.length) break;
    const { result } = await database.transact((txn) => {
      const tt = txn.table(req.table)!;
      let n = 0;
      for (const id of ids) if (txn.remove(tt, id)) n++;
      return n;
    }, user ?? undefined);
    counts.total += ids.length;
    counts.written += result;
    if (result === 0) break; // nothing removable left in this batch: stop rather than spin
    if (env.stopping()) throw new JobStopped(`the server shut down before the job finished; ${counts.written} records had been deleted`);
  }
  if (counts.written === 0) return 'No records found to delete';
  return `Successfully deleted ${counts.written} records created before ${req.date}`;
}
