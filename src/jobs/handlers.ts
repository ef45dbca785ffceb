/**
 * The job operations as the serving threads run them (spec §2.10): validate synchronously (400 before any job
 * exists), record the job as CREATED, hand it to the background pool, answer at once with its id.
 * Handlers are function declarations so the operations map can reference them across the module cycle.
 */
import fs from 'node:fs';
import { weftError } from '../errors/index.js';
import { isSuperUser } from '../auth/index.js';
import {
  assertWritable, databaseName, requireString, resolveTable, tableName, type OperationRequest, type ServerServices,
} from '../operations/index.js';
import type { RequestContext } from '../auth/index.js';
import { JobStore, publicJob } from './store.js';
import { createdTimeAttribute } from './delete-before.js';
import type { JobRecord, JobType } from './types.js';

const ACTIONS = new Set(['insert', 'update', 'upsert']);
const EXPORT_SEARCHES = new Set(['search_by_hash', 'search_by_id', 'search_by_value', 'search_by_conditions', 'sql']);
const ISO_RE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function startJob(services: ServerServices, ctx: RequestContext, type: JobType, request: Record<string, unknown>, data?: Uint8Array) {
  const store = new JobStore(services.storage);
  return store.create(type, ctx.user?.username ?? null, request).then((job) => {
    services.cluster.runTask({ kind: 'job', jobId: job.id, data }).catch(async (err: Error) => {
      // the pool itself failed (thread died, server shutting down): the job must not stay "running"
      const now = store.get(job.id);
      if (now && (now.status === 'CREATED' || now.status === 'IN_PROGRESS')) {
        await store.update(job.id, {
          status: 'ERROR', end_datetime: Date.now(),
          message: `There was an error running ${type} job with id ${job.id} - ${err?.message ?? err}`,
        }).catch(() => undefined);
      }
    });
    return { message: `Starting job with id ${job.id}`, job_id: job.id };
  });
}

/** Target table and action of a CSV load, checked before the job exists. */
function loadTarget(req: OperationRequest, ctx: RequestContext, services: ServerServices) {
  const database = databaseName(req);
  const table = tableName(req);
  const action = req.action ?? 'insert';
  if (typeof action !== 'string' || !ACTIONS.has(action)) throw weftError('INVALID_ACTION');
  assertWritable(database, table, isSuperUser(ctx.user));
  resolveTable(services, database, table, 400);
  return { database, table, action };
}

export function csvDataLoad(req: OperationRequest, ctx: RequestContext, services: ServerServices) {
  const target = loadTarget(req, ctx, services);
  const data = req.data;
  if (data === undefined || data === null) throw weftError('FIELD_REQUIRED', 'data');
  if (typeof data !== 'string') throw weftError('FIELD_TYPE', 'data', 'a string');
  // encoded into its own ArrayBuffer so it can be moved, not copied, into the pool thread
  return startJob(services, ctx, 'csv_data_load', { operation: req.operation, ...target }, new TextEncoder().encode(data));
}

export function csvFileLoad(req: OperationRequest, ctx: RequestContext, services: ServerServices) {
  const target = loadTarget(req, ctx, services);
  const file = requireString(req, 'file_path');
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw weftError('FILE_PERMISSION_DENIED', file);
    throw weftError('NO_SUCH_FILE', file);
  }
  if (fs.statSync(file).isDirectory()) throw weftError('VALIDATION', `'file_path' ${file} is a directory, not a file`);
  return startJob(services, ctx, 'csv_file_load', { operation: req.operation, ...target, file_path: file });
}

export function csvUrlLoad(req: OperationRequest, ctx: RequestContext, services: ServerServices) {
  const target = loadTarget(req, ctx, services);
  const raw = req.csv_url;
  if (raw === undefined || raw === null || raw === '') throw weftError('FIELD_REQUIRED', 'csv_url');
  let url: URL;
  try { url = new URL(String(raw)); } catch { throw weftError('INVALID_URL'); }
  if (typeof raw !== 'string' || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw weftError('INVALID_URL');
  const headers = req.passthrough_headers;
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers))) {
    throw weftError('FIELD_TYPE', 'passthrough_headers', 'an object');
  }
  return startJob(services, ctx, 'csv_url_load', { operation: req.operation, ...target, csv_url: url.href, passthrough_headers: headers });
}

