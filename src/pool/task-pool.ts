/**
 * The background pool: piscina worker threads, separate from the request-serving threads, created once per process
 * by the supervisor. Threads start on demand (minThreads 0) and exit after idling, so an idle server pays nothing and
 * a busy one never has more than `jobs.poolSize` of them however many serving threads submit work.
 */
import os from 'node:os';
import { createRequire } from 'node:module';
import type { Piscina } from 'piscina';
import type { WeftConfig } from '../config/index.js';
import type { PoolTask, PoolWorkerData } from './types.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);
/** piscina is loaded by the thread that makes a pool (the main thread), not by every thread importing poolSizeOf. */
const requireLazy = createRequire(import.meta.url);

export function poolSizeOf(config: Readonly<WeftConfig>): number {
  const configured = config.jobs?.poolSize;
  if (typeof configured === 'number' && configured >= 1) return Math.floor(configured);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, cores);
}

export interface TaskPoolOptions {
  config: Readonly<WeftConfig>;
  configFile: string;
  rootPath: string;
  version: string;
  startedAt: number;
  clock: SharedArrayBuffer;
  /** How long a pool thread may idle before it exits (ms). */
  idleTimeout?: number;
}

export class TaskPool {
  readonly size: number;
  private readonly piscina: Piscina;
  private readonly stop = new SharedArrayBuffer(4);
  private readonly running = new Set<Promise<unknown>>();
  private closing?: Promise<void>;

  constructor(opts: TaskPoolOptions) {
    this.size = poolSizeOf(opts.config);
    const workerData: PoolWorkerData = {
      config: opts.config, configFile: opts.configFile, rootPath: opts.rootPath, version: opts.version,
      startedAt: opts.startedAt, clock: opts.clock, stop: this.stop,
    };
    const { Piscina: PiscinaPool } = requireLazy('piscina') as typeof import('piscina');
    this.piscina = new PiscinaPool({
      filename: WORKER_URL.href,
      minThreads: 0,
      maxThreads: this.size,
      idleTimeout: opts.idleTimeout ?? 30_000,
      // one task at a time per thread: jobs are long and CPU-bound, interleaving would only add memory
      concurrentTasksPerWorker: 1,
      workerData,
      name: 'default',
    });
  }

  get queued(): number { return this.piscina.queueSize; }

  /** Run a task; its byte payloads are moved (not copied) into the pool thread. */
  run(task: PoolTask): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error('the background pool is shutting down'));
    const transfer = task.kind === 'job' && task.data ? [task.data.buffer as ArrayBuffer] : undefined;
    const p = this.piscina.run(task, { transferList: transfer });
    this.running.add(p);
    const forget = () => { this.running.delete(p); };
    p.then(forget, forget);
    return p;
  }

  /**
   * Ask running tasks to stop at their next batch boundary, wait for them (up to `graceMs`), then end the threads.
   * Never terminates a thread in the middle of a write transaction unless the grace period runs out.
   */
  close(graceMs = 10_000): Promise<void> {
    this.closing ??= (async () => {
      Atomics.store(new Int32Array(this.stop), 0, 1);
      const settled = Promise.allSettled([...this.running]);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled, new Promise((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
      await this.piscina.destroy();
    })();
    return this.closing;
  }
}
