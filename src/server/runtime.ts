/**
 * The composition root of one serving runtime (a worker thread, or the main thread when threads.count is 0):
 * storage -> users -> operations -> HTTP listeners. start() and close() are idempotent. No module-level state, so
 * two runtimes on two roots can live in one process.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import fs from 'node:fs';
import net, { type Socket } from 'node:net';
import type { WeftConfig } from '../config/index.js';
import { LmdbStorage, TxnClock } from '../storage/index.js';
import { UserStore } from '../auth/index.js';
import { createLogger, type Logger } from '../logging/index.js';
import type { ClusterBridge, ServerServices } from '../operations/index.js';
import type { ListenSpec } from '../threads/protocol.js';
import { createOperationsHandler } from './operations-server.js';
import { listenShared } from './listen.js';

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
  private inFlight = 0;
  private draining = false;
  private readonly responses = new Set<ServerResponse>();
  private started?: Promise<void>;
  private closing?: Promise<void>;
  private purgeTimer?: NodeJS.Timeout;

  constructor(private readonly opts: RuntimeOptions) {
    const { config } = opts;
    this.logger = opts.logger ?? createLogger({
      root: config.logging.root, level: config.logging.level, file: config.logging.file, stdStreams: config.logging.stdStreams,
    });
    this.storage = new LmdbStorage({
      path: config.storage.path, clock: new TxnClock(opts.clock), writeAsync: config.storage.writeAsync,
      overlappingSync: config.storage.overlappingSync,
    });
    this.users = new UserStore(this.storage, config.authentication.cacheTTL);
    this.services = {
      config, configFile: opts.configFile, rootPath: opts.rootPath, storage: this.storage, version: opts.version,
      startedAt: opts.startedAt, users: this.users, cluster: opts.cluster,
    };
  }

  private httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void, net: {
    keepAliveTimeout: number; headersTimeout: number; timeout: number;
  }): http.Server {
    const cfg = this.opts.config.http;
    const server = http.createServer({
      keepAliveTimeout: net.keepAliveTimeout,
      headersTimeout: net.headersTimeout,
      requestTimeout: net.timeout,
      maxHeaderSize: cfg.maxHeaderSize,
    }, (req, res) => {
      this.inFlight++;
      if (this.draining) res.setHeader('Connection', 'close');
      else this.responses.add(res);
      res.once('close', () => { this.inFlight--; this.responses.delete(res); });
      handler(req, res);
    });
    server.on('connection', (s: Socket) => { this.sockets.add(s); s.once('close', () => this.sockets.delete(s)); });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify({ error: status === 431 ? 'Request header fields too large' : status === 408 ? 'Request timeout' : 'Bad request' });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    this.servers.push(server);
    return server;
  }

  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    const { config } = this.opts;
    const opsNet = config.operationsApi.network;
    const appNet = { keepAliveTimeout: config.http.keepAliveTimeout, headersTimeout: config.http.headersTimeout, timeout: config.http.timeout };
    const opsHandler = (transport: 'http' | 'unix', fallback?: (req: IncomingMessage, res: ServerResponse) => void) =>
      createOperationsHandler({ services: this.services, users: this.users, logger: this.logger, transport, fallback, testHooks: this.opts.testHooks });
    const ops = this.opts.listeners.find((l) => l.name === 'operations');
    const app = this.opts.listeners.find((l) => l.name === 'http');
    const shared = ops && app && ops.port === app.port && ops.host === app.host;
    if (ops) await listenShared(this.httpServer(opsHandler('http', shared ? notFound : undefined), opsNet), ops.fd);
    if (app && !shared) await listenShared(this.httpServer(notFound, appNet), app.fd);
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
