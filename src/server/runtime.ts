/**
 * The composition root of one serving runtime (a worker thread, or the main thread when threads.count is 0):
 * storage -> users -> operations -> HTTP listeners. start() and close() are idempotent. No module-level state, so
 * two runtimes on two roots can live in one process.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import fs from 'node:fs';
import net, { type Socket } from 'node:net';
import type { WeftConfig } from '../config/index.js';
import { LmdbStorage, TxnClock } from '../storage/index.js';
import { UserStore } from '../auth/index.js';
import { createLogger, type Logger } from '../logging/index.js';
import type { ClusterBridge, ServerServices } from '../operations/index.js';
import type { ListenSpec } from '../threads/index.js';
import { createOperationsHandler } from './operations-server.js';
import { closeFd, listenShared } from './listen.js';
import { secureContextOptions } from './tls.js';
import { loadEnv, pluginFiles, readApplication, staticMounts, type StaticMount } from '../components/index.js';
import { createFastifyRoutes, createOpenApiHandler, createRestHandler, createStaticHandler, ResourceMap, setTables, type RouteApplication } from '../rest/index.js';
import { executeOperation } from '../operations/index.js';
import { pathToFileURL } from 'node:url';

const RESOURCE_METHODS = ['get', 'put', 'patch', 'post', 'delete'];

function isResourceClass(v: unknown): v is Function {
  return typeof v === 'function' && RESOURCE_METHODS.some((m) => typeof (v as any).prototype?.[m] === 'function');
}

export interface RuntimeOptions {
  config: Readonly<WeftConfig>;
  configFile: string;
  rootPath: string;
  version: string;
  startedAt: number;
  clock?: SharedArrayBuffer;
  listeners: ListenSpec[];
  domainSocket: string | null;
  cluster: ClusterBridge;
  logger?: Logger;
  testHooks?: boolean;
  /** Application folders whose exported resources this runtime serves (their tables are already ensured). */
  applications?: string[];
  /**
   * The main thread accepts and hands each connection over (adopt); this runtime does not accept itself.
   * `connections[0]` counts the connections open here, for the main thread to pick the least loaded worker.
   */
  handoff?: { connections: Int32Array };
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  const body = '{"error":"Not found"}';
  res.setHeader('Server', 'HarperDB');
  res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

export class WeftRuntime {
  readonly storage: LmdbStorage;
  readonly users: UserStore;
  readonly services: ServerServices;
  readonly logger: Logger;
  private readonly servers: http.Server[] = [];
  private readonly sockets = new Set<Socket>();
  /** Handoff mode: the server serving each listening socket (by the main thread's fd), for adopt(). */
  private readonly adoptTargets = new Map<number, http.Server>();
  private inFlight = 0;
  private draining = false;
  private readonly responses = new Set<ServerResponse>();
  private started?: Promise<void>;
  private closing?: Promise<void>;
  private purgeTimer?: NodeJS.Timeout;
  /** One listener shared by every response ('close' comes once), instead of a closure and a once-wrapper each. */
  private readonly responseClosed = (() => {
    const runtime = this;
    return function closed(this: ServerResponse): void { runtime.inFlight--; runtime.responses.delete(this); };
  })();

  constructor(private readonly opts: RuntimeOptions) {
    const { config } = opts;
    this.logger = opts.logger ?? createLogger({
      root: config.logging.root, level: config.logging.level, file: config.logging.file, stdStreams: config.logging.stdStreams,
    });
    this.storage = new LmdbStorage({
      path: config.storage.path, clock: new TxnClock(opts.clock), writeAsync: config.storage.writeAsync, closeNotified: true,
      overlappingSync: config.storage.overlappingSync,
    });
    const auth = config.authentication;
    this.users = new UserStore(this.storage, {
      cacheTTL: auth.cacheTTL, rootPath: opts.rootPath, hashFunction: auth.hashFunction,
      operationTokenTimeout: auth.operationTokenTimeout, refreshTokenTimeout: auth.refreshTokenTimeout, throttle: auth.throttle,
      ensureJwtKeys: opts.cluster.ensureJwtKeys?.bind(opts.cluster),
    });
    this.services = {
      config, configFile: opts.configFile, rootPath: opts.rootPath, storage: this.storage, version: opts.version,
      startedAt: opts.startedAt, users: this.users, cluster: opts.cluster,
    };
  }

