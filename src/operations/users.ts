/**
 * Users, roles, tokens, login and logout (spec §2.11, §2.12). Storage goes through the UserStore; every change tells
 * the other threads to drop their authentication caches. Passwords and token hashes never leave this file in a result.
 */
import { weftError } from '../errors/index.js';
import {
  hashPassword, readCookie, sessionCookie, sessionCookieName, validateRoleRequest,
  type Role, type SchemaLookup, type StoredUser, type User,
} from '../auth/index.js';
import type { Rec } from '../storage/index.js';
import type { Handler, ServerServices } from './types.js';

const SECRET_FIELDS = ['password', 'hash', 'refresh_token', 'hash_function'];

function authChanged(services: ServerServices): void {
  services.users.invalidate();
  services.cluster.authChanged();
}

/** Old-style validator messages (`Username can't be blank`), several joined with `,` (spec §2.3). */
function validateFields(req: Record<string, unknown>, fields: Array<[string, string, 'string' | 'boolean']>): void {
  const problems: string[] = [];
  for (const [field, label, type] of fields) {
    const v = req[field];
    if (v === undefined || v === null || v === '') problems.push(`${label} can't be blank`);
    else if (typeof v !== type) problems.push(`${label} must be a ${type}`);
  }
  if (problems.length) throw weftError('VALIDATION', problems.join(','));
}

/** The role record a user-facing role name refers to (names are unique by rule, not by storage). */
function roleByName(services: ServerServices, name: string): Role | undefined {
  const named = services.users.rolesNamed(name);
  if (named.length > 1) throw weftError('DUPLICATE_ROLE_NAMES', name);
  return named[0];
}

function schemaLookup(services: ServerServices): SchemaLookup {
  return {
    hasDatabase: (db) => services.storage.hasDatabase(db),
    tableAttributes: (db, table) => services.storage.database(db)?.table(table)?.attributeNames(),
  };
}

export const addUser: Handler = async (req, ctx, services) => {
  validateFields(req, [['username', 'Username', 'string'], ['password', 'Password', 'string'], ['role', 'Role', 'string'], ['active', 'Active', 'boolean']]);
  const username = req.username as string;
  const roleName = req.role as string;
  const role = roleByName(services, roleName);
  if (!role) throw weftError('ROLE_NAME_NOT_FOUND', roleName);
  const hashFunction = services.users.hashFunction;
  const password = await hashPassword(req.password as string, hashFunction);
  await services.users.transact((txn, { users }) => {
    if (txn.get(users, username)) throw weftError('USER_EXISTS', username);
    const rec: Rec = { username, password, role: role.id, active: req.active as boolean, hash_function: hashFunction };
    txn.stampTimes(users, rec, undefined);
    txn.put(users, username, rec, 'insert', null);
  }, ctx.user?.username);
  authChanged(services);
  return { message: `${username} successfully added` };
};

export const alterUser: Handler = async (req, ctx, services) => {
  const username = req.username;
  if (username === undefined || username === null || username === '') throw weftError('VALIDATION', 'username is required');
  if (typeof username !== 'string') throw weftError('VALIDATION', 'username must be a string');
  if (req.password === undefined && req.role === undefined && req.active === undefined) {
    throw weftError('VALIDATION', 'nothing to update, must supply active, role or password to update');
  }
  if (req.password !== undefined && (req.password === '' || req.password === null)) throw weftError('VALIDATION', 'password cannot be an empty string');
  if (req.password !== undefined && typeof req.password !== 'string') throw weftError('VALIDATION', 'password must be a string');
  if (req.active !== undefined && typeof req.active !== 'boolean') throw weftError('VALIDATION', 'active must be true or false');
  if (req.role !== undefined && (req.role === '' || req.role === null)) throw weftError('VALIDATION', 'If role is specified, it cannot be empty.');
  if (req.role !== undefined && typeof req.role !== 'string') throw weftError('VALIDATION', 'role must be a string');
  let roleId: string | undefined;
  if (typeof req.role === 'string') {
    const role = roleByName(services, req.role) ?? services.users.role(req.role);
    if (!role) throw weftError('ALTER_USER_ROLE_NOT_FOUND', req.role);
    roleId = role.id;
  }
  const hashFunction = services.users.hashFunction;
  const password = typeof req.password === 'string' ? await hashPassword(req.password, hashFunction) : undefined;
  const { result: found, txnTime } = await services.users.transact((txn, { users }) => {
    const prev = txn.get(users, username) as StoredUser | undefined;
    if (!prev) return false;
    const rec: Rec = { ...prev };
    if (password !== undefined) { rec.password = password; rec.hash_function = hashFunction; }
    if (roleId !== undefined) rec.role = roleId;
    if (typeof req.active === 'boolean') rec.active = req.active;
    txn.stampTimes(users, rec, prev as unknown as Rec);
    txn.put(users, username, rec, 'update', prev as unknown as Rec);
    return true;
  }, ctx.user?.username);
  authChanged(services);
  return {
    message: `updated ${found ? 1 : 0} of 1 records`, new_attributes: [], txn_time: txnTime,
    update_hashes: found ? [username] : [], skipped_hashes: found ? [] : [username],
  };
};

