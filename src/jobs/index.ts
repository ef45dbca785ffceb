/**
 * jobs: bulk loads, exports and deletes that run as background jobs (spec §2.10), their records in system.hdb_job,
 * and the audit/transaction log readers (spec §2.13). Operation handlers validate and enqueue on the serving thread;
 * the work itself runs in the background pool (src/pool). A job must never be left looking finished when it is
 * not: every run ends COMPLETE or ERROR, and jobs interrupted by a restart are marked ERROR at the next start.
 */
export {
  csvDataLoad, csvFileLoad, csvUrlLoad, exportLocal, deleteRecordsBefore, getJob, searchJobsByStartDate,
} from './handlers.js';
export { readAuditLog, readTransactionLog } from './audit-log.js';
export { runJob, type JobOutcome } from './runner.js';
export { JobStore, publicJob } from './store.js';
export { autoCast, convertTyped, columnConverters, rowToRecord, jsonCell, parseIsoDate, type CellConverter } from './convert.js';
export { BATCH_ROWS } from './csv-load.js';
export type { JobRecord, JobStatus, JobType, JobCounts, JobEnv } from './types.js';
