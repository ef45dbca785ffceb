/**
 * Who may do what to a table over REST (spec §7.6): GET -> read, POST -> insert, PUT/PATCH -> update,
 * DELETE -> delete; super users may do everything; no user -> 401 `Must login`, not allowed -> 403
 * `Unauthorized access to resource`. Kept in this one function so the shared permissions module
 * (src/auth/permissions.ts, being built separately) can replace it.
 */
import { weftError } from '../errors/index.js';
import { isSuperUser, type User } from '../auth/index.js';

export type TableAction = 'read' | 'insert' | 'update' | 'delete';

function tablePermission(user: User, database: string, table: string): Record<string, unknown> | undefined {
  const perm = (user.role?.permission ?? {}) as Record<string, any>;
  const db = perm[database];
  if (db && typeof db === 'object') {
    const t = db.tables?.[table] ?? db[table];
    if (t && typeof t === 'object') return t;
  }
  // the data database also accepts permission.<table> without <db>.tables (spec §7.6)
  if (database === 'data' && perm[table] && typeof perm[table] === 'object') return perm[table];
  return undefined;
}

export function checkTableAccess(user: User | null, database: string, table: string, action: TableAction): void {
  if (!user) throw weftError('MUST_LOGIN');
  if (isSuperUser(user)) return;
  if (tablePermission(user, database, table)?.[action] !== true) throw weftError('REST_UNAUTHORIZED');
}
