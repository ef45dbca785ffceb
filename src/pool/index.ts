/**
 * pool: the background worker pool (piscina) that runs CPU-heavy work off the request-serving threads: CSV parsing
 * and loading, exports, and the chunks of large SQL scans and aggregations. One pool per process, owned by the supervisor; serving threads submit tasks through the
 * ClusterBridge. It must never run request handling itself, and never be created per serving thread.
 */
export { TaskPool, poolSizeOf, type TaskPoolOptions } from './task-pool.js';
export type { PoolTask, JobTask, SqlSplitTask, SqlChunkTask, PoolWorkerData } from './types.js';
