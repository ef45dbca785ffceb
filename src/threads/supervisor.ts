/**
 * The main thread: installs a new root, reserves the ports, starts N worker threads that each serve every port,
 * replaces a worker that dies, restarts workers one at a time, and drains everything on SIGTERM.
 * It never handles request bytes on the TCP ports; it serves only the operations unix socket (the local CLI).
 * It does accept the TCP connections, without reading them, and hands each to the worker with the fewest open
 * connections (see accepted()).
 */
import { Worker } from 'node:worker_threads';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type LoadedConfig, type ConfigSources } from '../config/index.js';
import { ensureJwtKeys, ensureSystemDatabase, type HashFunction } from '../auth/index.js';
import { WeftRuntime, parsePort, reservePort, ensureCertificates, closeFd, dupFd, listenShared } from '../server/index.js';
import { TxnClock } from '../storage/index.js';
import { TaskPool } from '../pool/index.js';
import { JobStore } from '../jobs/index.js';
import type { ClusterBridge, ThreadInfo } from '../operations/index.js';
import type { PoolTask } from '../pool/index.js';
import type { DeferredWorkerData, ListenSpec, MainMessage, WorkerData, WorkerMessage } from './protocol.js';
import { threadInfoOf } from './thread-info.js';
import { componentFolders, ensureRoles, ensureTables, loadData, loadEnv, readApplication, readRoles } from '../components/index.js';
import { executeOperation } from '../operations/index.js';
import type { User } from '../auth/index.js';
import type { Rec } from '../storage/index.js';

export interface SupervisorOptions extends ConfigSources {
  version: string;
  /** Print lines for the user (ready line, generated password). */
  print?: (line: string) => void;
  /** Called when the process should exit (after shutdown). */
  onExit?: (code: number) => void;
  /** Application folders given on the command line (`weft run <app>`), loaded besides those in componentsRoot. */
  applications?: string[];
}

interface Slot {
  index: number;
  worker?: Worker;
  ready: boolean;
  failuresBeforeReady: number;
  restarts: number;
  retiring: Set<Worker>;
}

/** A worker started before its data was known (prewarm), with the listeners it has until spawn() takes it. */
interface WarmWorker {
  worker: Worker;
  onError: (err: Error) => void;
  onExit: () => void;
}

/** The main thread's view of one worker it hands connections to. */
interface Acceptor {
  worker: Worker;
  /** Shared with the worker: [connections open there, seq of the last 'connection' message it took]. */
  counters: Int32Array;
  /** False once the worker retires: it gets no new connections, but what was already posted is still its. */
  accepting: boolean;
  seq: number;
  /** Posted connections the worker may not have taken yet; re-routed if it dies before taking them. */
  posted: Array<{ seq: number; listenFd: number; fd: number }>;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);
const PACKAGE_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/**
 * Make `import ... from 'weftdb'` (and 'harperdb') in an application resolve to this very server package, so the
 * application shares its module instances (`tables`, `Resource`): a symlink in the application's node_modules,
 * as Harper links components to its own package. An existing real install there is left alone.
 */
function linkPackage(appDir: string): void {
  for (const name of ['weftdb', 'harperdb']) {
    const link = path.join(appDir, 'node_modules', name);
    try {
      const st = fs.lstatSync(link, { throwIfNoEntry: false });
      if (st && !st.isSymbolicLink()) continue;
      if (st && fs.realpathSync(link) === fs.realpathSync(PACKAGE_ROOT)) continue;
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.rmSync(link, { force: true });
      fs.symlinkSync(PACKAGE_ROOT, link, 'dir');
    } catch { /* a dangling or unwritable link shows up as an import error of the application */ }
  }
}

