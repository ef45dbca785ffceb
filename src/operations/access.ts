/**
 * What each operation touches, handed to the authorisation module (src/auth/permissions.ts) before the handler runs
 * (spec §2.6). This file only reads request fields; every decision is made by auth. It also narrows `*` to readable
 * attributes for non-super users and filters describe results.
 */
import {
  checkAccess, checkDescribe, checkHasRole, checkStructure, checkSuperUser, checkTimestampWrites, canSeeDatabase,
  canSeeTable, isStructureUserFor, isSuperUser, readableAttributes, visibleAttributes, type AccessCheck, type Action, type User,
} from '../auth/index.js';
import { weftError } from '../errors/index.js';
import { NO_AUTH, SUPER_USER_ONLY } from './catalog.js';
import { databaseName, tableName } from './validate.js';
import type { OperationRequest, ServerServices } from './types.js';
import type { SqlAccess } from '../sql/index.js';

const STRUCTURE_OPS: Partial<Record<string, 'database' | 'table'>> = {
  create_database: 'database', drop_database: 'database', create_table: 'table', drop_table: 'table', drop_attribute: 'table',
};

const ANY_USER = new Set([
  'describe_all', 'user_info', 'get_job', 'get_analytics', 'list_metrics', 'describe_metric', 'registration_info',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function primaryKeyOf(services: ServerServices, db: string, table: string): string | undefined {
  try { return services.storage.database(db)?.table(table)?.primaryKey; } catch { return undefined; }
}

function recordAttributes(records: unknown): string[] {
  const out = new Set<string>();
  if (Array.isArray(records)) for (const r of records) if (isObject(r)) for (const k of Object.keys(r)) out.add(k);
  return [...out];
}

/** Mirrors how search.ts reads conditions: a node with a `conditions` array is a group, otherwise a condition. */
function conditionAttributes(raw: unknown, out: Set<string>, depth = 0): void {
  if (!Array.isArray(raw) || depth > 200) return;
  for (const c of raw) {
    if (!isObject(c)) continue;
    if (Array.isArray(c.conditions)) { conditionAttributes(c.conditions, out, depth + 1); continue; }
    const a = c.attribute ?? c.search_attribute;
    if (typeof a === 'string') out.add(a);
  }
}

function sortAttributes(raw: unknown, out: Set<string>, depth = 0): void {
  if (!isObject(raw) || depth > 200) return;
  if (typeof raw.attribute === 'string') out.add(raw.attribute);
  sortAttributes(raw.next, out, depth + 1);
}

function getAttributes(raw: unknown): { list: string[]; star: boolean } {
  if (!Array.isArray(raw)) return { list: [], star: raw === undefined || raw === null };
  const list = raw.filter((a): a is string => typeof a === 'string');
  return { list: list.filter((a) => a !== '*' && a !== '%'), star: list.includes('*') || list.includes('%') };
}

/** `$id` means the primary key; other `$` names are computed metadata without permissions of their own. */
function realAttributes(names: Iterable<string>, pk: string | undefined): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n === '$id') { if (pk) out.push(pk); } else if (!n.startsWith('$')) out.push(n);
  }
  return out;
}

function csvActions(action: unknown): Action[] {
  if (action === 'insert') return ['insert'];
  if (action === 'update') return ['update'];
  return ['insert', 'update'];
}

/**
 * Refuse what the caller may not do (throws 401/403), and return the request to run: for non-super users a `*`
 * projection is narrowed to the readable attributes (spec §2.6 item 7).
 */