  /** An HTTP server, or HTTPS when `tls` is given (key and certificate). */
  private httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void, net: {
    keepAliveTimeout: number; headersTimeout: number; timeout: number;
  }, tls?: SecureContextOptions): http.Server {
    const cfg = this.opts.config.http;
    const create = (tls ? (o: object, h: http.RequestListener) => https.createServer({ ...o, ...tls }, h) : http.createServer) as typeof http.createServer;
    const server = create({
      keepAliveTimeout: net.keepAliveTimeout,
      headersTimeout: net.headersTimeout,
      requestTimeout: net.timeout,
      // how often node enforces the two timeouts above; its 30 s default lets a slow-loris client hold a socket
      // for up to 30 s past headersTimeout
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(net.headersTimeout / 4))),
      maxHeaderSize: cfg.maxHeaderSize,
    }, (req, res) => {
      this.inFlight++;
      if (this.draining) res.setHeader('Connection', 'close');
      else this.responses.add(res);
      res.on('close', this.responseClosed);
      handler(req, res);
    });
    const counter = this.opts.handoff?.connections;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      if (counter) Atomics.add(counter, 0, 1);
      s.once('close', () => { this.sockets.delete(s); if (counter) Atomics.sub(counter, 0, 1); });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      // Node's parser knows no BREW; Harper answers it with 418 (spec §4.3)
      if (err.code === 'HPE_INVALID_METHOD' && (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'BREW ') {
        const teapot = JSON.stringify("HarperDB is short and stout and can't brew coffee");
        socket.end(`HTTP/1.1 418 I'm a Teapot\r\nServer: HarperDB\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(teapot)}\r\nConnection: close\r\n\r\n${teapot}`);
        return;
      }
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify({ error: status === 431 ? 'Request header fields too large' : status === 408 ? 'Request timeout' : 'Bad request' });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    this.servers.push(server);
    return server;
  }

  /** Client connections open on this thread's TCP listeners. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Serve `server` on the shared listening socket `fd`: accept from it, or (handoff) wait for adopt(). */
  private serve(server: http.Server, fd: number): Promise<void> {
    if (!this.opts.handoff) return listenShared(server, fd);
    this.adoptTargets.set(fd, server);
    // http(s).Server sets up its headers/request timeout checks on 'listening', which a server that never listens
    // does not get by itself
    server.emit('listening');
    return Promise.resolve();
  }

  /**
   * Serve a connection the main thread accepted on the listening socket `listenFd`; `fd` is this thread's own
   * descriptor of it. Mirrors what net.Server does for a connection it accepts itself.
   */
  adopt(listenFd: number, fd: number): void {
    const server = this.adoptTargets.get(listenFd);
    if (!server || this.draining) { closeFd(fd); return; }
    let socket: Socket;
    try {
      socket = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: (server as unknown as { allowHalfOpen: boolean }).allowHalfOpen });
    } catch (err) {
      this.logger.warn({ err }, 'could not adopt a connection');
      closeFd(fd);
      return;
    }
    socket.setNoDelay(true);
    const internal = socket as Socket & { server?: net.Server; _server?: net.Server };
    internal.server = server;
    internal._server = server;
    (server as unknown as { _connections: number })._connections++;
    server.emit('connection', socket);
  }

  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  /**
   * The exported resources of every application: tables with @export (REST enabled), and classes exported from
   * resources.js (each export with get/put/patch/post/delete becomes /<ExportName>; nested objects give nested
   * paths; a default export mounts at the root). A failing application is logged and skipped.
   */
  private async loadResources(): Promise<{ resources: ResourceMap; statics: StaticMount[]; routes: RouteApplication[] }> {
    const map = new ResourceMap();
    const statics: StaticMount[] = [];
    const routes: RouteApplication[] = [];
    const apps = [];
    for (const dir of this.opts.applications ?? []) {
      try { apps.push(readApplication(dir)); } catch (err) { this.logger.error({ err, application: dir }, 'application failed to load'); }
    }
    // tables must be importable before any resources.js runs
    setTables(this.storage, apps.flatMap((a) => a.tables.map((t) => ({
      database: t.database, table: t.table, typeName: t.typeName,
      relationships: t.attributes.filter((x) => x.relationship).map((x) => ({ name: x.name, ...x.relationship! })),
    }))));
    for (const app of apps) {
      const dir = app.path;
      try {
        // loadEnv before any of the application's modules load (spec §5.2); this thread has its own process.env
        loadEnv(app);
      } catch (err) {
        this.logger.error({ err, application: dir }, 'application .env files failed to load');
      }
      try {
        statics.push(...staticMounts(app));
        if (app.config.fastifyRoutes) routes.push({ name: app.name, files: pluginFiles(app, app.config.fastifyRoutes.files), urlPath: app.config.fastifyRoutes.urlPath });
      } catch (err) {
        this.logger.error({ err, application: dir }, 'application static files failed to load');
      }
      try {
        if (app.config.graphql) map.add({ kind: 'graphql', path: 'graphql', tables: app.tables.filter((t) => t.export).map((t) => ({ database: t.database, table: t.table, typeName: t.typeName })) });
        if (!app.config.rest) continue;
        for (const t of app.tables) {
          if (t.export?.rest) {
            map.add({
              kind: 'table', path: t.export.name, database: t.database, table: t.table, typeName: t.typeName,
              ...(t.splitSegments ? { splitSegments: true } : {}), ...(app.config.restOptions.strictIndexing ? { strictIndexing: true } : {}),
              lastModified: app.config.lastModified,
            });
          }
        }
        for (const file of app.resourceFiles) {
          const mod = await import(pathToFileURL(file).href) as Record<string, unknown>;
          for (const [name, value] of Object.entries(mod)) {
            const path = name === 'default' ? '' : name;
            if (isResourceClass(value)) { map.add({ kind: 'custom', path, name: value.name || name, cls: value, lastModified: app.config.lastModified }); continue; }
            if (value && typeof value === 'object') {
              for (const [sub, v] of Object.entries(value)) {
                if (isResourceClass(v)) map.add({ kind: 'custom', path: path ? `${path}/${sub}` : sub, name: v.name || sub, cls: v, lastModified: app.config.lastModified });
              }
            }
          }
        }
      } catch (err) {
        this.logger.error({ err, application: dir }, 'application resources failed to load');
      }
    }
    return { resources: map, statics, routes };
  }

  private async doStart(): Promise<void> {
    const { config } = this.opts;
    const { resources, statics, routes } = await this.loadResources();
    // paths no resource matches fall through to the static plugin's files, then Fastify routes, finally 404 (spec §4.1)
    const fastify = (transport: 'http' | 'https') => createFastifyRoutes(routes, {
      execute: (body, ctx) => executeOperation(body, ctx, this.services), users: this.users, config, logger: this.logger, transport,
    }, notFound);
    const staticOpts = { compressionThreshold: config.http.compressionThreshold };
    const unmatched = createStaticHandler(statics, await fastify('http'), staticOpts);
    const unmatchedTls = this.opts.listeners.some((l) => l.name === 'http-secure' || l.name === 'operations-secure')
      ? createStaticHandler(statics, await fastify('https'), staticOpts) : unmatched;
    const restFor = (transport: 'http' | 'https') => createRestHandler({
      storage: this.storage, users: this.users, config, logger: this.logger, resources, notFound: transport === 'https' ? unmatchedTls : unmatched, transport, version: this.opts.version,
    });
    const rest = restFor('http');
    const opsNet = config.operationsApi.network;
    const appNet = { keepAliveTimeout: config.http.keepAliveTimeout, headersTimeout: config.http.headersTimeout, timeout: config.http.timeout };
    const opsHandler = (transport: 'http' | 'https' | 'unix', fallback?: (req: IncomingMessage, res: ServerResponse) => void) => {
      const handler = createOperationsHandler({ services: this.services, users: this.users, logger: this.logger, transport, fallback, testHooks: this.opts.testHooks });
      // the operations port describes the REST resources too (spec §4.9)
      const openapi = createOpenApiHandler({ storage: this.storage, users: this.users, config, resources, version: this.opts.version, transport });
      return (req: IncomingMessage, res: ServerResponse) =>
        (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/api/openapi/rest' ? openapi(req, res) : handler(req, res));
    };
    const ops = this.opts.listeners.find((l) => l.name === 'operations');
    const app = this.opts.listeners.find((l) => l.name === 'http');
    const shared = ops && app && ops.port === app.port && ops.host === app.host;
    if (ops) await this.serve(this.httpServer(opsHandler('http', shared ? rest : undefined), opsNet), ops.fd);
    if (app && !shared) await this.serve(this.httpServer(rest, appNet), app.fd);
    // secure listeners: same shared-socket mechanism, HTTPS on top (spec §1.1)
    const opsTls = this.opts.listeners.find((l) => l.name === 'operations-secure');
    const appTls = this.opts.listeners.find((l) => l.name === 'http-secure');
    const sharedTls = opsTls && appTls && opsTls.port === appTls.port && opsTls.host === appTls.host;
    if (opsTls) {
      const tls = secureContextOptions(config.tls, config.operationsApi.tls);
      await this.serve(this.httpServer(opsHandler('https', sharedTls ? restFor('https') : undefined), opsNet, tls), opsTls.fd);
    }
    if (appTls && !sharedTls) await this.serve(this.httpServer(restFor('https'), appNet, secureContextOptions(config.tls)), appTls.fd);
    if (this.opts.domainSocket) {
      fs.rmSync(this.opts.domainSocket, { force: true });
      const server = this.httpServer(opsHandler('unix'), opsNet);
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(this.opts.domainSocket!, () => resolve()); });
    }
  }

  /** Background upkeep run by one thread only: audit log retention. */
  startMaintenance(retentionMs: number): void {
    const run = async () => {
      for (const name of this.storage.databaseNames()) {
        const db = this.storage.database(name);
        if (db) await db.purgeAudit(Date.now() - retentionMs).catch((err) => this.logger.error({ err }, 'audit purge failed'));
      }
    };
    void run();
    this.purgeTimer = setInterval(run, Math.min(retentionMs, 3_600_000));
    this.purgeTimer.unref();
  }

  /**
   * Stop accepting, let in-flight requests finish (up to `graceMs`), then close storage. With `lingerMs`, open
   * keep-alive connections are not cut at once: every response from now on says `Connection: close`, and idle
   * connections get up to `lingerMs` to be closed by their clients (used by rolling restarts; shutdown does not wait).
   */
  close(graceMs = 10_000, lingerMs = 0): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.purgeTimer);
      this.draining = true;
      for (const res of this.responses) if (!res.headersSent) res.setHeader('Connection', 'close');
      // net.Server#close stops accepting without http.Server#close's immediate closeIdleConnections()
      for (const s of this.servers) net.Server.prototype.close.call(s);
      if (!lingerMs) for (const s of this.servers) s.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const lingerUntil = Date.now() + Math.min(lingerMs, Math.max(0, deadline - Date.now()));
      while (this.sockets.size > 0 && Date.now() < lingerUntil) await new Promise((r) => setTimeout(r, 20));
      for (const s of this.servers) s.closeAllConnections();
      for (const s of this.sockets) s.destroy();
      await this.storage.close();
      this.logger.flush?.();
    })();
    return this.closing;
  }
}
