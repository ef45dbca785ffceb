/**
 * logging: one pino logger per thread, all appending to <logging.root>/hdb.log (and stdout with logging.stdStreams).
 * Never pass credentials, Authorization headers or passwords to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import pino, { type Logger } from 'pino';

export type { Logger };

const LEVELS: Record<string, string> = { notify: 'fatal', trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'fatal' };

export function createLogger(opts: { root: string; level: string; file: boolean; stdStreams: boolean }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.file) {
    fs.mkdirSync(opts.root, { recursive: true });
    streams.push({ stream: pino.destination({ dest: path.join(opts.root, 'hdb.log'), sync: false, mkdir: true }) });
  }
  if (opts.stdStreams) streams.push({ stream: pino.destination({ dest: 1, sync: false }) });
  return pino(
    { level: LEVELS[opts.level] ?? 'warn', base: { thread: threadId }, timestamp: pino.stdTimeFunctions.isoTime },
    streams.length ? pino.multistream(streams) : pino.destination({ dest: '/dev/null', sync: false }),
  );
}