export function authorizeOperation(req: OperationRequest, user: User | null, services: ServerServices): OperationRequest {
  const op = req.operation;
  if (NO_AUTH.has(op)) return req;
  if (!user) throw weftError('MUST_LOGIN');
  if (isSuperUser(user)) return req;
  checkHasRole(user);
  const level = STRUCTURE_OPS[op];
  if (level) {
    checkStructure(user, op, databaseName(req), SUPER_USER_ONLY[op] ?? op, level);
    return req;
  }
  const handlerName = SUPER_USER_ONLY[op];
  if (handlerName) { checkSuperUser(user, handlerName); return req; }
  if (ANY_USER.has(op)) return req;

  switch (op) {
    case 'describe_database':
      checkDescribe(user, databaseName(req));
      return req;
    case 'describe_table':
      checkDescribe(user, databaseName(req), tableName(req));
      return req;
    case 'create_attribute': {
      const db = databaseName(req);
      if (isStructureUserFor(user, db)) return req;
      checkAccess(user, [{ database: db, table: tableName(req), actions: ['insert'] }]);
      return req;
    }
    case 'insert': case 'update': case 'upsert': {
      const db = databaseName(req), table = tableName(req);
      const actions: Action[] = op === 'upsert' ? ['insert', 'update'] : [op];
      const attributes = recordAttributes(req.records);
      checkTimestampWrites(user, attributes);
      checkAccess(user, [{ database: db, table, actions, attributes, primaryKey: primaryKeyOf(services, db, table) }]);
      return req;
    }
    case 'delete': {
      checkAccess(user, [{ database: databaseName(req), table: tableName(req), actions: ['delete'] }]);
      return req;
    }
    case 'csv_data_load': case 'csv_file_load': case 'csv_url_load': case 'import_from_s3': {
      checkAccess(user, [{ database: databaseName(req), table: tableName(req), actions: csvActions(req.action) }]);
      return req;
    }
    case 'search_by_id': case 'search_by_value': case 'search_by_conditions': case 'search': {
      const db = databaseName(req), table = tableName(req);
      const pk = primaryKeyOf(services, db, table);
      const names = new Set<string>();
      const ga = getAttributes(req.get_attributes);
      for (const a of ga.list) names.add(a);
      if (typeof req.attribute === 'string') names.add(req.attribute);
      conditionAttributes(req.conditions, names);
      sortAttributes(req.sort, names);
      const check: AccessCheck = { database: db, table, actions: ['read'], attributes: realAttributes(names, pk), primaryKey: pk };
      checkAccess(user, [check]);
      const readable = readableAttributes(user, db, table, pk);
      // search_by_id requires get_attributes: an absent list stays absent so the handler reports it
      const absent = req.get_attributes === undefined || req.get_attributes === null;
      if (readable && ga.star && !(absent && op === 'search_by_id')) {
        return { ...req, get_attributes: readable.length ? readable : pk ? [pk] : [] };
      }
      return req;
    }
    case 'sql':
      // checked per statement, on every table and attribute it touches (sqlAccess below, spec §2.9)
      return req;
    default:
      // operations not listed above check their own requests through the same module when built;
      // until then only super users may run them
      checkSuperUser(user, op);
      return req;
  }
}

/** The permission checks the SQL executor runs on a parsed statement; undefined for super users. */
export function sqlAccess(user: User | null): SqlAccess | undefined {
  if (isSuperUser(user)) return undefined;
  return {
    check: (checks) => checkAccess(user, checks),
    readable: (database, table, primaryKey) => readableAttributes(user, database, table, primaryKey),
    writes: (attributes) => checkTimestampWrites(user, attributes),
  };
}

function filterTable(user: User, db: string, name: string, desc: unknown): unknown {
  if (!isObject(desc) || !Array.isArray(desc.attributes)) return desc;
  const pk = typeof desc.hash_attribute === 'string' ? desc.hash_attribute : undefined;
  const visible = visibleAttributes(user, db, name, pk);
  if (!visible) return desc;
  return { ...desc, attributes: desc.attributes.filter((a) => isObject(a) && visible.includes(a.attribute as string)) };
}

function filterDatabase(user: User, db: string, tables: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObject(tables)) return out;
  for (const [name, desc] of Object.entries(tables)) if (canSeeTable(user, db, name)) out[name] = filterTable(user, db, name, desc);
  return out;
}

/** Describe results show non-super users only what their role grants (spec §2.6, last paragraph). */
export function filterResult(req: OperationRequest, user: User | null, result: unknown): unknown {
  if (!user || isSuperUser(user)) return result;
  switch (req.operation) {
    case 'describe_all': {
      const out: Record<string, unknown> = {};
      if (!isObject(result)) return result;
      for (const [db, tables] of Object.entries(result)) if (db !== 'system' && canSeeDatabase(user, db)) out[db] = filterDatabase(user, db, tables);
      return out;
    }
    case 'describe_database':
      return filterDatabase(user, databaseName(req), result);
    case 'describe_table':
      return filterTable(user, databaseName(req), tableName(req), result);
    default:
      return result;
  }
}

/**
 * A super user may also write system.hdb_user / hdb_role with the plain data operations; those changes must end cached
 * authentications everywhere just like add_user or alter_role do.
 */
export async function afterOperation(req: OperationRequest, services: ServerServices): Promise<void> {
  if (!['insert', 'update', 'upsert', 'delete'].includes(req.operation) || req.database !== 'system') return;
  if (req.table !== 'hdb_user' && req.table !== 'hdb_role') return;
  await services.users.transact(() => undefined);
  services.cluster.authChanged();
}
