/**
 * The one authorisation module (spec §2.6, §7.6). Every protocol asks the same questions here: may this user do
 * these actions on this table, touching these attributes? The Operations API maps an operation to such checks; REST,
 * SQL and the real-time protocols call `evaluateAccess` / `authorizeTable` with what their request touches.
 *
 * Rules: a super user may do everything (the `system` write rule is enforced by the handlers); anything not granted
 * is denied; attribute permissions apply only when a table lists them; the primary key receives the union of the
 * attribute grants when it is not listed itself.
 */
import { weftError, type WeftError } from '../errors/index.js';
import { isSuperUser, type User } from './types.js';

export type Action = 'read' | 'insert' | 'update' | 'delete';
export const ACTIONS: readonly Action[] = ['read', 'insert', 'update', 'delete'];

export interface AttributePermission { attribute_name: string; read: boolean; insert: boolean; update: boolean }
export interface TablePermission {
  read: boolean; insert: boolean; update: boolean; delete: boolean;
  attribute_permissions?: AttributePermission[] | null;
}

/** One thing a request wants to do to one table. */
export interface AccessCheck {
  database: string;
  table: string;
  /** Table-level permissions required. */
  actions: Action[];
  /** Attributes the request reads or writes; each needs `attributeActions` (default: `actions`). */
  attributes?: Iterable<string>;
  attributeActions?: Action[];
  /** The table's primary key, for the union rule; omit when unknown. */
  primaryKey?: string;
}

export interface UnauthorizedTable {
  schema: string;
  table: string;
  required_table_permissions: Action[];
  required_attribute_permissions: Array<{ attribute_name: string; required_permissions: Action[] }>;
}

export interface AccessResult {
  allowed: boolean;
  unauthorized_access: Array<string | UnauthorizedTable>;
  invalid_schema_items: string[];
}

export const TIMESTAMP_ATTRIBUTES: ReadonlySet<string> = new Set(['__createdtime__', '__updatedtime__']);

export function noRoleMessage(username: string): string {
  return `User ${username} has no role or permissions.  Please assign the user a valid role.`;
}