export class Supervisor {
  loaded!: LoadedConfig;
  private mainRuntime?: WeftRuntime;
  /** One background pool per process (not per worker): its threads are bounded by jobs.poolSize in total. */
  private pool?: TaskPool;
  private slots: Slot[] = [];
  private warm: WarmWorker[] = [];
  /** Listening sockets by configured address; kept across an in-process restart so the ports stay the same. */
  private sockets = new Map<string, { host: string; port: number; fd: number }>();
  private listeners: ListenSpec[] = [];
  private readonly clock = new TxnClock();
  private startedAt = Date.now();
  private stopping = false;
  private nextRequest = 1;
  private readonly waiters = new Map<number, { pending: Set<Worker>; done: () => void; values: unknown[] }>();
  private readyResolvers = new Map<number, () => void>();
  private pidFile = '';
  private applications: string[] = [];
  private jwtKeys: Promise<boolean> = Promise.resolve(false);
  private restartChain: Promise<void> = Promise.resolve();
  private readonly acceptors = new Map<Worker, Acceptor>();
  private acceptServers: net.Server[] = [];
  /** Connections accepted while no worker could take them (start-up, the only worker replaced after a crash). */
  private unassigned: Array<{ listenFd: number; fd: number }> = [];
  private nextPick = 0;

  constructor(private readonly opts: SupervisorOptions) {}

  private print(line: string): void {
    (this.opts.print ?? ((l: string) => process.stdout.write(l + '\n')))(line);
  }

  get ports(): ListenSpec[] {
    return this.listeners;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.startedAt = Date.now();
    this.loaded = loadConfig(this.opts);
    const { config, rootPath } = this.loaded;
    this.pidFile = path.join(rootPath, 'hdb.pid');
    for (const dir of ['log', 'keys', 'backup', 'components', 'database']) fs.mkdirSync(path.join(rootPath, dir), { recursive: true });
    // the workers load their code (~0.3-0.5 s of module loading each) while this thread installs, ensures the
    // applications' tables and reserves the ports; spawn() then hands each its data
    this.prewarm(config.threads.count);

    const env = this.opts.env ?? process.env;
    const flags = (await import('../config/index.js')).parseFlags(this.opts.argv ?? []);
    const input = (name: string) => (flags[name] !== undefined ? String(flags[name]) : env[name]);

    this.mainRuntime = new WeftRuntime({
      config, configFile: this.loaded.configFile, rootPath, version: this.opts.version, startedAt: this.startedAt,
      clock: this.clock.buffer, listeners: [], domainSocket: config.operationsApi.network.domainSocket || null,
      cluster: this.bridge(),
    });
    const install = await ensureSystemDatabase(this.mainRuntime.storage, {
      username: input('HDB_ADMIN_USERNAME'), password: input('HDB_ADMIN_PASSWORD'),
      hashFunction: config.authentication.hashFunction as HashFunction, version: this.opts.version,
    });
    // nothing runs yet: any job still marked CREATED/IN_PROGRESS was cut short by the previous process
    await new JobStore(this.mainRuntime.storage).failInterrupted();
    this.pool = new TaskPool({
      config, configFile: this.loaded.configFile, rootPath, version: this.opts.version, startedAt: this.startedAt,
      clock: this.clock.buffer,
    });
    // spec §1.3: a self-signed CA and certificate so secure ports work out of the box; made when a secure port is
    // configured and the files are missing (key generation would otherwise add to every first start)
    if (config.http.securePort != null || config.operationsApi.network.securePort != null) {
      ensureCertificates(rootPath, config.node.hostname);
    }
    if (install.generatedPassword) {
      this.print(`Created super user '${install.adminUser}' with password: ${install.generatedPassword}`);
      this.print('This password is shown once; change it with alter_user.');
    }

    this.applications = await this.ensureApplications();

    this.listeners = [];
    const specs: Array<[ListenSpec['name'], unknown]> = [
      ['operations', config.operationsApi.network.port], ['http', config.http.port],
      ['operations-secure', config.operationsApi.network.securePort], ['http-secure', config.http.securePort],
    ];
    const previous = this.sockets;
    this.sockets = new Map();
    try {
      for (const [name, value] of specs) {
        const p = parsePort(value);
        if (!p) continue;
        // port 0 means "any free port" once per listener, so two such listeners never share a socket
        const key = p.port === 0 ? `${name}|${p.host}:0` : `${p.host}:${p.port}`;
        let socket = this.sockets.get(key) ?? previous.get(key);
        if (!socket) socket = await reservePort(p.host, p.port);
        previous.delete(key);
        this.sockets.set(key, socket);
        this.listeners.push({ name, host: socket.host, port: socket.port, fd: socket.fd });
      }
    } finally {
      for (const socket of previous.values()) closeFd(socket.fd);
    }

    const count = config.threads.count;
    if (count === 0) {
      // threads.count 0: the main thread serves requests itself (spec §1.9)
      this.mainRuntime = await this.recreateMainWithListeners();
      await this.mainRuntime.start();
    } else {
      await this.mainRuntime.start();
      await this.startAccepting();
      this.slots = Array.from({ length: count }, (_, index) => ({ index, ready: false, failuresBeforeReady: 0, restarts: 0, retiring: new Set<Worker>() }));
      await Promise.all(this.slots.map((s) => this.spawn(s)));
    }
    this.mainRuntime.startMaintenance(parseDuration(config.logging.auditRetention, 3 * 86_400_000));
    fs.writeFileSync(this.pidFile, String(process.pid));
  }

