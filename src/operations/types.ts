import type { WeftConfig } from '../config/index.js';
import type { LmdbStorage } from '../storage/index.js';
import type { RequestContext } from '../auth/index.js';
import type { UserStore } from '../auth/index.js';
import type { OperationName } from './catalog.js';
import type { PoolTask } from '../pool/index.js';

export type OperationRequest = Record<string, unknown> & { operation: OperationName };

/** What the operations need from the rest of the server; supplied by the composition root. */
export interface ServerServices {
  readonly config: Readonly<WeftConfig>;
  readonly configFile: string;
  readonly rootPath: string;
  readonly storage: LmdbStorage;
  readonly version: string;
  readonly startedAt: number;
  readonly users: UserDirectory;
  readonly cluster: ClusterBridge;
}

/** Users, roles, sessions and tokens of the system database (the auth subsystem's UserStore). */
export type UserDirectory = UserStore;

/** How a worker asks the supervisor (main thread) for process-wide work. */
export interface ClusterBridge {
  /** Tell every other thread that a database's schema changed. */
  schemaChanged(database: string): void;
  /** Tell every other thread that users or roles changed: drop cached authentications now. */
  authChanged(): void;
  /** Close the database on every thread and delete its files. */
  dropDatabase(database: string): Promise<void>;
  restartProcess(): void;
  restartWorkers(): Promise<void>;
  threadInfo(): Promise<ThreadInfo[]>;
  /** Run a task in the process's background pool (CSV loads, exports); resolves with the task's result. */
  runTask(task: PoolTask): Promise<unknown>;
  /** Create the JWT key pair if missing, once for the process (the main thread serialises it). */
  ensureJwtKeys?(): Promise<unknown>;
  /** Test hook (only when WEFT_TEST_HOOKS is set): crash the current worker. */
  crashWorker?(): void;
}

export interface ThreadInfo {
  threadId: number;
  slot: number;
  name: string;
  heapUsed?: number;
  heapTotal?: number;
  externalMemory?: number;
  arrayBuffers?: number;
  /** Open client connections this thread serves (shows how evenly connections are spread). */
  connections?: number;
}

export type Handler = (req: OperationRequest, ctx: RequestContext, services: ServerServices) => Promise<unknown> | unknown;
