/** Tasks the background pool runs. Plain data only: a task crosses two thread boundaries (worker -> main -> pool). */

/** Run one job (its record in system.hdb_job says what); `data` carries an inline CSV body (csv_data_load). */
export interface JobTask { kind: 'job'; jobId: string; data?: Uint8Array }

export type PoolTask = JobTask;

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
