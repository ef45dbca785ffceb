/**
 * The roles plugin (spec §5.2): an application's `roles.yaml` declares roles, created at load with id = role = the
 * YAML key, or updated in place when their content differs. Two forms per role: compact (`super_user`,
 * `structure_user` and databases at the top, a `tables:` level optional, `attributes: {name: {read, ...}}` for
 * attribute permissions) and full (`{permission: {...}}`). Missing CRUD flags become false. Each role is checked
 * like `add_role` would check it; a bad role is reported and skipped, the others still load.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { validateRoleRequest, type Role, type UserStore } from '../auth/index.js';
import type { LmdbStorage, Rec } from '../storage/index.js';
import { matchFiles, type Application } from './application.js';

export interface RoleSpec { role: string; permission: Record<string, unknown>; file: string }

const FLAGS = ['read', 'insert', 'update', 'delete'] as const;
const ATTRIBUTE_FLAGS = ['read', 'insert', 'update'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bool(v: unknown): unknown {
  return v === undefined || v === null ? false : v;
}

function attributePermissions(t: Record<string, unknown>): unknown {
  if (t.attribute_permissions !== undefined) {
    if (!Array.isArray(t.attribute_permissions)) return t.attribute_permissions;
    return t.attribute_permissions.map((a) => (isObject(a)
      ? { ...a, ...Object.fromEntries(ATTRIBUTE_FLAGS.map((f) => [f, bool(a[f])])) } : a));
  }
  if (isObject(t.attributes)) {
    return Object.entries(t.attributes).map(([name, grants]) => ({
      attribute_name: name, ...Object.fromEntries(ATTRIBUTE_FLAGS.map((f) => [f, bool(isObject(grants) ? grants[f] : undefined)])),
    }));
  }
  return [];
}

function tablePermission(t: unknown): unknown {
  if (!isObject(t)) return t;
  const out: Record<string, unknown> = {};
  for (const f of FLAGS) out[f] = bool(t[f]);
  out.attribute_permissions = attributePermissions(t);
  return out;
}

/** A role's YAML value -> the permission object `add_role` takes (missing flags false). */
export function permissionFromYaml(value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw new Error('must be a mapping');
  const source = isObject(value.permission) ? value.permission : value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(source)) {
    if (key === 'super_user' || key === 'structure_user') { out[key] = v; continue; }
    if (!isObject(v)) { out[key] = v; continue; }
    // a database: `tables:` is optional in the compact form
    const tables = isObject(v.tables) ? v.tables : v;
    out[key] = { tables: Object.fromEntries(Object.entries(tables).map(([t, p]) => [t, tablePermission(p)])) };
  }
  if (out.super_user === undefined) out.super_user = false;
  if (out.super_user === true) return { super_user: true };
  return out;
}

/** The roles an application's roles files declare. Throws with the file name when one cannot be parsed. */
export function readRoles(app: Application): RoleSpec[] {
  const out: RoleSpec[] = [];
  for (const file of matchFiles(app.path, app.config.roles ?? [])) {
    const rel = path.relative(app.path, file);
    let doc: unknown;
    try { doc = YAML.parse(fs.readFileSync(file, 'utf8')); } catch (e) { throw new Error(`Error parsing ${rel}: ${(e as Error).message}`); }
    if (doc === null || doc === undefined) continue;
    if (!isObject(doc)) throw new Error(`${rel} must be a mapping of role names to permissions`);
    for (const [role, value] of Object.entries(doc)) {
      try {
        out.push({ role, permission: permissionFromYaml(value), file: rel });
      } catch (e) {
        throw new Error(`${rel}: role ${role} ${(e as Error).message}`);
      }
    }
  }
  return out;
}

function sameContent(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface EnsureRolesResult { created: string[]; updated: string[]; errors: string[] }

/**
 * Create or update the roles (one transaction for all of them). A role whose permission would not pass add_role's
 * validation is skipped with its problems in `errors`.
 */
export async function ensureRoles(storage: LmdbStorage, users: UserStore, specs: RoleSpec[]): Promise<EnsureRolesResult> {
  const result: EnsureRolesResult = { created: [], updated: [], errors: [] };
  const lookup = {
    hasDatabase: (db: string) => storage.hasDatabase(db),
    tableAttributes: (db: string, table: string) => storage.database(db)?.table(table)?.attributeNames(),
  };
  const valid: RoleSpec[] = [];
  for (const spec of specs) {
    try {
      validateRoleRequest({ role: spec.role, id: spec.role, permission: spec.permission }, lookup, true);
      valid.push(spec);
    } catch (err) {
      const body = (err as { body?: Record<string, unknown> }).body;
      result.errors.push(`${spec.file}: role ${spec.role}: ${(err as Error).message}${body ? ` ${JSON.stringify(body)}` : ''}`);
    }
  }
  const changes = valid.filter((spec) => {
    const prev = users.role(spec.role) ?? users.rolesNamed(spec.role)[0];
    return !prev || prev.role !== spec.role || !sameContent(prev.permission, spec.permission);
  });
  if (!changes.length) return result;
  await users.transact((txn, { roles }) => {
    for (const spec of changes) {
      // the key is both id and name; a role made earlier under another id (add_role with an id) keeps its id
      let prev = txn.get(roles, spec.role) as unknown as Role | undefined;
      if (!prev) for (const r of roles.scan()) if ((r as unknown as Role).role === spec.role) { prev = r as unknown as Role; break; }
      const id = prev?.id ?? spec.role;
      const rec: Rec = { ...(prev ?? {}), id, role: spec.role, permission: spec.permission };
      txn.stampTimes(roles, rec, prev as Rec | undefined);
      txn.put(roles, id, rec, prev ? 'update' : 'insert', (prev as Rec | undefined) ?? null);
      (prev ? result.updated : result.created).push(spec.role);
    }
  }, 'roles.yaml');
  return result;
}