export const dropUser: Handler = async (req, ctx, services) => {
  validateFields(req, [['username', 'Username', 'string']]);
  const username = req.username as string;
  await services.users.transact((txn, { users }) => {
    if (!txn.get(users, username)) throw weftError('USER_NOT_FOUND', username);
    txn.remove(users, username);
  }, ctx.user?.username);
  authChanged(services);
  return { message: `${username} successfully deleted` };
};

/** A role as list_users shows it: the system tables listed with read = super user (spec §2.11). */
function roleForListing(role: Role | undefined, services: ServerServices): Role | undefined {
  if (!role) return undefined;
  const su = role.permission?.super_user === true;
  const tables: Record<string, unknown> = {};
  for (const t of services.storage.database('system')?.tableNames() ?? []) {
    tables[t] = { read: su, insert: false, update: false, delete: false, attribute_permissions: [] };
  }
  return { ...role, permission: { ...role.permission, system: { tables } } };
}

function publicUser(stored: StoredUser | Rec): Rec {
  const out: Rec = { ...stored };
  for (const f of SECRET_FIELDS) delete out[f];
  return out;
}

export const listUsers: Handler = (_req, _ctx, services) => {
  const roles = new Map(services.users.roles().map((r) => [r.id, r]));
  return services.users.storedUsers().map((u) => {
    const out = publicUser(u);
    out.role = roleForListing(roles.get(u.role), services) ?? u.role;
    return out;
  });
};

export const userInfo: Handler = (_req, ctx, services) => {
  const user: User | null | undefined = ctx.user && (services.users.user(ctx.user.username) ?? ctx.user);
  if (!user) throw weftError('MUST_LOGIN');
  return publicUser(user as unknown as Rec);
};

export const addRole: Handler = async (req, ctx, services) => {
  const input = { ...req } as Record<string, unknown>;
  validateRoleRequest(input, schemaLookup(services), true);
  const name = input.role as string;
  const id = typeof input.id === 'string' && input.id !== '' ? input.id : name;
  const { result } = await services.users.transact((txn, { roles }) => {
    for (const r of roles.scan()) if ((r as unknown as Role).role === name) throw weftError('ROLE_EXISTS', name);
    if (txn.get(roles, id)) throw weftError('ROLE_EXISTS', name);
    const rec: Rec = { role: name, permission: input.permission, id };
    txn.stampTimes(roles, rec, undefined);
    txn.put(roles, id, rec, 'insert', null);
    return rec;
  }, ctx.user?.username);
  authChanged(services);
  return result;
};