  /**
   * A new root's 4096-bit RSA key pair takes ~2 s of CPU, so it is made on the first token operation instead of
   * before the workers serve. One at a time for the whole process: workers ask through the ensure-jwt-keys message.
   */
  private ensureJwtKeys(): Promise<boolean> {
    const rootPath = this.loaded.rootPath;
    this.jwtKeys = this.jwtKeys.catch(() => false).then(() => ensureJwtKeys(rootPath));
    return this.jwtKeys;
  }

  /**
   * Ensure the tables of every application once, here, before any worker starts (workers only map resources).
   * A broken application is reported and skipped; the server still starts (Harper reports it in component status).
   */
  private async ensureApplications(): Promise<string[]> {
    const { config } = this.loaded;
    const logger = this.mainRuntime!.logger;
    const loaded: string[] = [];
    for (const dir of [...componentFolders(config.componentsRoot), ...(this.opts.applications ?? [])]) {
      try {
        const app = readApplication(dir, (msg) => logger.warn(msg));
        // loadEnv first: workers started after this inherit the main thread's process.env
        for (const w of loadEnv(app).warnings) logger.warn(w);
        if (app.resourceFiles.length) linkPackage(app.path);
        const res = await ensureTables(this.mainRuntime!.storage, app.tables, config.logging.auditLog);
        for (const w of res.warnings) logger.warn(w);
        // roles.yaml (spec §5.2): after the tables, so role permissions can name them
        const roles = await ensureRoles(this.mainRuntime!.storage, this.mainRuntime!.users, readRoles(app));
        for (const e of roles.errors) { logger.error(e); this.print(`Error loading roles of ${dir}: ${e}`); }
        if (roles.created.length || roles.updated.length) this.broadcast({ type: 'auth-changed' });
        // dataLoader (spec §5.2): here on the main thread, so once per start or deploy, not once per worker
        const data = await loadData(app, this.mainRuntime!.storage, (database, table, records) => this.upsertAsLoader(database, table, records));
        for (const e of data.errors) { logger.error(e); this.print(e); }
        for (const l of data.loaded) logger.info(`dataLoader loaded ${l.records} records from ${l.file} into ${l.database}.${l.table}`);
        loaded.push(app.path);
      } catch (err) {
        logger.error({ err, application: dir }, 'application failed to load');
        this.print(`Error loading application ${dir}: ${(err as Error).message}`);
      }
    }
    return loaded;
  }

  /** A dataLoader file's records through the upsert operation, so they get the same validation as any write. */
  private async upsertAsLoader(database: string, table: string, records: Rec[]): Promise<number> {
    const user: User = { username: 'dataLoader', active: true, role: { id: 'super_user', role: 'super_user', permission: { super_user: true } } };
    const res = await executeOperation({ operation: 'upsert', database, table, records },
      { user, ip: '', transport: 'internal', requestId: 'dataLoader' }, this.mainRuntime!.services) as { upserted_hashes?: unknown[] };
    return res.upserted_hashes?.length ?? records.length;
  }

