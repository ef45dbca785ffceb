/**
 * Permission checks of a parsed statement (spec §2.6, §2.9). The statement's executor collects every table and
 * attribute it touches while compiling (Scope.touched); before any row is read or written it hands them to the
 * caller's SqlAccess, which asks the one authorisation module (src/auth/permissions.ts). No access object = super user.
 */
import type { AccessCheck, Action } from '../auth/index.js';
import type { Scope } from './compile.js';
import type { Source } from './types.js';

export interface SqlAccess {
  /** Throws the 403 body of spec §2.6 unless every check passes. */
  check(checks: AccessCheck[]): void;
  /** Attributes `*` shows for a table; null = all. */
  readable(database: string, table: string, primaryKey: string): string[] | null;
  /** Refuses writes of the internal timestamp attributes. */
  writes(attributes: Iterable<string>): void;
}

/** Each source with `action` on the table and `attributeAction` on every attribute the statement touched in it. */
export function sourceChecks(sources: Source[], scope: Scope, action: Action | null, attributeAction: Action = 'read'): AccessCheck[] {
  return sources.map((s, i) => ({
    database: s.database, table: s.table.name, actions: action ? [action] : [], attributes: scope.touched?.[i] ?? [],
    attributeActions: [attributeAction], primaryKey: s.table.primaryKey,
  }));
}

/** Per source, the set `*` narrows to (null = everything). */
export function starSets(sources: Source[], access: SqlAccess | undefined): Array<Set<string> | null> {
  return sources.map((s) => {
    const list = access?.readable(s.database, s.table.name, s.table.primaryKey);
    return list ? new Set(list) : null;
  });
}