export function exportLocal(req: OperationRequest, ctx: RequestContext, services: ServerServices) {
  const format = req.format;
  if (format === undefined || format === null || format === '') throw weftError('FIELD_REQUIRED', 'format');
  if (format !== 'json' && format !== 'csv') throw weftError('INVALID_EXPORT_FORMAT');
  const dir = requireString(req, 'path');
  let stat: fs.Stats;
  try { stat = fs.statSync(dir); } catch { throw weftError('NO_SUCH_FILE', dir); }
  if (!stat.isDirectory()) throw weftError('NOT_A_DIRECTORY', dir);
  try { fs.accessSync(dir, fs.constants.W_OK); } catch { throw weftError('FILE_PERMISSION_DENIED', dir); }
  const filename = req.filename;
  if (filename !== undefined && filename !== null && (typeof filename !== 'string' || /[/\\]/.test(filename) || filename === '..')) {
    throw weftError('VALIDATION', "'filename' must be a file name without a path");
  }
  const search = req.search_operation;
  if (search === undefined || search === null) throw weftError('FIELD_REQUIRED', 'search_operation');
  if (typeof search !== 'object' || Array.isArray(search)) throw weftError('FIELD_TYPE', 'search_operation', 'an object');
  const op = (search as Record<string, unknown>).operation;
  if (typeof op !== 'string' || !EXPORT_SEARCHES.has(op)) throw weftError('INVALID_SEARCH_OPERATION');
  const s = search as Record<string, unknown>;
  if (op !== 'sql') resolveTable(services, databaseName(s), tableName(s), 400);
  return startJob(services, ctx, 'export_local', {
    operation: req.operation, format, path: dir, filename: filename ?? undefined, search_operation: search,
  });
}

export function deleteRecordsBefore(req: OperationRequest, ctx: RequestContext, services: ServerServices) {
  const database = databaseName(req);
  const table = tableName(req);
  assertWritable(database, table, isSuperUser(ctx.user));
  const date = req.date;
  if (date === undefined || date === null || date === '') throw weftError('FIELD_REQUIRED', 'date');
  if (typeof date !== 'string' || !ISO_RE.test(date) || Number.isNaN(new Date(date).getTime())) throw weftError('INVALID_DATE');
  const { table: t } = resolveTable(services, database, table, 400);
  if (!createdTimeAttribute(t)) throw weftError('NO_CREATED_TIME');
  return startJob(services, ctx, 'delete_records_before', { operation: req.operation, database, table, date });
}

export function getJob(req: OperationRequest, _ctx: RequestContext, services: ServerServices) {
  const id = req.id;
  if (id === undefined || id === null || id === '') throw weftError('FIELD_REQUIRED', 'id');
  if (typeof id !== 'string') throw weftError('FIELD_TYPE', 'id', 'a string');
  const job = new JobStore(services.storage).get(id);
  return job ? [publicJob(job)] : [];
}

function dateField(req: OperationRequest, field: string): number {
  const v = req[field];
  if (v === undefined || v === null || v === '') throw weftError('FIELD_REQUIRED', field);
  const ms = typeof v === 'string' || typeof v === 'number' ? new Date(v).getTime() : NaN;
  if (Number.isNaN(ms)) throw weftError('VALIDATION', `'${field}' must be a valid ISO-8601 date`);
  return ms;
}

export function searchJobsByStartDate(req: OperationRequest, _ctx: RequestContext, services: ServerServices) {
  const from = dateField(req, 'from_date');
  const to = dateField(req, 'to_date');
  const iso = (v: number | null) => (typeof v === 'number' ? new Date(v).toISOString() : null);
  return new JobStore(services.storage).byStartDate(from, to).map((job: JobRecord) => ({
    ...publicJob(job), start_datetime_converted: iso(job.start_datetime), end_datetime_converted: iso(job.end_datetime),
  }));
}
