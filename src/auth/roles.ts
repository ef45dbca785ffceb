/**
 * Validation of a role's permission JSON (spec §2.11). Collects every problem, then fails with the 400 body
 * {error, main_permissions, schema_permissions} so a client can fix all of them at once.
 */
import { weftError, type WeftError } from '../errors/index.js';

export interface SchemaLookup {
  hasDatabase(db: string): boolean;
  /** Attribute names of a table, or undefined when the table does not exist. */
  tableAttributes(db: string, table: string): string[] | undefined;
}

const ALLOWED_KEYS = ['operation', 'role', 'id', 'permission', 'access'];
const TABLE_PERMS = ['read', 'insert', 'update', 'delete'] as const;
const ATTRIBUTE_KEYS = new Set(['attribute_name', 'read', 'insert', 'update', 'delete']);

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

class Problems {
  main: string[] = [];
  schema: Record<string, string[]> = {};
  add(msg: string, key?: string): void {
    if (key === undefined) { if (!this.main.includes(msg)) this.main.push(msg); return; }
    const list = (this.schema[key] ??= []);
    if (!list.includes(msg)) list.push(msg);
  }
  get empty(): boolean { return this.main.length === 0 && Object.keys(this.schema).length === 0; }
  error(): WeftError {
    const err = weftError('ROLE_VALIDATION');
    err.body = { error: err.message, main_permissions: this.main, schema_permissions: this.schema };
    return err;
  }
}

function checkTable(p: Problems, db: string, table: string, value: unknown, attributes: string[]): void {
  const key = `${db}_${table}`;
  if (!isObject(value)) { for (const perm of TABLE_PERMS) p.add(`Missing table ${perm.toUpperCase()} permission`, key); return; }
  for (const perm of TABLE_PERMS) {
    if (value[perm] === undefined) p.add(`Missing table ${perm.toUpperCase()} permission`, key);
    else if (typeof value[perm] !== 'boolean') p.add(`Table ${perm.toUpperCase()} permission must be a boolean`, key);
  }
  const attrs = value.attribute_permissions;
  if (attrs === undefined) { p.add(`Missing 'attribute_permissions' array`, key); return; }
  if (attrs === null) return;
  if (!Array.isArray(attrs)) { p.add(`Value for 'attribute_permissions' must be an array`, key); return; }
  let conflict = false;
  for (const a of attrs) {
    if (!isObject(a)) { p.add(`Permission object in 'attribute_permission' missing an 'attribute_name'`, key); continue; }
    for (const k of Object.keys(a)) if (!ATTRIBUTE_KEYS.has(k)) p.add(`Invalid attribute permission key value '${k}'`, key);
    const name = a.attribute_name;
    if (typeof name !== 'string' || name === '') { p.add(`Permission object in 'attribute_permission' missing an 'attribute_name'`, key); continue; }
    if (!attributes.includes(name)) p.add(`Invalid attribute '${name}' in 'attribute_permissions'`, key);
    for (const perm of ['read', 'insert', 'update'] as const) {
      if (a[perm] === undefined) p.add(`${perm.toUpperCase()} attribute permission missing for '${name}'`, key);
      else if (typeof a[perm] !== 'boolean') p.add(`${perm.toUpperCase()} attribute permission for '${name}' must be a boolean`, key);
      else if (a[perm] === true && value[perm] === false) conflict = true;
    }
  }
  if (conflict) p.add(`You have a conflict with TABLE permissions for '${db}.${table}' being false and ATTRIBUTE permissions being true`, key);
}

/**
 * Validate an add_role / alter_role request. `requireRole` is true for add_role. Throws the 400 role-validation body.
 */
export function validateRoleRequest(req: Record<string, unknown>, schema: SchemaLookup, requireRole: boolean): void {
  const p = new Problems();
  const badKeys = Object.keys(req).filter((k) => !ALLOWED_KEYS.includes(k));
  if (badKeys.length === 1) p.add(`Invalid key in JSON body - '${badKeys[0]}'`);
  else if (badKeys.length > 1) p.add(`Invalid keys in JSON body - ${badKeys.map((k) => `'${k}'`).join(', ')}`);
  if (requireRole && (req.role === undefined || req.role === null || req.role === '')) p.add("Role can't be blank");
  else if (req.role !== undefined && req.role !== null && typeof req.role !== 'string') p.add('Role must be a string');
  if (req.id !== undefined && req.id !== null && typeof req.id !== 'string') p.add('Id must be a string');
  const perm = req.permission;
  if (perm === undefined || perm === null) {
    p.add("Permission can't be blank");
    throw p.error();
  }
  if (!isObject(perm)) {
    p.add('Permission must be an object');
    throw p.error();
  }
  if (perm.super_user !== undefined && typeof perm.super_user !== 'boolean') p.add(`Value for 'super_user' permission must be a boolean`);
  if (perm.structure_user !== undefined && typeof perm.structure_user !== 'boolean'
    && !(Array.isArray(perm.structure_user) && perm.structure_user.every((d) => typeof d === 'string'))) {
    p.add(`Value for 'structure_user' permission must be a boolean or Array`);
  }
  if (perm.super_user === true && Object.keys(perm).some((k) => k !== 'super_user')) {
    p.add(`Roles with 'super_user' set to true cannot have other permissions set.`);
  }
  for (const [db, value] of Object.entries(perm)) {
    if (db === 'super_user' || db === 'structure_user') continue;
    // `permission.<table>` is shorthand for `permission.data.tables.<table>` (spec §7.6)
    if (!(isObject(value) && 'tables' in value) && !schema.hasDatabase(db) && schema.tableAttributes('data', db)) {
      checkTable(p, 'data', db, value, schema.tableAttributes('data', db)!);
      continue;
    }
    if (db === 'system' || !schema.hasDatabase(db)) { p.add(`database '${db}' does not exist`); continue; }
    if (!isObject(value) || !isObject(value.tables)) { p.add(`Missing 'tables' object for database '${db}'`, db); continue; }
    for (const [table, tperm] of Object.entries(value.tables)) {
      const attrs = schema.tableAttributes(db, table);
      if (!attrs) { p.add(`Table '${db}.${table}' does not exist`, db); continue; }
      checkTable(p, db, table, tperm, attrs);
    }
  }
  if (!p.empty) throw p.error();
}
