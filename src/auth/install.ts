/** First start of a root: the system database, its tables, the super_user role and the first admin. */
import { randomBytes } from 'node:crypto';
import type { LmdbStorage, TableDef } from '../storage/index.js';
import { CREATED_TIME, UPDATED_TIME } from '../storage/index.js';
import { hashPassword, type HashFunction } from './passwords.js';
import { ROLE_TABLE, SYSTEM_DB, USER_TABLE } from './users.js';

/** System tables, their primary key, and the attributes their records carry (declared so searches and describe see them). */
const SYSTEM_TABLES: Array<[string, string, string[]]> = [
  [USER_TABLE, 'username', ['password', 'role', 'active', 'hash_function', 'refresh_token']],
  [ROLE_TABLE, 'id', ['role', 'permission']],
  ['hdb_job', 'id', ['type', 'status', 'message', 'user', 'start_datetime', 'end_datetime', 'created_datetime', 'request']],
  ['hdb_info', 'info_id', ['data_version', 'hdb_version']],
  ['hdb_nodes', 'name', []],
  ['hdb_session', 'id', ['user']],
  ['hdb_durable_session', 'id', ['subscriptions']],
  ['hdb_session_will', 'id', []],
];

export interface InstallResult { adminUser?: string; generatedPassword?: string }

/** Idempotent: creates whatever is missing. Only creates the admin when the user table is empty. */
export async function ensureSystemDatabase(
  storage: LmdbStorage, opts: { username?: string; password?: string; hashFunction: HashFunction; version: string },
): Promise<InstallResult> {
  const db = storage.openDatabase(SYSTEM_DB);
  const time = Date.now();
  const out: InstallResult = {};
  const adminName = opts.username || 'admin';
  const generated = opts.password ? undefined : randomBytes(12).toString('base64url');
  const password = await hashPassword(opts.password || generated!, opts.hashFunction === 'md5' ? 'sha256' : opts.hashFunction);
  await db.transact((txn) => {
    for (const [name, pk, fields] of SYSTEM_TABLES) {
      const existing = txn.table(name);
      if (existing) {
        // roots made by earlier versions: declare what is missing, without indexes (system tables are small)
        const missing = fields.filter((f) => !existing.hasAttribute(f));
        if (missing.length) {
          const def = structuredClone(existing.def);
          for (const f of missing) def.attributes.push({ attribute: f, created: time });
          txn.saveTable(def);
        }
        continue;
      }
      const def: TableDef = {
        database: SYSTEM_DB, name, primaryKey: pk, schemaDefined: false, audit: false, created: time,
        attributes: [
          { attribute: pk, is_primary_key: true, indexed: true, created: time },
          { attribute: CREATED_TIME, indexed: true, assigned_created_time: true, created: time },
          { attribute: UPDATED_TIME, indexed: true, assigned_updated_time: true, created: time },
          ...fields.map((f) => ({ attribute: f, created: time })),
        ],
      };
      txn.saveTable(def);
    }
    const roles = txn.table(ROLE_TABLE)!;
    if (!txn.get(roles, 'super_user')) {
      const role = { id: 'super_user', role: 'super_user', permission: { super_user: true } };
      txn.stampTimes(roles, role, undefined);
      txn.put(roles, 'super_user', role, 'insert', null);
    }
    const users = txn.table(USER_TABLE)!;
    let empty = true;
    for (const _ of users.scanKeys()) { empty = false; break; }
    if (empty) {
      const user = { username: adminName, password, role: 'super_user', active: true, hash_function: opts.hashFunction === 'md5' ? 'sha256' : opts.hashFunction };
      txn.stampTimes(users, user, undefined);
      txn.put(users, adminName, user, 'insert', null);
      out.adminUser = adminName;
      out.generatedPassword = generated;
    }
    const info = txn.table('hdb_info')!;
    const rec = { info_id: 'version', data_version: opts.version, hdb_version: opts.version };
    txn.stampTimes(info, rec, txn.get(info, 'version'));
    txn.put(info, 'version', rec, 'upsert');
  });
  return out;
}