  private async recreateMainWithListeners(): Promise<WeftRuntime> {
    const { config, rootPath, configFile } = this.loaded;
    // the install-time runtime must release its storage handles before a second one opens the same files
    await this.mainRuntime?.close();
    return new WeftRuntime({
      config, configFile, rootPath, version: this.opts.version, startedAt: this.startedAt, clock: this.clock.buffer,
      listeners: this.listeners, domainSocket: config.operationsApi.network.domainSocket || null, cluster: this.bridge(),
      applications: this.applications,
    });
  }

  /**
   * Workers sharing one accept queue got connections unevenly: a burst (a client opening its pool of 50) went
   * mostly to whichever worker woke first, for the life of those connections (21/30 and 16/35 measured; 87%/32%
   * CPU in the GET bench). So the main thread accepts, never reading a byte (pauseOnConnect), gives the worker its
   * own dup of the descriptor and closes its handle (the dup keeps the connection open).
   */
  private async startAccepting(): Promise<void> {
    for (const listenFd of new Set(this.listeners.map((l) => l.fd))) {
      const server = net.createServer({ pauseOnConnect: true });
      server.on('connection', (socket) => this.accepted(listenFd, socket));
      server.on('error', (err) => this.mainRuntime?.logger.error({ err }, 'accepting a connection failed'));
      await listenShared(server, listenFd);
      this.acceptServers.push(server);
    }
  }

  private accepted(listenFd: number, socket: net.Socket): void {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    let own = -1;
    try {
      if (fd !== undefined && fd >= 0) own = dupFd(fd);
    } catch (err) {
      this.mainRuntime?.logger.warn({ err }, 'could not hand a connection over');
    }
    socket.destroy();
    if (own >= 0) this.handOff(listenFd, own);
  }

  /** Post a connection to the accepting worker with the fewest open plus not yet taken connections. */
  private handOff(listenFd: number, fd: number): void {
    if (this.stopping) { closeFd(fd); return; }
    let best: Acceptor | undefined;
    let bestLoad = Infinity;
    const all = [...this.acceptors.values()];
    // start the scan at a rotating index so ties do not all go to the first worker
    for (let i = 0; i < all.length; i++) {
      const a = all[(this.nextPick + i) % all.length]!;
      if (!a.accepting) continue;
      const load = Atomics.load(a.counters, 0) + a.seq - Atomics.load(a.counters, 1);
      if (load < bestLoad) { best = a; bestLoad = load; }
    }
    this.nextPick++;
    if (!best) { this.unassigned.push({ listenFd, fd }); return; }
    const taken = Atomics.load(best.counters, 1);
    while (best.posted.length && best.posted[0]!.seq <= taken) best.posted.shift();
    const seq = ++best.seq;
    best.posted.push({ seq, listenFd, fd });
    best.worker.postMessage({ type: 'connection', listenFd, fd, seq } satisfies MainMessage);
  }

  /** A worker is gone: connections posted to it but never taken are still open and unowned; give them to others. */
  private acceptorGone(worker: Worker): void {
    const a = this.acceptors.get(worker);
    if (!a) return;
    this.acceptors.delete(worker);
    const taken = Atomics.load(a.counters, 1);
    for (const p of a.posted) if (p.seq > taken) this.handOff(p.listenFd, p.fd);
  }

  private stopAccepting(): void {
    for (const s of this.acceptServers) s.close();
    this.acceptServers = [];
    for (const u of this.unassigned) closeFd(u.fd);
    this.unassigned = [];
  }