/** A user whose role record is missing or carries no permission object. */
export function hasRole(user: User): boolean {
  const p = user.role?.permission;
  return !!p && typeof p === 'object' && !Array.isArray(p);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The table permission a role grants, or undefined. `permission.<db>.tables.<table>`, and for the `data` database also
 * the shorthand `permission.<table>` (spec §7.6).
 */
export function tablePermission(user: User | null, database: string, table: string): TablePermission | undefined {
  const perm = user?.role?.permission;
  if (!isObject(perm)) return undefined;
  const db = perm[database];
  if (isObject(db) && isObject(db.tables)) {
    const t = (db.tables as Record<string, unknown>)[table];
    if (Object.prototype.hasOwnProperty.call(db.tables, table) && isObject(t)) return t as unknown as TablePermission;
  }
  if (database === 'data' && Object.prototype.hasOwnProperty.call(perm, table)) {
    const t = perm[table];
    if (isObject(t) && !isObject(t.tables)) return t as unknown as TablePermission;
  }
  return undefined;
}

/** `describe` visibility: any CRUD grant on the table. */
export function canSeeTable(user: User | null, database: string, table: string): boolean {
  if (isSuperUser(user)) return true;
  const t = tablePermission(user, database, table);
  return !!t && ACTIONS.some((a) => t[a] === true);
}

/** The names of tables a role lists for a database (visible or not). */
export function listedTables(user: User | null, database: string): string[] {
  const perm = user?.role?.permission;
  if (!isObject(perm)) return [];
  const out = new Set<string>();
  const db = perm[database];
  if (isObject(db) && isObject(db.tables)) for (const t of Object.keys(db.tables)) out.add(t);
  if (database === 'data') {
    for (const [k, v] of Object.entries(perm)) if (isObject(v) && !isObject(v.tables) && k !== 'super_user' && k !== 'structure_user') out.add(k);
  }
  return [...out];
}

export function canSeeDatabase(user: User | null, database: string): boolean {
  if (isSuperUser(user)) return true;
  return listedTables(user, database).some((t) => canSeeTable(user, database, t));
}

/**
 * Per-attribute grants of a table permission, or null when the table has no attribute permissions (then attribute
 * access follows the table flags). The primary key gets the union of all grants unless listed itself.
 */
export function attributeGrants(perm: TablePermission, primaryKey?: string): Map<string, Record<Action, boolean>> | null {
  const list = perm.attribute_permissions;
  if (!Array.isArray(list) || list.length === 0) return null;
  const grants = new Map<string, Record<Action, boolean>>();
  const union: Record<Action, boolean> = { read: false, insert: false, update: false, delete: false };
  for (const a of list) {
    if (!isObject(a) || typeof a.attribute_name !== 'string') continue;
    const g = { read: a.read === true, insert: a.insert === true, update: a.update === true, delete: false };
    grants.set(a.attribute_name, g);
    for (const k of ACTIONS) union[k] ||= g[k];
  }
  if (primaryKey !== undefined && !grants.has(primaryKey)) grants.set(primaryKey, union);
  return grants;
}

/**
 * Attributes the user may read on a table: null = all of them (super user, or no attribute permissions), otherwise
 * the list (what `*` narrows to for non-super users, spec §2.6 item 7).
 */
export function readableAttributes(user: User | null, database: string, table: string, primaryKey?: string): string[] | null {
  if (isSuperUser(user)) return null;
  const perm = tablePermission(user, database, table);
  if (!perm) return [];
  const grants = attributeGrants(perm, primaryKey);
  if (!grants) return perm.read === true ? null : [];
  return [...grants].filter(([, g]) => g.read).map(([name]) => name);
}

/** Attributes with any grant, for describe output; null = all. */
export function visibleAttributes(user: User | null, database: string, table: string, primaryKey?: string): string[] | null {
  if (isSuperUser(user)) return null;
  const perm = tablePermission(user, database, table);
  if (!perm) return [];
  const grants = attributeGrants(perm, primaryKey);
  if (!grants) return null;
  return [...grants].filter(([, g]) => g.read || g.insert || g.update).map(([name]) => name);
}

/** Pure evaluation of a set of checks; never throws. Super users are always allowed. */
export function evaluateAccess(user: User | null, checks: AccessCheck[]): AccessResult {
  const result: AccessResult = { allowed: true, unauthorized_access: [], invalid_schema_items: [] };
  if (!user) {
    result.allowed = false;
    result.unauthorized_access.push('Must login');
    return result;
  }
  if (isSuperUser(user)) return result;
  if (!hasRole(user)) {
    result.allowed = false;
    result.unauthorized_access.push(noRoleMessage(user.username));
    return result;
  }
  const byTable = new Map<string, UnauthorizedTable>();
  for (const check of checks) {
    const { database, table } = check;
    const perm = tablePermission(user, database, table);
    if (!perm || !ACTIONS.some((a) => perm[a] === true)) {
      const msg = canSeeDatabase(user, database) ? `Table '${database}.${table}' does not exist` : `database '${database}' does not exist`;
      if (!result.invalid_schema_items.includes(msg)) result.invalid_schema_items.push(msg);
      continue;
    }
    const key = `${database}\u0000${table}`;
    const entry = byTable.get(key) ?? { schema: database, table, required_table_permissions: [], required_attribute_permissions: [] };
    for (const a of check.actions) if (perm[a] !== true && !entry.required_table_permissions.includes(a)) entry.required_table_permissions.push(a);
    const grants = attributeGrants(perm, check.primaryKey);
    if (grants && check.attributes) {
      const needed = (check.attributeActions ?? check.actions).filter((a) => a !== 'delete');
      for (const attr of new Set(check.attributes)) {
        const g = grants.get(attr);
        if (!g) {
          const msg = `Attribute '${attr}' does not exist on '${database}.${table}'`;
          if (!result.invalid_schema_items.includes(msg)) result.invalid_schema_items.push(msg);
          continue;
        }
        const missing = needed.filter((a) => !g[a]);
        if (!missing.length) continue;
        const existing = entry.required_attribute_permissions.find((x) => x.attribute_name === attr);
        if (existing) { for (const m of missing) if (!existing.required_permissions.includes(m)) existing.required_permissions.push(m); }
        else entry.required_attribute_permissions.push({ attribute_name: attr, required_permissions: missing });
      }
    }
    if (entry.required_table_permissions.length || entry.required_attribute_permissions.length) byTable.set(key, entry);
  }
  result.unauthorized_access.push(...byTable.values());
  result.allowed = result.unauthorized_access.length === 0 && result.invalid_schema_items.length === 0;
  return result;
}

/** The 403 body of spec §2.6 as a throwable error. */
export function forbidden(unauthorized: Array<string | UnauthorizedTable>, invalid: string[] = []): WeftError {
  const err = weftError('ROLE_PERMISSION_DENIED');
  err.body = { error: err.message, unauthorized_access: unauthorized, invalid_schema_items: invalid };
  return err;
}

/** Throw the 403 body (or 401 `Must login`) unless every check passes. */
export function checkAccess(user: User | null, checks: AccessCheck[]): void {
  if (!user) throw weftError('MUST_LOGIN');
  const r = evaluateAccess(user, checks);
  if (!r.allowed) throw forbidden(r.unauthorized_access, r.invalid_schema_items);
}

/** The single-table form for REST, SQL and real-time callers: (user, database, table, action, attributes). */
export function authorizeTable(
  user: User | null, database: string, table: string, action: Action | Action[], attributes?: Iterable<string>, primaryKey?: string,
): void {
  checkAccess(user, [{ database, table, actions: Array.isArray(action) ? action : [action], attributes, primaryKey }]);
}

/** Writes of the internal timestamps are refused to everyone but super users (spec §2.6 item 6). */
export function checkTimestampWrites(user: User | null, attributes: Iterable<string>): void {
  if (isSuperUser(user)) return;
  for (const a of attributes) if (TIMESTAMP_ATTRIBUTES.has(a)) throw weftError('TIMESTAMP_WRITE');
}

/** A user without a valid role may do nothing (spec §2.6 item 2). */
export function checkHasRole(user: User): void {
  if (!isSuperUser(user) && !hasRole(user)) throw forbidden([noRoleMessage(user.username)]);
}

/** Super-user-only operations; `handlerName` is what Harper reports (spec §2.6 item 4). */
export function checkSuperUser(user: User, handlerName: string): void {
  if (isSuperUser(user)) return;
  checkHasRole(user);
  throw forbidden([weftError('RESTRICTED_OPERATION', handlerName).message]);
}

/**
 * Structure operations (spec §2.6 item 3): `structure_user: true` may create/drop databases, tables and attributes
 * anywhere; an array of databases may create/drop tables and attributes in those. Others fall back to the super-user
 * rule with `handlerName`.
 */
export function checkStructure(user: User, operation: string, database: string, handlerName: string, level: 'database' | 'table'): void {
  if (isSuperUser(user)) return;
  checkHasRole(user);
  const su = user.role?.permission?.structure_user;
  if (su === true) return;
  if (Array.isArray(su)) {
    if (level === 'table' && su.includes(database)) return;
    throw forbidden([`User does not have access to perform '${operation}' against schema '${database}'`]);
  }
  throw forbidden([weftError('RESTRICTED_OPERATION', handlerName).message]);
}

/** structure_user rights for create_attribute, which is otherwise an `insert` permission check. */
export function isStructureUserFor(user: User, database: string): boolean {
  const su = user.role?.permission?.structure_user;
  return su === true || (Array.isArray(su) && su.includes(database));
}

/** Describe of a database or table (spec §2.6, last paragraph). */
export function checkDescribe(user: User, database: string, table?: string): void {
  if (isSuperUser(user)) return;
  checkHasRole(user);
  if (database === 'system') throw forbidden([`Your role does not have permission to view database metadata for 'system'`]);
  if (table === undefined) {
    if (!canSeeDatabase(user, database)) throw forbidden([], [`database '${database}' does not exist`]);
    return;
  }
  if (!canSeeTable(user, database, table)) {
    throw forbidden([], [canSeeDatabase(user, database) ? `Table '${database}.${table}' does not exist` : `database '${database}' does not exist`]);
  }
}
