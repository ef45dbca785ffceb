/** Runs one job in a pool thread: CREATED -> IN_PROGRESS -> COMPLETE | ERROR, with counts kept on the record. */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { JobTask } from '../pool/index.js';
import type { WriteOp } from '../operations/index.js';
import { JobStore } from './store.js';
import { JobStopped, loadCsv, loadMessage, slices, type LoadProgress } from './csv-load.js';
import { runExport, type ExportRequest } from './export.js';
import { runDeleteBefore } from './delete-before.js';
import type { JobCounts, JobEnv, JobRecord } from './types.js';

export interface JobOutcome { id: string; status: JobRecord['status']; message: string | null; counts?: JobCounts }

async function urlSource(url: string, headers: Record<string, string> | undefined): Promise<Readable> {
  const res = await fetch(url, { headers });
  if (!res.ok || !res.body) throw new Error(`Error downloading CSV file from ${url}, status code: ${res.status}`);
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
}

export async function runJob(task: JobTask, env: JobEnv): Promise<JobOutcome | undefined> {
  const store = new JobStore(env.services.storage);
  const job = store.get(task.jobId);
  if (!job || job.status !== 'CREATED') return undefined;
  const counts: JobCounts = { total: 0, written: 0, skipped: 0, rejected: 0 };
  const progress: LoadProgress = { counts, rejected: [] };
  progress.report = () => store.update(job.id, { counts: { ...counts }, rejected_rows: progress.rejected.slice() });
  await store.update(job.id, { status: 'IN_PROGRESS', start_datetime: Date.now(), counts: { ...counts } });
  const req = job.request;
  let status: JobRecord['status'] = 'COMPLETE';
  let message: string;
  try {
    switch (job.type) {
      case 'csv_data_load':
      case 'csv_file_load':
      case 'csv_url_load': {
        const source = job.type === 'csv_data_load'
          ? Readable.from(slices(task.data ?? new Uint8Array(0)))
          : job.type === 'csv_file_load'
            ? fs.createReadStream(String(req.file_path))
            : await urlSource(String(req.csv_url), req.passthrough_headers as Record<string, string> | undefined);
        const action = req.action as WriteOp;
        await loadCsv(source, { database: String(req.database), table: String(req.table), action, user: job.user },
          { json: job.type !== 'csv_data_load' }, env, progress);
        message = loadMessage(counts, progress.rejected, action);
        break;
      }
      case 'export_local':
        message = await runExport(req as unknown as ExportRequest, job.user, env, counts);
        break;
      case 'delete_records_before':
        message = await runDeleteBefore(req as { database: string; table: string; date: string }, job.user, env, counts);
        break;
      default:
        throw new Error(`unknown job type ${String(job.type)}`);
    }
  } catch (err) {
    status = 'ERROR';
    const detail = (err as Error)?.message ?? String(err);
    const wrote = job.type.startsWith('csv_')
      ? ` ${counts.written} of ${counts.total} records read had been written in committed batches${counts.rejected ? `, ${counts.rejected} rejected` : ''}; nothing after that was written.`
      : '';
    message = `There was an error running ${job.type} job with id ${job.id} - ${detail}.${wrote}`.replace('..', '.');
    if (!(err instanceof JobStopped) && !(err as { status?: number })?.status) console.error(`job ${job.id} failed`, err);
  }
  await store.update(job.id, {
    status, message, end_datetime: Date.now(), counts: { ...counts }, rejected_rows: progress.rejected.slice(),
  });
  return { id: job.id, status, message, counts };
}