export const alterRole: Handler = async (req, ctx, services) => {
  const input = { ...req } as Record<string, unknown>;
  if (input.id === undefined || input.id === null || input.id === '') throw weftError('VALIDATION', "Id can't be blank");
  validateRoleRequest(input, schemaLookup(services), false);
  const id = input.id as string;
  const name = typeof input.role === 'string' && input.role !== '' ? input.role : undefined;
  await services.users.transact((txn, { roles }) => {
    const prev = txn.get(roles, id);
    if (!prev) throw weftError('INVALID_ROLE_ID');
    if (name !== undefined) {
      for (const r of roles.scan()) {
        const role = r as unknown as Role;
        if (role.role === name && role.id !== id) throw weftError('ROLE_EXISTS', name);
      }
    }
    const rec: Rec = { ...prev, permission: input.permission };
    if (name !== undefined) rec.role = name;
    txn.stampTimes(roles, rec, prev);
    txn.put(roles, id, rec, 'update', prev);
  }, ctx.user?.username);
  authChanged(services);
  const out: Rec = { ...input };
  delete out.operation;
  return out;
};

export const dropRole: Handler = async (req, ctx, services) => {
  if (req.id === undefined || req.id === null || req.id === '') throw weftError('VALIDATION', "Id can't be blank");
  if (typeof req.id !== 'string') throw weftError('VALIDATION', 'Id must be a string');
  const id = req.id;
  const { result: name } = await services.users.transact((txn, { roles, users }) => {
    const role = txn.get(roles, id) as unknown as Role | undefined;
    if (!role) throw weftError('ROLE_NOT_FOUND');
    for (const u of users.scan()) {
      const user = u as unknown as StoredUser;
      if (user.role === id && user.active !== false) throw weftError('ROLE_IN_USE', role.role);
    }
    txn.remove(roles, id);
    return role.role;
  }, ctx.user?.username);
  authChanged(services);
  return { message: `${name} successfully deleted` };
};

export const listRoles: Handler = (_req, _ctx, services) => services.users.roles();

function optionalStringField(req: Record<string, unknown>, field: string): string | undefined {
  const v = req[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw weftError('FIELD_TYPE', field, 'a string');
  return v;
}

export const createAuthenticationTokens: Handler = async (req, ctx, services) => {
  const username = optionalStringField(req, 'username');
  const password = optionalStringField(req, 'password');
  if (req.expires_in !== undefined && typeof req.expires_in !== 'string' && typeof req.expires_in !== 'number') {
    throw weftError('FIELD_TYPE', 'expires_in', 'a string or a number');
  }
  let user: User | null = null;
  if (username !== undefined || password !== undefined) {
    try {
      user = await services.users.checkPassword(username ?? '', password ?? '', ctx.ip);
    } catch (err) {
      if ((err as { code?: string }).code === 'LOGIN_THROTTLED') throw err;
      throw weftError('INVALID_CREDENTIALS');
    }
  } else {
    user = ctx.user;
  }
  if (!user) throw weftError('MUST_LOGIN');
  return services.users.createTokens(user, req.expires_in);
};

export const refreshOperationToken: Handler = async (req, _ctx, services) => {
  const token = req.refresh_token;
  if (token === undefined || token === null || token === '') throw weftError('FIELD_REQUIRED', 'refresh_token');
  if (typeof token !== 'string') throw weftError('FIELD_TYPE', 'refresh_token', 'a string');
  return services.users.refreshOperationToken(token);
};

export const login: Handler = async (req, ctx, services) => {
  const username = req.username, password = req.password;
  if (typeof username !== 'string' || typeof password !== 'string' || !username) throw weftError('LOGIN_FAILED');
  const user = await services.users.checkPassword(username, password, ctx.ip);
  if (!services.config.authentication.enableSessions) return { message: 'Login successful' };
  const id = await services.users.createSession(user.username);
  const cookieCfg = services.config.authentication.cookie;
  const { cookie, secure } = sessionCookie(ctx.request, id, { expires: cookieCfg.expires, domains: cookieCfg.domains });
  ctx.responseHeaders ??= {};
  ctx.responseHeaders['Set-Cookie'] = [cookie];
  if (secure) {
    ctx.responseHeaders['X-Hdb-Session'] = 'Secure';
    if (ctx.request?.headers.origin) ctx.responseHeaders['Access-Control-Expose-Headers'] = 'X-Hdb-Session';
  }
  return { message: 'Login successful' };
};

export const logout: Handler = async (_req, ctx, services) => {
  const id = readCookie(ctx.request, sessionCookieName(ctx.request));
  if (id) await services.users.endSession(id);
  return { message: 'Logout successful' };
};

