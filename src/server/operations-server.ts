/** The Operations API listener's request handler (spec §2.1-2.3): POST / with one operation object. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { errorResponse, weftError } from '../errors/index.js';
import { corsOriginAllowed, decodeBody, negotiate, readBody, sendResult, toJson, type Format } from '../http/index.js';
import { executeOperation, type ServerServices } from '../operations/index.js';
import { authenticateRequest, requestInfo, type RequestContext, type RequestInfo, type Transport, type User, type UserStore } from '../auth/index.js';
import type { Logger } from '../logging/index.js';

export interface OperationsHandlerDeps {
  services: ServerServices;
  users: UserStore;
  logger: Logger;
  transport: Transport;
  /** Extra handler for other routes on a shared port (the application HTTP handler), or undefined. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  testHooks?: boolean;
}

function sendError(res: ServerResponse, err: unknown, deps: OperationsHandlerDeps, requestId: () => string, operation?: unknown): void {
  const { status, body } = errorResponse(err);
  if (status >= 500) deps.logger.error({ requestId: requestId(), operation, err }, 'operation failed');
  else if (deps.logger.isLevelEnabled('debug')) deps.logger.debug({ requestId: requestId(), operation, status, error: body.error }, 'operation refused');
  if (res.headersSent) { res.destroy(); return; }
  if (status === 401) res.setHeader('WWW-Authenticate', 'Basic');
  const text = toJson(body);
  res.writeHead(status, { ...BASE, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Headers of every Operations API answer. The operation path passes them to writeHead in one flat list (setHeader
 * per header was a visible share of a small operation); other paths set them first (`base`).
 */
const BASE = { Server: 'HarperDB', Vary: 'Origin' } as const;

function base(res: ServerResponse): void {
  res.setHeader('Server', BASE.Server);
  res.setHeader('Vary', BASE.Vary);
}

/** CORS headers for an allowed Origin (spec §2.1); returns whether it is allowed. */
function cors(req: IncomingMessage, res: ServerResponse, deps: OperationsHandlerDeps): boolean {
  const net = deps.services.config.operationsApi.network;
  const origin = req.headers.origin;
  if (!corsOriginAllowed(origin, net.cors, net.corsAccessList)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  // login sets a session cookie: a browser sends it cross-origin only when credentials are allowed
  if (deps.services.config.authentication.enableSessions) res.setHeader('Access-Control-Allow-Credentials', 'true');
  return true;
}

/**
 * An operation's context as a class: an object literal with a getter (the lazy request id) is built by a V8 runtime
 * call on every request; a class instance has one shape and its getter lives on the prototype.
 */
class OperationContext implements RequestContext {
  responseHeaders?: Record<string, string | string[]> = undefined;
  constructor(public user: User | null, readonly ip: string, readonly transport: Transport, readonly request: RequestInfo, private readonly id: () => string) {}
  get requestId(): string { return this.id(); }
}

export function createOperationsHandler(deps: OperationsHandlerDeps) {
  const net = deps.services.config.operationsApi.network;
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // made only when something reads it: a UUID per request is a measurable share of a small operation's CPU
    let id: string | undefined;
    const requestId = () => (id ??= randomUUID());
    const corsAllowed = cors(req, res, deps);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let operation: unknown;
    try {
      if (req.method !== 'POST' || path !== '/') base(res);
      if (req.method === 'OPTIONS') {
        // preflight: the allow-lists only for an origin CORS admits, so a refused origin's browser blocks the request
        if (corsAllowed) {
          res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
          res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, Accept');
        }
        res.writeHead(200).end();
        return;
      }
      if (req.method === 'GET' && path === '/health') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('HarperDB is running.');
        return;
      }
      if (req.method !== 'POST' || path !== '/') {
        if (deps.fallback) return deps.fallback(req, res);
        if (req.method === 'GET' && path === '/') {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Weft</title><p>Weft is running.</p>');
          return;
        }
        throw weftError('NOT_FOUND');
      }
      const format: Format = negotiate(req.headers.accept);
      const buf = await readBody(req, net.maxBodySize);
      const body = decodeBody(buf, req.headers['content-type'], net.maxJsonDepth);
      operation = (body as any)?.operation;
      if (deps.testHooks && operation === '__crash_worker') {
        setImmediate(() => { throw new Error('worker crash requested by a test'); });
        res.writeHead(200).end('{"message":"crashing"}');
        return;
      }
      const info = requestInfo(req, deps.transport);
      let op = body as Record<string, unknown> | undefined;
      // the refresh token may come as Bearer instead of in the body (spec §2.2 item 3)
      if (operation === 'refresh_operation_token' && op && typeof op === 'object' && op.refresh_token === undefined) {
        const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? '');
        if (bearer) op = { ...op, refresh_token: bearer[1]!.trim() };
      }
      const who = authenticateRequest(req, { users: deps.users, config: deps.services.config, transport: deps.transport }, {
        bearerIsNotAuthentication: operation === 'refresh_operation_token',
      });
      const user = who instanceof Promise ? await who : who;
      const ctx: RequestContext = new OperationContext(user, req.socket.remoteAddress ?? '', deps.transport, info, requestId);
      const result = await executeOperation(op, ctx, deps.services);
      for (const [k, v] of Object.entries(ctx.responseHeaders ?? {})) res.setHeader(k, v);
      const headers = ['Server', BASE.Server, 'Vary', BASE.Vary];
      if (typeof operation === 'string' && operation.startsWith('restart')) headers.push('Connection', 'close');
      await sendResult(res, 200, result, format, headers);
    } catch (err) {
      sendError(res, err, deps, requestId, operation);
    }
  };
}
