/**
 * Users and roles as kept in the system database, and authentication of a request's credentials.
 * Successful authentications are cached per Authorization header for authentication.cacheTTL ms; user and role
 * changes clear the cache on every thread.
 */
import { createHash } from 'node:crypto';
import { weftError } from '../errors/index.js';
import type { LmdbStorage, Table } from '../storage/index.js';
import { verifyPassword, type HashFunction } from './passwords.js';
import type { Role, User } from './types.js';

export const SYSTEM_DB = 'system';
export const USER_TABLE = 'hdb_user';
export const ROLE_TABLE = 'hdb_role';

interface StoredUser {
  username: string;
  password: string;
  role: string;
  active: boolean;
  hash_function?: HashFunction;
  __createdtime__?: number;
  __updatedtime__?: number;
}

export class UserStore {
  private cache = new Map<string, { user: User; expires: number }>();
  constructor(private readonly storage: LmdbStorage, private readonly cacheTTL: number) {}

  private table(name: string): Table {
    const t = this.storage.database(SYSTEM_DB)?.table(name);
    if (!t) throw new Error(`system table ${name} is missing`);
    return t;
  }

  invalidate(): void {
    this.cache.clear();
  }

  role(id: string): Role | undefined {
    return this.table(ROLE_TABLE).get(id) as Role | undefined;
  }

  /** The user with its role record (without secrets), or undefined. */
  user(username: string): User | undefined {
    const stored = this.table(USER_TABLE).get(username) as StoredUser | undefined;
    if (!stored) return undefined;
    const role = this.role(stored.role) ?? { id: stored.role, role: stored.role, permission: {} };
    const out: User = { username: stored.username, active: stored.active !== false, role };
    if (stored.__createdtime__) out.__createdtime__ = stored.__createdtime__;
    if (stored.__updatedtime__) out.__updatedtime__ = stored.__updatedtime__;
    return out;
  }

  /** The first user whose role is named super_user (authorizeLocal and the unix socket run as it). */
  superUser(): User | undefined {
    for (const rec of this.table(USER_TABLE).scan()) {
      const u = rec as unknown as StoredUser;
      const role = this.role(u.role);
      if (role && (role.role === 'super_user' || role.permission?.super_user) && u.active !== false) return this.user(u.username);
    }
    return undefined;
  }

  async checkPassword(username: string, password: string): Promise<User> {
    const stored = this.table(USER_TABLE).get(username) as StoredUser | undefined;
    if (!stored || !(await verifyPassword(password, stored.password, stored.hash_function))) throw weftError('LOGIN_FAILED');
    if (stored.active === false) throw weftError('USER_INACTIVE');
    return this.user(username)!;
  }

  /** Authenticate an `Authorization: Basic ...` header. Returns null when it carries no credentials. */
  async authenticateBasic(header: string): Promise<User | null> {
    const cacheKey = createHash('sha256').update(header).digest('base64');
    const hit = this.cache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.user;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (!username && !password) return null;
    const user = await this.checkPassword(username, password);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKey, { user, expires: Date.now() + this.cacheTTL });
    return user;
  }
}