  private newWorker(workerData: WorkerData | DeferredWorkerData, name: string): Worker {
    const heap = this.loaded.config.threads.maxHeapMemory;
    return new Worker(WORKER_URL, {
      workerData, name,
      resourceLimits: heap ? { maxOldGenerationSizeMb: heap } : undefined,
      // WEFT_CPU_PROF=<dir>: each worker writes a V8 CPU profile there when it ends (bench/run.js --profile)
      ...(process.env.WEFT_CPU_PROF ? { execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${process.env.WEFT_CPU_PROF}`] } : {}),
    });
  }

  /** Start `count` deferred workers now; spawn() takes them in order. One that dies before it is taken is dropped. */
  private prewarm(count: number): void {
    this.dropWarm();
    for (let i = 0; i < count; i++) {
      const worker = this.newWorker({ deferred: true }, `http-${i}`);
      const entry: WarmWorker = {
        worker,
        onError: (err) => this.mainRuntime?.logger.error({ err }, 'worker error before it was started'),
        onExit: () => { this.warm = this.warm.filter((w) => w !== entry); },
      };
      worker.on('error', entry.onError);
      worker.once('exit', entry.onExit);
      this.warm.push(entry);
    }
  }

  /** End the deferred workers nobody took (start-up failed, or stopping). */
  private dropWarm(): void {
    for (const w of this.warm) {
      w.worker.off('exit', w.onExit);
      void w.worker.terminate();
    }
    this.warm = [];
  }

  /** Start a worker for a slot; resolves once it serves every port. A worker dying before ready is replaced. */
  private spawn(slot: Slot): Promise<void> {
    const { config, rootPath, configFile } = this.loaded;
    const data: WorkerData = {
      slot: slot.index, rootPath, configFile, config, listeners: this.listeners, domainSocket: null,
      clock: this.clock.buffer, version: this.opts.version, startedAt: this.startedAt, applications: this.applications,
      handoff: new SharedArrayBuffer(8),
    };
    const warm = this.warm.shift();
    let worker: Worker;
    if (warm) {
      worker = warm.worker;
      worker.off('error', warm.onError);
      worker.off('exit', warm.onExit);
      worker.postMessage({ type: 'init', data, env: { ...process.env } } satisfies MainMessage);
    } else {
      worker = this.newWorker(data, `http-${slot.index}`);
    }
    const previous = slot.worker;
    slot.worker = worker;
    slot.ready = false;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          slot.ready = true;
          slot.failuresBeforeReady = 0;
          this.acceptors.set(worker, { worker, counters: new Int32Array(data.handoff!), accepting: true, seq: 0, posted: [] });
          const waiting = this.unassigned;
          this.unassigned = [];
          for (const u of waiting) this.handOff(u.listenFd, u.fd);
          resolve();
          return;
        }
        void this.onWorkerMessage(worker, msg);
      });
      worker.on('error', (err) => {
        this.mainRuntime?.logger.error({ err, slot: slot.index }, 'worker error');
      });
      worker.on('exit', (code) => {
        this.forgetWorker(worker);
        this.acceptorGone(worker);
        if (slot.retiring.has(worker)) { slot.retiring.delete(worker); return; }
        if (this.stopping || slot.worker !== worker) return;
        const wasReady = slot.ready;
        slot.ready = false;
        this.mainRuntime?.logger.error({ slot: slot.index, code }, 'worker exited unexpectedly; replacing it');
        if (!wasReady && ++slot.failuresBeforeReady >= 5) {
          reject(new Error(`worker ${slot.index} failed to start 5 times; see the log`));
          return;
        }
        slot.restarts++;
        const delay = Math.min(1000, 50 * 2 ** Math.min(slot.failuresBeforeReady, 4));
        setTimeout(() => {
          if (this.stopping || slot.worker !== worker) return;
          this.spawn(slot).then(resolve, reject);
        }, delay);
      });
      void previous;
    });
  }

  private broadcast(msg: MainMessage, except?: Worker): void {
    for (const s of this.slots) if (s.worker && s.worker !== except) s.worker.postMessage(msg);
  }

  /** Ask every worker; resolve when all answered (or after `timeoutMs`). */
  private gather(make: (requestId: number) => MainMessage, timeoutMs = 5000): Promise<unknown[]> {
    const workers = this.slots.filter((s) => s.worker && s.ready).map((s) => s.worker!);
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      const values: unknown[] = [];
      const timer = setTimeout(() => { this.waiters.delete(requestId); resolve(values); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.waiters.delete(requestId); resolve(values); };
      if (workers.length === 0) return done();
      this.waiters.set(requestId, { pending: new Set(workers), done, values });
      for (const w of workers) w.postMessage(make(requestId));
    });
  }

  private answer(requestId: number, worker: Worker, value?: unknown): void {
    const w = this.waiters.get(requestId);
    if (!w || !w.pending.delete(worker)) return;
    if (value !== undefined) w.values.push(value);
    if (w.pending.size === 0) w.done();
  }

  /** A worker that exits will never answer: stop waiting for it instead of running into the gather timeout. */
  private forgetWorker(worker: Worker): void {
    for (const w of [...this.waiters.values()]) {
      if (w.pending.delete(worker) && w.pending.size === 0) w.done();
    }
  }

  private async onWorkerMessage(worker: Worker, msg: WorkerMessage): Promise<void> {
    const reply = (requestId: number, value?: unknown, error?: unknown) => {
      const e = error as { code?: string; status?: number; message?: string } | undefined;
      worker.postMessage({
        type: 'reply', requestId, value,
        error: e ? { code: (e.code as any) ?? 'INTERNAL', status: e.status ?? 500, message: e.message ?? 'error' } : undefined,
      } satisfies MainMessage);
    };
    switch (msg.type) {
      case 'broadcast':
        this.broadcast(msg.message, worker);
        if (msg.message.type === 'auth-changed') this.mainRuntime?.users.invalidate();
        break;
      case 'ensure-jwt-keys':
        this.ensureJwtKeys().then((v) => reply(msg.requestId, v), (e) => reply(msg.requestId, undefined, e));
        break;
      case 'drop-database':
        try { await this.dropDatabase(msg.database); reply(msg.requestId); } catch (e) { reply(msg.requestId, undefined, e); }
        break;
      case 'restart-process':
        void this.restartProcess();
        break;
      case 'restart-workers':
        reply(msg.requestId);
        void this.restartWorkers();
        break;
      case 'thread-info-request':
        reply(msg.requestId, await this.threadInfo());
        break;
      case 'run-task':
        this.runTask(msg.task).then((v) => reply(msg.requestId, v), (e) => reply(msg.requestId, undefined, e));
        break;
      case 'ack':
        this.answer(msg.requestId, worker);
        break;
      case 'thread-info':
        this.answer(msg.requestId, worker, msg.info);
        break;
      case 'ready':
      case 'drained':
        break;
    }
  }

  private async dropDatabase(database: string): Promise<void> {
    await this.gather((requestId) => ({ type: 'close-database', database, requestId }));
    await this.mainRuntime?.storage.closeDatabase(database);
    this.mainRuntime?.storage.removeDatabaseFiles(database);
  }

  async threadInfo(): Promise<ThreadInfo[]> {
    const workers = (await this.gather((requestId) => ({ type: 'thread-info', requestId }))) as ThreadInfo[];
    return [threadInfoOf(-1), ...workers.sort((a, b) => a.slot - b.slot)];
  }

  private bridge(): ClusterBridge {
    return {
      schemaChanged: (database) => this.broadcast({ type: 'schema-changed', database }),
      authChanged: () => { this.broadcast({ type: 'auth-changed' }); this.mainRuntime?.users.invalidate(); },
      dropDatabase: (database) => this.dropDatabase(database),
      restartProcess: () => void this.restartProcess(),
      restartWorkers: () => this.restartWorkers(),
      threadInfo: () => this.threadInfo(),
      ensureJwtKeys: () => this.ensureJwtKeys(),
      runTask: (task) => this.runTask(task),
    };
  }

  runTask(task: PoolTask): Promise<unknown> {
    if (!this.pool) return Promise.reject(new Error('the background pool is not running'));
    return this.pool.run(task);
  }

  /** Drain a worker: it stops accepting, finishes in-flight requests and exits. */
  private retire(slot: Slot, worker: Worker, lingerMs = 0): Promise<void> {
    slot.retiring.add(worker);
    const acceptor = this.acceptors.get(worker);
    if (acceptor) acceptor.accepting = false;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => { void worker.terminate(); }, 15_000);
      worker.once('exit', () => { clearTimeout(timer); resolve(); });
      worker.on('message', (m: WorkerMessage) => { if (m.type === 'drained') void worker.terminate(); });
      worker.postMessage({ type: 'drain', lingerMs } satisfies MainMessage);
    });
  }

  /**
   * Rolling restart: each slot gets a new worker that is serving before the old one drains. The applications are
   * read and their tables ensured again first, so a deployed or changed component is what the new workers load.
   */
  restartWorkers(): Promise<void> {
    // one rolling restart at a time: two at once would spawn twice into the same slot
    const next = this.restartChain.then(() => this.rollWorkers());
    this.restartChain = next.catch(() => {});
    return next;
  }

  private async rollWorkers(): Promise<void> {
    if (this.slots.length && !this.stopping) this.applications = await this.ensureApplications();
    const retiring: Promise<void>[] = [];
    for (const slot of this.slots) {
      if (this.stopping) break;
      const old = slot.worker;
      await this.spawn(slot);
      // Keep-alive clients of the old worker get `Connection: close` on their next response and move to the new
      // one; closing their idle sockets at once races with a request already on its way (ECONNRESET). The old
      // worker lingers while the next slot is replaced, so a restart takes one linger, not one per slot.
      const net = this.loaded.config.operationsApi.network;
      if (old) retiring.push(this.retire(slot, old, Math.min(Math.max(net.keepAliveTimeout, this.loaded.config.http.keepAliveTimeout), 10_000)));
    }
    await Promise.all(retiring);
  }

  /** Restart everything in this process (same pid): re-read config, rebind the same ports, new workers. */
  async restartProcess(): Promise<void> {
    if ((this.opts.env ?? process.env).HARPER_EXIT_ON_RESTART) { await this.shutdown(0); return; }
    // The listening sockets stay open: clients queue instead of being refused, and the ports do not change.
    await this.stopAll(true);
    fs.rmSync(this.pidFile, { force: true });
    try {
      await this.start();
      this.print(`Weft ${this.opts.version} successfully restarted`);
    } catch (err) {
      this.print(`Restart failed: ${(err as Error).message}`);
      this.opts.onExit?.(1);
    }
  }

  private async stopAll(keepSockets = false): Promise<void> {
    this.stopping = true;
    this.dropWarm();
    // new connections wait in the kernel's queue of the listening socket (kept open across a restart)
    this.stopAccepting();
    // running jobs stop at their next batch boundary and record what they wrote
    await this.pool?.close(5_000);
    this.pool = undefined;
    await Promise.all(this.slots.map((s) => (s.worker ? this.retire(s, s.worker) : undefined)));
    this.slots = [];
    await this.mainRuntime?.close();
    if (this.loaded?.config.operationsApi.network.domainSocket) fs.rmSync(this.loaded.config.operationsApi.network.domainSocket, { force: true });
    if (!keepSockets) {
      for (const socket of this.sockets.values()) closeFd(socket.fd);
      this.sockets.clear();
    }
  }

  async shutdown(code = 0): Promise<void> {
    if (this.stopping && code === 0 && !this.slots.length) { this.opts.onExit?.(code); return; }
    await this.stopAll();
    if (this.pidFile) fs.rmSync(this.pidFile, { force: true });
    this.opts.onExit?.(code);
  }
}

/** `3d`, `12h`, `30m`, `45s`, `500ms` or a number of ms. */
export function parseDuration(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(String(v ?? '').trim());
  if (!m) return fallback;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return n * unit;
}
