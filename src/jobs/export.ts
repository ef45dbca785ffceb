/**
 * export_local (runs in a pool thread): runs the request's search_operation and streams the rows into
 * `<path>/<filename or epoch>.<format>`. Rows are written as they come, through a temporary file renamed at the
 * end, so a failed export never leaves a file that looks complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import { UserStore } from '../auth/index.js';
import type { Rec } from '../storage/index.js';
import { JobStopped } from './csv-load.js';
import type { JobCounts, JobEnv } from './types.js';

export interface ExportRequest {
  format: 'json' | 'csv';
  path: string;
  filename?: string;
  search_operation: Record<string, unknown>;
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return v != null && typeof v === 'object' && typeof (v as any)[Symbol.iterator] === 'function';
}

function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;
}

/** Columns for CSV: the projection asked for, else the table's attributes, else the keys of the first rows. */
function csvColumns(req: ExportRequest, env: JobEnv, firstRows: Rec[]): string[] {
  const op = req.search_operation;
  const attrs = (op.get_attributes ?? op.select) as unknown;
  if (Array.isArray(attrs) && attrs.length && !attrs.includes('*')) return attrs.map(String);
  const cols: string[] = [];
  const seen = new Set<string>();
  const add = (k: string) => { if (!seen.has(k)) { seen.add(k); cols.push(k); } };
  if (typeof op.table === 'string') {
    const t = env.services.storage.database(String(op.database ?? op.schema ?? 'data'))?.table(op.table);
    for (const a of t?.attributeNames() ?? []) add(a);
  }
  for (const r of firstRows) for (const k of Object.keys(r)) add(k);
  return cols;
}

async function write(out: fs.WriteStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

export async function runExport(req: ExportRequest, user: string | null, env: JobEnv, counts: JobCounts): Promise<string> {
  const { services } = env;
  const users = new UserStore(services.storage, 0);
  const who = user ? users.user(user) ?? null : null;
  const result = await env.executeOperation(
    { ...req.search_operation }, { user: who, ip: '', transport: 'internal', requestId: 'export' }, services,
  );
  const rows: Iterable<unknown> = Array.isArray(result) || isIterable(result) ? (result as Iterable<unknown>) : [result];
  const name = `${req.filename || Date.now()}.${req.format}`;
  const finalPath = path.join(req.path, name);
  const tmpPath = `${finalPath}.${process.pid}.partial`;
  const out = fs.createWriteStream(tmpPath);
  try {
    if (req.format === 'json') {
      let buf = '[';
      let first = true;
      for (const r of rows) {
        buf += (first ? '' : ',') + JSON.stringify(r, jsonReplacer);
        first = false;
        counts.total++;
        if (buf.length > 65_536) { await write(out, buf); buf = ''; if (env.stopping()) throw new JobStopped('the server shut down before the export finished'); }
      }
      await write(out, buf + ']');
    } else {
      // the column set must be known before the first line: look ahead at most 1,000 rows for it
      const it = rows[Symbol.iterator]();
      const head: Rec[] = [];
      let next = it.next();
      while (!next.done && head.length < 1000) { head.push(next.value as Rec); next = it.next(); }
      const columns = csvColumns(req, env, head);
      const csv = stringify({ header: true, columns, cast: { object: (v) => JSON.stringify(v, jsonReplacer), date: (d) => d.toISOString(), boolean: (b) => String(b) } });
      csv.pipe(out, { end: false });
      const push = async (r: Rec) => {
        counts.total++;
        if (!csv.write(r)) await once(csv, 'drain');
      };
      for (const r of head) await push(r);
      while (!next.done) {
        await push(next.value as Rec);
        if (counts.total % 10_000 === 0 && env.stopping()) throw new JobStopped('the server shut down before the export finished');
        next = it.next();
      }
      csv.end();
      await once(csv, 'end');
    }
    out.end();
    await once(out, 'finish');
    fs.renameSync(tmpPath, finalPath);
  } catch (err) {
    out.destroy();
    fs.rmSync(tmpPath, { force: true });
    throw err;
  }
  counts.written = counts.total;
  return `Successfully exported ${counts.total} records to ${finalPath}`;
}
