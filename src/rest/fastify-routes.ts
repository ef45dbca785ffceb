/**
 * The fastifyRoutes plugin (spec §5.2): Harper's legacy custom-function route modules,
 * `export default async (server, { hdbCore, logger }) => { server.route({...}) }` (or `module.exports = ...`),
 * served by a real Fastify instance per application and thread, under the application's `urlPath`. Only requests
 * no exported resource and no static file answered reach it (spec §4.1), and only under its prefix; what its
 * routes do not match falls through to the next application's routes, finally to `next` (404).
 * Fastify is imported only when an application has route files: start-up time and idle memory.
 *
 * `hdbCore.preValidation` authenticates the request like the operations API does; `hdbCore.request` runs
 * `request.body` as an operation as that user; `hdbCore.requestWithoutAuthentication` runs it as a super user.
 * `request.body.hdb_user` is set for code that reads it, but never trusted: a client could send one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { WeftError, weftError } from '../errors/index.js';
import { authenticateRequest, requestInfo, type RequestContext, type Transport, type User, type UserStore } from '../auth/index.js';
import type { WeftConfig } from '../config/index.js';
import type { Logger } from '../logging/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RouteApplication {
  name: string;
  /** Route module files, absolute. */
  files: string[];
  /** URL prefix without leading or trailing slash. */
  urlPath: string;
}

export interface FastifyRoutesDeps {
  /** Runs one Operations API request (the runtime passes executeOperation bound to its services). */
  execute: (body: unknown, ctx: RequestContext) => Promise<unknown>;
  config: Readonly<WeftConfig>;
  users: UserStore;
  logger: Logger;
  transport: Transport;
}

const LOADER: User = { username: 'hdb_core', active: true, role: { id: 'super_user', role: 'super_user', permission: { super_user: true } } };

/** What a route module may hand to hdbCore: a Fastify request (only `raw` and `body` are used). */
interface RouteRequest { raw: IncomingMessage; body?: unknown; id?: string }
interface RouteReply { code(status: number): RouteReply; send(body: unknown): RouteReply; hijack(): void; raw: ServerResponse }

function hdbCoreFor(deps: FastifyRoutesDeps) {
  const authenticated = new WeakMap<object, User>();
  const authenticate = async (request: RouteRequest): Promise<User> => {
    const known = authenticated.get(request);
    if (known) return known;
    const user = await authenticateRequest(request.raw, { users: deps.users, config: deps.config, transport: deps.transport });
    if (!user) throw weftError('MUST_LOGIN');
    authenticated.set(request, user);
    return user;
  };
  const run = async (request: RouteRequest, user: User): Promise<unknown> => {
    const body = request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? { ...(request.body as Record<string, unknown>) } : request.body;
    if (body && typeof body === 'object') { delete (body as Record<string, unknown>).hdb_user; delete (body as Record<string, unknown>).hdb_auth_header; }
    const ctx: RequestContext = {
      user, ip: request.raw.socket?.remoteAddress ?? '', transport: deps.transport, requestId: String(request.id ?? 'route'),
      request: requestInfo(request.raw, deps.transport),
    };
    try {
      return await deps.execute(body, ctx);
    } catch (err) {
      // Fastify answers with an error's statusCode
      if (err instanceof WeftError) throw Object.assign(err, { statusCode: err.status });
      throw err;
    }
  };
  return {
    preValidation: [async (request: RouteRequest, reply: RouteReply) => {
      try {
        const user = await authenticate(request);
        if (request.body && typeof request.body === 'object' && !Array.isArray(request.body)) (request.body as Record<string, unknown>).hdb_user = user;
      } catch (err) {
        const status = err instanceof WeftError ? err.status : 500;
        if (status === 401) reply.raw.setHeader('WWW-Authenticate', 'Basic');
        return reply.code(status).send({ error: err instanceof WeftError ? err.message : 'Internal server error' });
      }
    }],
    request: async (request: RouteRequest) => run(request, await authenticate(request)),
    requestWithoutAuthentication: async (request: RouteRequest) => run(request, LOADER),
  };
}

function routeLogger(logger: Logger) {
  const b = (f: (...a: any[]) => void) => f.bind(logger) as (...a: any[]) => void;
  return { trace: b(logger.trace), debug: b(logger.debug), info: b(logger.info), warn: b(logger.warn), error: b(logger.error), fatal: b(logger.fatal), notify: b(logger.info) };
}

/** A route module's plugin function: the default export, or module.exports itself for CommonJS. */
function pluginOf(mod: Record<string, unknown>): Function | undefined {
  const d = mod.default as any;
  if (typeof d === 'function') return d;
  if (d && typeof d.default === 'function') return d.default;
  return undefined;
}

async function buildApplication(app: RouteApplication, deps: FastifyRoutesDeps, next: Handler): Promise<Handler> {
  const { default: Fastify } = await import('fastify');
  const server = Fastify({ logger: false });
  const log = deps.logger.child({ application: app.name });
  const hdbCore = hdbCoreFor(deps);
  const logger = routeLogger(log);
  const prefix = app.urlPath ? `/${app.urlPath}` : '';
  let registered = 0;
  for (const file of app.files) {
    let plugin: Function | undefined;
    try {
      plugin = pluginOf(await import(pathToFileURL(file).href) as Record<string, unknown>);
      if (!plugin) throw new Error('a route module must export a function (server, { hdbCore, logger })');
    } catch (err) {
      log.error({ err, file }, `route module ${file} failed to load`);
      continue;
    }
    const fn = plugin;
    // each module in its own try: one that throws while registering loses its routes, not the others'
    server.register(async (instance, opts) => {
      try {
        if (fn.length >= 3) {
          await new Promise<void>((resolve, reject) => {
            const r = fn(instance, opts, (err?: Error) => (err ? reject(err) : resolve()));
            if (r && typeof r.then === 'function') r.then(resolve, reject);
          });
        } else await fn(instance, opts);
      } catch (err) {
        log.error({ err, file }, `route module ${file} failed to load`);
      }
    }, { prefix, hdbCore, logger } as any);
    registered++;
  }
  if (!registered) return next;
  server.setNotFoundHandler((request, reply) => {
    reply.hijack();
    next(request.raw, reply.raw);
  });
  await server.ready();
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const p = q < 0 ? url : url.slice(0, q);
    if (prefix && p !== prefix && !p.startsWith(prefix + '/')) return next(req, res);
    server.routing(req, res);
  };
}

/** The chain of the applications' route handlers in front of `next`; `next` itself when no application has routes. */
export async function createFastifyRoutes(apps: RouteApplication[], deps: FastifyRoutesDeps, next: Handler): Promise<Handler> {
  let handler = next;
  for (const app of apps.filter((a) => a.files.length).reverse()) {
    try {
      handler = await buildApplication(app, deps, handler);
    } catch (err) {
      deps.logger.error({ err, application: app.name }, 'fastifyRoutes failed to start');
    }
  }
  return handler;
}
