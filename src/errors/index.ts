/**
 * errors: the registry of stable error codes and the one error class every subsystem throws.
 * It owns how an error looks on the wire ({"error": message}, or a full body such as the 403 permission object);
 * it must never leak internals (paths, stacks) to a client on a 5xx.
 */
import { registry, type ErrorCode, type ErrorArgs, type WireError } from './registry.js';
export { registry, type ErrorCode, type WireError } from './registry.js';

export class WeftError extends Error {
  readonly code: ErrorCode;
  status: number;
  /** A complete response body replacing {"error": message} (403 permission bodies, role validation). */
  body?: Record<string, unknown>;
  constructor(code: ErrorCode, status: number, message: string, body?: Record<string, unknown>) {
    super(message);
    this.name = 'WeftError';
    this.code = code;
    this.status = status;
    this.body = body;
  }
  /** Harper answers some client mistakes with a different status than ours; keep the message, change the status. */
  withStatus(status: number): this {
    this.status = status;
    return this;
  }
  toWire(): WireError {
    return { code: this.code, status: this.status, message: this.message, body: this.body };
  }
}

export function weftError<C extends ErrorCode>(code: C, ...args: ErrorArgs<C>): WeftError {
  const entry = registry[code];
  return new WeftError(code, entry.status, (entry.message as (...a: unknown[]) => string)(...args));
}

export function isWeftError(err: unknown): err is WeftError {
  return err instanceof WeftError;
}

/** Rebuild an error that crossed a thread boundary as plain data. */
export function fromWire(w: WireError): WeftError {
  return new WeftError(w.code, w.status, w.message, w.body);
}

/** The status and body to send for any thrown value; internal errors get the generic message. */
export function errorResponse(err: unknown): { status: number; body: Record<string, unknown> } {
  if (err instanceof WeftError) return { status: err.status, body: err.body ?? { error: err.message } };
  return { status: 500, body: { error: registry.INTERNAL.message() } };
}
