/**
 * Streaming CSV load (runs in a pool thread). The input is parsed as it arrives; rows are converted, checked and
 * committed in batches of BATCH_ROWS, one transaction per batch, so memory stays bounded by one batch whatever
 * the input size. A malformed row is rejected with its line number and the load goes on.
 */
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { weftError, WeftError } from '../errors/index.js';
import { checkAttributeName, checkKey, checkNewAttributeName, writeRecords, type WriteOp } from '../operations/index.js';
import { checkRecordTypes, type Key, type Rec } from '../storage/index.js';
import { columnConverters, rowToRecord } from './convert.js';
import type { JobCounts, JobEnv, RejectedRow } from './types.js';

export const BATCH_ROWS = 1000;
const MAX_REPORTED_REJECTS = 100;
/** Persist progress every this many batches (a system-table write each). */
const PROGRESS_EVERY = 10;

export interface LoadTarget { database: string; table: string; action: WriteOp; user: string | null }

export interface LoadProgress {
  counts: JobCounts;
  rejected: RejectedRow[];
  /** Called every PROGRESS_EVERY batches with the running counts. */
  report?: () => Promise<void>;
}

export class JobStopped extends Error {}

/** Slice a byte buffer so the parser never holds more than one slice of records at a time. */
export function* slices(data: Uint8Array, size = 65_536): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield Buffer.from(data.buffer, data.byteOffset + i, Math.min(size, data.length - i));
}

function reject(progress: LoadProgress, line: number, error: string): void {
  progress.counts.rejected++;
  if (progress.rejected.length < MAX_REPORTED_REJECTS) progress.rejected.push({ line, error });
}

export async function loadCsv(source: Readable, target: LoadTarget, opts: { json: boolean }, env: JobEnv, progress: LoadProgress): Promise<void> {
  const { database: db, table, action } = target;
  const database = env.services.storage.database(db);
  const t0 = database?.table(table);
  if (!database || !t0) throw weftError('TABLE_NOT_FOUND', db, table);
  const pk = t0.primaryKey;
  const parser = parse({ bom: true, skip_empty_lines: true, skip_records_with_error: true, info: true });
  parser.on('skip', (err: Error & { lines?: number }) => {
    progress.counts.total++;
    reject(progress, err.lines ?? 0, err.message);
  });
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);

  let header: string[] | undefined;
  let converters: ReturnType<typeof columnConverters> = [];
  let batch: Rec[] = [];
  let keys: Array<Key | undefined> = [];
  let firstLine = 0, lastLine = 0;
  let batches = 0;

  const flush = async () => {
    if (!batch.length) return;
    const records = batch, ks = keys;
    batch = []; keys = [];
    try {
      const { result } = await writeRecords(database, db, table, action, records, ks, target.user ?? undefined);
      progress.counts.written += result.written.length;
      progress.counts.skipped += result.skipped.length;
    } catch (err) {
      throw new Error(`lines ${firstLine}-${lastLine} (${records.length} rows) were not written: ${(err as Error).message}`);
    }
    if (++batches % PROGRESS_EVERY === 0) await progress.report?.();
    if (env.stopping()) throw new JobStopped('the server shut down before the job finished');
  };

  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (!header) {
      header = record;
      for (const c of header) {
        try { checkAttributeName(c); checkNewAttributeName(c); } catch { throw weftError('INVALID_COLUMN_NAME', c); }
      }
      // declared types come from the table as it is now; dynamic tables get their new columns on the first batch
      converters = columnConverters(t0.def, header, opts);
      continue;
    }
    progress.counts.total++;
    let rec: Rec, key: Key | undefined;
    try {
      rec = rowToRecord(header, record, converters);
      if (rec[pk] === '') rec[pk] = undefined; // an empty key cell means "generate one"
      key = checkKey(rec[pk]);
      if (key === undefined) delete rec[pk];
      if (action === 'update' && key === undefined) throw weftError('UPDATE_NEEDS_HASH');
      const problems = checkRecordTypes(t0.def, rec);
      if (problems.length) throw weftError('TYPE_VIOLATION', problems.join('. '));
    } catch (err) {
      reject(progress, info.lines, err instanceof WeftError ? err.message : String((err as Error).message ?? err));
      continue;
    }
    if (!batch.length) firstLine = info.lines;
    lastLine = info.lines;
    batch.push(rec);
    keys.push(key);
    if (batch.length >= BATCH_ROWS) await flush();
  }
  await flush();
}

/** The job's final message: what was written and, when not everything was, what was not and why. */
export function loadMessage(counts: JobCounts, rejected: RejectedRow[], action: WriteOp): string {
  if (counts.total === 0) return 'No records parsed from csv file.';
  let msg = `successfully loaded ${counts.written} of ${counts.total} records`;
  const notes: string[] = [];
  if (counts.skipped) {
    notes.push(`${counts.skipped} skipped by ${action} (${action === 'update' ? 'primary key not found' : 'primary key already exists'})`);
  }
  if (counts.rejected) {
    const shown = rejected.slice(0, 10).map((r) => `line ${r.line}: ${r.error}`).join('; ');
    notes.push(`${counts.rejected} rejected (${shown}${counts.rejected > 10 ? '; ...' : ''})`);
  }
  if (notes.length) msg += `. Not written: ${notes.join(', ')}`;
  return msg;
}
