/**
 * The one protocol between the main thread (supervisor) and worker threads. Every message is plain data
 * (structured clone); errors travel as WireError.
 */
import type { WireError } from '../errors/index.js';
import type { ThreadInfo } from '../operations/index.js';
import type { PoolTask } from '../pool/index.js';

export interface ListenSpec {
  /** The `-secure` listeners serve HTTPS with the configured certificate. */
  name: 'operations' | 'http' | 'operations-secure' | 'http-secure';
  host: string;
  port: number;
  /** The main thread's listening socket for this address; each serving thread listens on its own dup of it. */
  fd: number;
}

export interface WorkerData {
  slot: number;
  rootPath: string;
  configFile: string;
  config: unknown;
  listeners: ListenSpec[];
  /** Unix socket path served by slot 0 (operations API as super user), or null. */
  domainSocket: string | null;
  clock: SharedArrayBuffer;
  version: string;
  startedAt: number;
  /** Application folders to load (spec §5.2); their tables were already ensured by the main thread. */
  applications: string[];
  /**
   * Set when the main thread accepts and hands connections over ('connection' messages) instead of this worker
   * accepting: Int32Array [connections open here, seq of the last 'connection' message taken].
   */
  handoff?: SharedArrayBuffer;
}

/**
 * workerData of a worker started before the main thread's setup is done (Supervisor.prewarm): it loads its code
 * meanwhile and waits for an 'init' message with its WorkerData.
 */
export interface DeferredWorkerData { deferred: true }

/** main -> worker */
export type MainMessage =
  /** The data of a deferred worker, and the main thread's environment now (applications' .env files were loaded since). */
  | { type: 'init'; data: WorkerData; env: Record<string, string | undefined> }
  | { type: 'schema-changed'; database: string }
  | { type: 'auth-changed' }
  | { type: 'close-database'; database: string; requestId: number }
  /** lingerMs: how long idle keep-alive connections may stay open so their clients stop reusing them first. */
  | { type: 'drain'; lingerMs?: number }
  | { type: 'thread-info'; requestId: number }
  /** A connection accepted by the main thread on listening socket `listenFd`; `fd` is now this worker's to serve. */
  | { type: 'connection'; listenFd: number; fd: number; seq: number }
  | { type: 'reply'; requestId: number; error?: WireError; value?: unknown };

/** worker -> main */
export type WorkerMessage =
  | { type: 'ready'; slot: number }
  | { type: 'broadcast'; message: Extract<MainMessage, { type: 'schema-changed' | 'auth-changed' }> }
  | { type: 'drop-database'; database: string; requestId: number }
  | { type: 'restart-process' }
  | { type: 'restart-workers'; requestId: number }
  | { type: 'ensure-jwt-keys'; requestId: number }
  | { type: 'thread-info-request'; requestId: number }
  /** Run a task in the process's background pool; answered with a 'reply' when the task ends. */
  | { type: 'run-task'; requestId: number; task: PoolTask }
  | { type: 'thread-info'; requestId: number; info: ThreadInfo }
  | { type: 'ack'; requestId: number }
  | { type: 'drained' };
