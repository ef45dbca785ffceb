/** Job records (system.hdb_job) and what runs them. */
import type { RequestContext } from '../auth/index.js';
import type { ServerServices } from '../operations/index.js';

export type JobStatus = 'CREATED' | 'IN_PROGRESS' | 'COMPLETE' | 'ERROR';
export type JobType = 'csv_data_load' | 'csv_file_load' | 'csv_url_load' | 'export_local' | 'delete_records_before';

export interface JobCounts {
  /** Data rows seen (CSV) or records selected (export, delete). */
  total: number;
  written: number;
  /** Rows the action skipped: insert of an existing key, update of a missing one. */
  skipped: number;
  /** Rows refused before writing: malformed CSV, unconvertible values, bad keys. */
  rejected: number;
}

export interface RejectedRow { line: number; error: string }

export interface JobRecord {
  id: string;
  type: JobType;
  status: JobStatus;
  message: string | null;
  user: string | null;
  created_datetime: number;
  start_datetime: number | null;
  end_datetime: number | null;
  /** The validated request (without inline data); removed from get_job answers. */
  request: Record<string, unknown>;
  counts?: JobCounts;
  /** The first rejected rows with their line numbers (capped). */
  rejected_rows?: RejectedRow[];
  __createdtime__?: number;
  __updatedtime__?: number;
}

/** What a pool thread gives the job runner. */
export interface JobEnv {
  services: ServerServices;
  executeOperation: (body: unknown, ctx: RequestContext, services: ServerServices) => Promise<unknown>;
  /** True once the server is shutting down: stop at the next batch boundary. */
  stopping: () => boolean;
}
