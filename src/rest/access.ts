/**
 * What a REST request on a table touches, handed to the one authorisation module (src/auth/permissions.ts); no
 * decision is made here. Spec §7.6: GET/search -> read, POST -> insert, PUT/PATCH -> update, DELETE -> delete.
 * With attribute permissions, reads are narrowed to the readable attributes (others silently omitted, `select()`
 * included), a query filter or sort on an attribute the role may not read is refused, a write naming an attribute
 * without the grant is refused, and PUT keeps the stored values of attributes the user may not update.
 * No user -> 401 `Must login`; not allowed -> 403 `Unauthorized access to resource`.
 */
import { weftError } from '../errors/index.js';
import {
  attributeGrants, evaluateAccess, isSuperUser, readableAttributes, tablePermission, type AccessCheck, type Action, type User,
} from '../auth/index.js';
import { copyRecord, type Condition, type ConditionGroup, type Rec, type Table } from '../storage/index.js';
import type { TableQuery } from './query.js';

export type TableAction = Action;

/** `$id` is the primary key; other `$` names are computed metadata without permissions of their own. */
function real(names: Iterable<string>, pk: string): string[] {
  const out: string[] = [];
  for (const n of names) if (n === '$id') out.push(pk); else if (!n.startsWith('$')) out.push(n);
  return out;
}

/**
 * Throw unless the user may do `action` on the table and, when the table has attribute permissions, `attributeAction`
 * (default: `action`) on each of `attributes`.
 */
export function authorizeRest(
  user: User | null, database: string, table: Table, action: Action, attributes?: Iterable<string>, attributeAction?: Action,
): void {
  if (!user) throw weftError('MUST_LOGIN');
  if (isSuperUser(user)) return;
  const checks: AccessCheck[] = [{ database, table: table.name, actions: [action], primaryKey: table.primaryKey }];
  if (attributes) {
    checks.push({
      database, table: table.name, actions: [], attributes: real(attributes, table.primaryKey),
      attributeActions: [attributeAction ?? action], primaryKey: table.primaryKey,
    });
  }
  if (!evaluateAccess(user, checks).allowed) throw weftError('REST_UNAUTHORIZED');
}

/** The table-level check alone, by table name (the signature REST code used before attribute checks existed). */
export function checkTableAccess(user: User | null, database: string, table: string, action: Action): void {
  if (!user) throw weftError('MUST_LOGIN');
  if (isSuperUser(user)) return;
  if (!evaluateAccess(user, [{ database, table, actions: [action] }]).allowed) throw weftError('REST_UNAUTHORIZED');
}

function conditionAttributes(node: Condition | ConditionGroup | undefined, out: Set<string>): void {
  if (!node) return;
  if ('conditions' in node) { for (const c of node.conditions) conditionAttributes(c as Condition | ConditionGroup, out); return; }
  out.add(node.attribute);
}

/** Attributes a query filters or sorts on: each needs read (spec §7.6; reading through a filter is reading). */
export function queryAttributes(tq: TableQuery): Set<string> {
  const out = new Set<string>();
  conditionAttributes(tq.tree, out);
  for (let s = tq.options.sort; s; s = s.next) out.add(s.attribute);
  return out;
}

/** Null = the user reads every attribute; otherwise the set of readable ones. */
export function readableSet(user: User | null, database: string, table: Table): Set<string> | null {
  const list = readableAttributes(user, database, table.name, table.primaryKey);
  return list ? new Set(list) : null;
}

/** The record with unreadable attributes removed. */
export function narrowRecord(rec: Rec, readable: Set<string> | null): Rec {
  if (!readable) return rec;
  const out: Rec = {};
  for (const k of Object.keys(rec)) if (readable.has(k)) out[k] = rec[k];
  return out;
}

/** `select(...)` without the attributes the user may not read (silently omitted, like `*`). */
export function narrowSelect(tq: TableQuery, readable: Set<string> | null): void {
  const s = tq.select;
  if (!readable || !s) return;
  const ok = (n: string) => n.startsWith('$') || readable.has(n);
  if (s.kind === 'value') { if (!ok(s.name)) tq.select = { ...s, name: '$unreadable' } as typeof s; return; }
  tq.select = { ...s, names: s.names.filter(ok) } as typeof s;
}

/**
 * PUT replaces a record; attributes the user may not update keep their stored values (spec §7.6). Without attribute
 * permissions the record is taken as given.
 */
export function keepUnupdatable(user: User | null, database: string, table: Table, record: Rec, prev: Rec | undefined): Rec {
  if (!prev || isSuperUser(user)) return record;
  const perm = tablePermission(user, database, table.name);
  const grants = perm ? attributeGrants(perm, table.primaryKey) : null;
  if (!grants) return record;
  const out = copyRecord(record);
  for (const [k, v] of Object.entries(prev)) if (!grants.get(k)?.update && !(k in record)) out[k] = v;
  return out;
}
