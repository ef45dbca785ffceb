/**
 * threads: the process model. The Supervisor (main thread) owns worker lifecycles and the message protocol;
 * worker.ts is the worker entry. Request handling lives in server/, never here.
 */
export { Supervisor, parseDuration, type SupervisorOptions } from './supervisor.js';
export type { MainMessage, WorkerMessage, WorkerData, ListenSpec } from './protocol.js';
