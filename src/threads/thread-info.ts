import { threadId } from 'node:worker_threads';
import type { ThreadInfo } from '../operations/index.js';

/** Memory figures of the calling thread for system_information.threads. */
export function threadInfoOf(slot: number, connections?: number): ThreadInfo {
  const m = process.memoryUsage();
  return { threadId, slot, name: slot < 0 ? 'main' : `http-${slot}`, heapUsed: m.heapUsed, heapTotal: m.heapTotal, externalMemory: m.external, arrayBuffers: m.arrayBuffers, ...(connections === undefined ? {} : { connections }) };
}
