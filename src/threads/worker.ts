/**
 * Worker thread entry. Module-level state is allowed here only: this file *is* the thread. It builds one
 * WeftRuntime from workerData, serves every port, and answers the supervisor's messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { threadInfoOf } from './thread-info.js';
import { pinTickObjectShape } from './tick-shape.js';
import { fromWire } from '../errors/index.js';
import { WeftRuntime } from '../server/index.js';
import type { ClusterBridge, ThreadInfo } from '../operations/index.js';
import type { DeferredWorkerData, MainMessage, WorkerData, WorkerMessage } from './protocol.js';
import type { WeftConfig } from '../config/index.js';

const port = parentPort!;
pinTickObjectShape();

/**
 * A deferred worker (started while the main thread was still setting up) has loaded the imports above by now and
 * gets its data here. Messages posted after 'init' reach the handler below: it is attached as soon as this promise
 * resolves, before the port delivers the next message; before 'ready' those can only be broadcasts about caches
 * that are still empty.
 */
function initMessage(): Promise<WorkerData> {
  return new Promise((resolve) => {
    const onInit = (msg: MainMessage) => {
      if (msg.type !== 'init') return;
      port.off('message', onInit);
      // the environment as the main thread has it now (a Worker copies process.env when it is created)
      for (const k of Object.keys(process.env)) if (!(k in msg.env)) delete process.env[k];
      for (const [k, v] of Object.entries(msg.env)) if (v !== undefined) process.env[k] = v;
      resolve(msg.data);
    };
    port.on('message', onInit);
  });
}

const data: WorkerData = (workerData as DeferredWorkerData | undefined)?.deferred ? await initMessage() : workerData as WorkerData;
let nextRequest = 1;
const pending = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();

function send(msg: WorkerMessage, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer);
}

function request<T>(make: (requestId: number) => WorkerMessage, transfer?: ArrayBuffer[]): Promise<T> {
  const requestId = nextRequest++;
  return new Promise<T>((resolve, reject) => {
    pending.set(requestId, { resolve, reject });
    send(make(requestId), transfer);
  });
}


const cluster: ClusterBridge = {
  schemaChanged: (database) => send({ type: 'broadcast', message: { type: 'schema-changed', database } }),
  authChanged: () => send({ type: 'broadcast', message: { type: 'auth-changed' } }),
  dropDatabase: (database) => request<void>((requestId) => ({ type: 'drop-database', database, requestId })),
  restartProcess: () => send({ type: 'restart-process' }),
  restartWorkers: () => request<void>((requestId) => ({ type: 'restart-workers', requestId })),
  threadInfo: () => request<ThreadInfo[]>((requestId) => ({ type: 'thread-info-request', requestId })),
  ensureJwtKeys: () => request<boolean>((requestId) => ({ type: 'ensure-jwt-keys', requestId })),
  // inline payloads are moved to the main thread, which moves them on into the pool
  runTask: (task) => request<unknown>((requestId) => ({ type: 'run-task', requestId, task }),
    task.kind === 'job' && task.data ? [task.data.buffer as ArrayBuffer] : undefined),
};

const handoff = data.handoff ? new Int32Array(data.handoff) : undefined;

const runtime = new WeftRuntime({
  config: data.config as WeftConfig,
  configFile: data.configFile,
  rootPath: data.rootPath,
  version: data.version,
  startedAt: data.startedAt,
  clock: data.clock,
  listeners: data.listeners,
  domainSocket: data.domainSocket,
  cluster,
  applications: data.applications,
  testHooks: !!process.env.WEFT_TEST_HOOKS,
  handoff: handoff ? { connections: handoff } : undefined,
});

port.on('message', async (msg: MainMessage) => {
  switch (msg.type) {
    case 'init': // taken by initMessage()
    case 'schema-changed':
      break; // catalogs are re-read on next access (version check); nothing cached beyond that
    case 'auth-changed':
      runtime.users.invalidate();
      break;
    case 'close-database':
      await runtime.storage.closeDatabase(msg.database);
      send({ type: 'ack', requestId: msg.requestId });
      break;
    case 'connection':
      // taken before adopting, in the same synchronous turn: if this thread dies, the main thread re-routes exactly
      // the connections whose seq is past this mark (never adopted, so their fds are still open and unowned)
      Atomics.store(handoff!, 1, msg.seq);
      runtime.adopt(msg.listenFd, msg.fd);
      break;
    case 'thread-info':
      send({ type: 'thread-info', requestId: msg.requestId, info: threadInfoOf(data.slot, runtime.connectionCount) });
      break;
    case 'drain':
      await runtime.close(10_000, msg.lingerMs ?? 0);
      send({ type: 'drained' });
      break;
    case 'reply': {
      const p = pending.get(msg.requestId);
      pending.delete(msg.requestId);
      if (!p) break;
      if (msg.error) p.reject(fromWire(msg.error)); else p.resolve(msg.value);
      break;
    }
  }
});

runtime.start().then(
  () => send({ type: 'ready', slot: data.slot }),
  (err) => {
    runtime.logger.fatal({ err }, 'worker failed to start');
    console.error(`worker ${data.slot} failed to start: ${(err as Error).message}`);
    process.exit(1);
  },
);
