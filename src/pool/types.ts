/** Tasks the background pool runs. Plain data only: a task crosses two thread boundaries (worker -> main -> pool). */
import type { Key } from '../storage/index.js';

/** Run one job (its record in system.hdb_job says what); `data` carries an inline CSV body (csv_data_load). */
export interface JobTask { kind: 'job'; jobId: string; data?: Uint8Array }

/** Find the keys that cut a table into `parts` ranges of about equal size (parallel SQL). */
export interface SqlSplitTask { kind: 'sql-split'; database: string; table: string; parts: number }

/**
 * Run a single-table SELECT over the primary-key range start <= key < end (open when absent) and return its partial
 * aggregates or output entries (src/sql/parallel.ts). The statement travels as text and is compiled again here.
 */
export interface SqlChunkTask { kind: 'sql-chunk'; sql: string; start?: Key; end?: Key }

export type PoolTask = JobTask | SqlSplitTask | SqlChunkTask;

/** What every pool thread gets at start (piscina workerData). */
export interface PoolWorkerData {
  config: unknown;
  configFile: string;
  rootPath: string;
  version: string;
  startedAt: number;
  /** The process-wide transaction clock, shared with the serving threads. */
  clock: SharedArrayBuffer;
  /** Int32 flag set to 1 when the server shuts down: long tasks stop at their next batch boundary. */
  stop: SharedArrayBuffer;
}
