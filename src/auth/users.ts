/**
 * Users, roles and sessions as kept in the system database, and authentication of a request's credentials (Basic,
 * Bearer JWT, session cookie). Successful authentications are cached per credential for authentication.cacheTTL ms.
 * Every user/role change bumps an "auth epoch" record in the same transaction; a cache hit is only used while the
 * epoch is unchanged, so a change is effective on every thread at once, even before the `auth-changed` broadcast
 * arrives.
 */
import { randomUUID } from 'node:crypto';
import { weftError } from '../errors/index.js';
import type { Database, LmdbStorage, Rec, Table, WriteTxn } from '../storage/index.js';
import { hashPassword, verifyPassword, type HashFunction } from './passwords.js';
import { LoginThrottle, type ThrottleOptions } from './throttle.js';
import { TokenService, parseLifetime, type TokenKind } from './tokens.js';
import type { Role, User } from './types.js';

export const SYSTEM_DB = 'system';
export const USER_TABLE = 'hdb_user';
export const ROLE_TABLE = 'hdb_role';
export const SESSION_TABLE = 'hdb_session';
const INFO_TABLE = 'hdb_info';
const EPOCH_KEY = 'auth_epoch';

export interface StoredUser {
  username: string;
  password: string;
  role: string;
  active: boolean;
  hash_function?: HashFunction;
  refresh_token?: string;
  __createdtime__?: number;
  __updatedtime__?: number;
}

export interface UserStoreOptions {
  cacheTTL: number;
  rootPath: string;
  hashFunction?: string;
  operationTokenTimeout?: unknown;
  refreshTokenTimeout?: unknown;
  throttle?: ThrottleOptions;
  /** Creates the JWT key pair when missing, once per process (see TokenService). */
  ensureJwtKeys?: () => Promise<unknown>;
}

interface CacheEntry { user: User; expires: number; epoch: number }

export class UserStore {
  private cache = new Map<string, CacheEntry>();
  readonly throttle: LoginThrottle;
  readonly tokens: TokenService;
  private readonly opts: UserStoreOptions;

  constructor(private readonly storage: LmdbStorage, opts: UserStoreOptions | number) {
    this.opts = typeof opts === 'number' ? { cacheTTL: opts, rootPath: '.' } : opts;
    this.throttle = new LoginThrottle(this.opts.throttle ?? { maxFailuresPerUser: 10, maxFailuresPerAddress: 100, window: 300_000 });
    this.tokens = new TokenService(this.opts.rootPath, this.opts.ensureJwtKeys);
  }

  private db(): Database {
    const db = this.storage.database(SYSTEM_DB);
    if (!db) throw new Error('system database is missing');
    return db;
  }

  private table(name: string): Table {
    const t = this.db().table(name);
    if (!t) throw new Error(`system table ${name} is missing`);
    return t;
  }

  /** New passwords never use md5 (spec §9 item 23). */
  get hashFunction(): HashFunction {
    const f = this.opts.hashFunction;
    return f === 'argon2id' ? 'argon2id' : 'sha256';
  }

  invalidate(): void {
    this.cache.clear();
  }

  /**
   * Moves with every user/role write on any thread of the process: a counter in memory shared by the threads
   * (bumped right after the commit), so a cache hit costs no LMDB read. The stored epoch record is kept as the
   * durable trace of the change.
   */
  epoch(): number {
    return this.db().changeSignal();
  }

  /**
   * One transaction on the system database that changes users or roles; bumps the epoch and clears this thread's
   * cache. Callers broadcast `auth-changed` to the other threads.
   */
  async transact<T>(fn: (txn: WriteTxn, tables: { users: Table; roles: Table; sessions: Table }) => T, actor?: string): Promise<{ result: T; txnTime: number }> {
    const out = await this.db().transact((txn) => {
      const tables = { users: txn.table(USER_TABLE)!, roles: txn.table(ROLE_TABLE)!, sessions: txn.table(SESSION_TABLE)! };
      const result = fn(txn, tables);
      const info = txn.table(INFO_TABLE)!;
      const prev = txn.get(info, EPOCH_KEY) as { epoch?: number } | undefined;
      txn.put(info, EPOCH_KEY, { info_id: EPOCH_KEY, epoch: (prev?.epoch ?? 0) + 1 }, 'upsert', prev ?? null);
      return result;
    }, actor, { signal: true });
    this.invalidate();
    return out;
  }

  role(id: string): Role | undefined {
    return this.table(ROLE_TABLE).get(id) as Role | undefined;
  }

  roles(): Role[] {
    return [...this.table(ROLE_TABLE).scan()] as unknown as Role[];
  }

  rolesNamed(name: string): Role[] {
    return this.roles().filter((r) => r.role === name);
  }

  storedUser(username: string): StoredUser | undefined {
    return this.table(USER_TABLE).get(username) as StoredUser | undefined;
  }

  storedUsers(): StoredUser[] {
    return [...this.table(USER_TABLE).scan()] as unknown as StoredUser[];
  }

  /** The user with its role record (without secrets), or undefined. */
  user(username: string): User | undefined {
    const stored = this.storedUser(username);
    return stored ? this.toUser(stored) : undefined;
  }

  private toUser(stored: StoredUser): User {
    const out: User = { username: stored.username, active: stored.active !== false, role: this.role(stored.role) ?? null };
    if (stored.__createdtime__) out.__createdtime__ = stored.__createdtime__;
    if (stored.__updatedtime__) out.__updatedtime__ = stored.__updatedtime__;
    return out;
  }

  /** The first user whose role is named super_user (authorizeLocal and the unix socket run as it). */
  superUser(): User | undefined {
    for (const u of this.storedUsers()) {
      const role = this.role(u.role);
      if (role && (role.role === 'super_user' || role.permission?.super_user === true) && u.active !== false) return this.toUser(u);
    }
    return undefined;
  }

  /** Password check with failed-login throttling per username and address. */
  async checkPassword(username: string, password: string, address = ''): Promise<User> {
    this.throttle.check(username, address);
    const stored = this.storedUser(username);
    if (!stored || !(await verifyPassword(password, stored.password, stored.hash_function))) {
      this.throttle.failed(username, address);
      throw weftError('LOGIN_FAILED');
    }
    this.throttle.succeeded(username);
    if (stored.active === false) throw weftError('USER_INACTIVE');
    return this.toUser(stored);
  }

  private cached(key: string): User | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (hit.expires > Date.now() && hit.epoch === this.epoch()) return hit.user;
    this.cache.delete(key);
    return undefined;
  }

  private remember(key: string, user: User, epoch: number, ttl = this.opts.cacheTTL): void {
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { user, expires: Date.now() + ttl, epoch });
  }

  /** Authenticate an `Authorization: Basic ...` header. Returns null when it carries no credentials. */
  /** The user a Basic header authenticated within the cache's TTL (and user epoch), without any await. */
  cachedBasic(header: string): User | undefined {
    return this.cached(header);
  }

  async authenticateBasic(header: string, address = ''): Promise<User | null> {
    // the header itself is the key: hashing it cost more per request than the rest of the cache hit
    const cacheKey = header;
    const hit = this.cached(cacheKey);
    if (hit) return hit;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (!username && !password) return null;
    const epoch = this.epoch();
    // the epoch moved because another thread committed a change: read past this thread's snapshot, which may be
    // older than that commit, or the old user would be cached under the new epoch for cacheTTL
    this.db().refreshReads();
    const user = await this.checkPassword(username, password, address);
    this.remember(cacheKey, user, epoch);
    return user;
  }

  /** A JWT of the given kind -> its user, who must still exist and be active. */
  async authenticateToken(token: string, kind: TokenKind): Promise<User> {
    const cacheKey = `${kind}:${token}`;
    const hit = this.cached(cacheKey);
    if (hit) return hit;
    const epoch = this.epoch();
    const claims = await this.tokens.verify(token, kind);
    this.db().refreshReads(); // as in authenticateBasic
    const stored = this.storedUser(claims.username);
    if (!stored || stored.active === false) throw weftError('INVALID_TOKEN');
    if (kind === 'refresh' && !(stored.refresh_token && (await verifyPassword(token, stored.refresh_token, 'sha256')))) {
      throw weftError('INVALID_TOKEN');
    }
    const user = this.toUser(stored);
    this.remember(cacheKey, user, epoch, Math.min(this.opts.cacheTTL, claims.exp * 1000 - Date.now()));
    return user;
  }

  private lifetime(v: unknown, fallback: number): number {
    return parseLifetime(v) ?? fallback;
  }

  /** Operation + refresh token; stores the refresh token's hash on the user (only the latest stays valid). */
  async createTokens(user: User, expiresIn?: unknown): Promise<{ operation_token: string; refresh_token: string }> {
    const claims = { username: user.username, super_user: user.role?.permission?.super_user === true };
    const opLife = expiresIn !== undefined ? parseLifetime(expiresIn) : this.lifetime(this.opts.operationTokenTimeout, 86_400_000);
    if (opLife === undefined) throw weftError('VALIDATION', "'expires_in' must be a number of seconds or a duration such as '1d'");
    const operation_token = await this.tokens.sign(claims, 'operation', opLife);
    const refresh_token = await this.tokens.sign(claims, 'refresh', this.lifetime(this.opts.refreshTokenTimeout, 30 * 86_400_000));
    const hash = await hashPassword(refresh_token, 'sha256');
    // through transact(): a refresh token cached by any thread must stop working once a newer one is issued
    await this.transact((txn, { users }) => {
      const prev = txn.get(users, user.username);
      if (!prev) throw weftError('INVALID_CREDENTIALS');
      const rec: Rec = { ...prev, refresh_token: hash };
      txn.stampTimes(users, rec, prev);
      txn.put(users, user.username, rec, 'update', prev);
    }, user.username);
    return { operation_token, refresh_token };
  }

  async refreshOperationToken(refreshToken: string): Promise<{ operation_token: string }> {
    const user = await this.authenticateToken(refreshToken, 'refresh');
    const claims = { username: user.username, super_user: user.role?.permission?.super_user === true };
    return { operation_token: await this.tokens.sign(claims, 'operation', this.lifetime(this.opts.operationTokenTimeout, 86_400_000)) };
  }

  /** The active user of a session id, or undefined (no session, logged out, user dropped or inactive). */
  sessionUser(id: string): User | undefined {
    const s = this.table(SESSION_TABLE).get(id) as { user?: string | null } | undefined;
    if (!s?.user) return undefined;
    const u = this.user(s.user);
    return u?.active ? u : undefined;
  }

  async createSession(username: string): Promise<string> {
    const id = randomUUID();
    await this.db().transact((txn) => {
      const t = txn.table(SESSION_TABLE)!;
      const rec: Rec = { id, user: username };
      txn.stampTimes(t, rec, undefined);
      txn.put(t, id, rec, 'insert', null);
    }, username);
    return id;
  }

  /** Logout keeps the session record (and the client's cookie) but clears its user (spec §7.3). */
  async endSession(id: string): Promise<void> {
    await this.db().transact((txn) => {
      const t = txn.table(SESSION_TABLE)!;
      const prev = txn.get(t, id);
      if (!prev) return;
      const rec: Rec = { ...prev, user: null };
      txn.stampTimes(t, rec, prev);
      txn.put(t, id, rec, 'update', prev);
    });
  }
}
