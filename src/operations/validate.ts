/** Request-field validation shared by the handlers (Joi-style messages, spec §2.3). */
import { weftError, WeftError } from '../errors/index.js';
import type { Database, Table } from '../storage/index.js';
import type { ServerServices } from './types.js';

const NAME_RE = /^[\x20-\x7e]{1,250}$/;

export function requireString(req: Record<string, unknown>, field: string, label = field): string {
  const v = req[field];
  if (v === undefined || v === null || v === '') throw weftError('FIELD_REQUIRED', label);
  if (typeof v !== 'string') throw weftError('FIELD_TYPE', label, 'a string');
  return v;
}

export function optionalString(req: Record<string, unknown>, field: string): string | undefined {
  const v = req[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw weftError('FIELD_TYPE', field, 'a string');
  return v;
}

export function optionalBoolean(req: Record<string, unknown>, field: string): boolean | undefined {
  const v = req[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw weftError('FIELD_TYPE', field, 'a boolean');
  return v;
}

export function optionalInteger(req: Record<string, unknown>, field: string, min: number): number | undefined {
  const v = req[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw weftError('FIELD_TYPE', field, 'an integer');
  if (v < min) throw weftError('VALIDATION', `'${field}' must be greater than or equal to ${min}`);
  return v;
}

/** Database, table and attribute names: 1-250 printable ASCII characters, no `/` or backtick. */
export function checkName(value: string, field: string): string {
  if (!NAME_RE.test(value) || value.includes('/') || value.includes('`')) throw weftError('BAD_NAME', field);
  return value;
}

export function databaseName(req: Record<string, unknown>): string {
  const v = req.database ?? 'data';
  if (typeof v !== 'string') throw weftError('FIELD_TYPE', 'database', 'a string');
  if (v === '') throw weftError('FIELD_REQUIRED', 'database');
  return checkName(v, 'database');
}

export function tableName(req: Record<string, unknown>): string {
  return checkName(requireString(req, 'table'), 'table');
}

/** Find a database and table or throw the spec's not-found errors with the given status. */
export function resolveTable(services: ServerServices, db: string, table: string, status = 404): { database: Database; table: Table } {
  const database = services.storage.database(db);
  if (!database) throw weftError('DATABASE_NOT_FOUND', db).withStatus(status);
  const t = database.table(table);
  if (!t) throw weftError('TABLE_NOT_FOUND', db, table).withStatus(status);
  return { database, table: t };
}

export function resolveDatabase(services: ServerServices, db: string, status = 404): Database {
  const database = services.storage.database(db);
  if (!database) throw weftError('DATABASE_NOT_FOUND', db).withStatus(status);
  return database;
}

/** `unknown attribute 'a, b and c'` */
export function unknownAttributes(names: string[]): WeftError {
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return weftError('UNKNOWN_ATTRIBUTE', list);
}

export function isSystemDatabase(db: string): boolean {
  return db === 'system';
}

/** Writes to `system` are refused, except super-user writes to the user, role and node tables (spec §2.3). */
export function assertWritable(db: string, table: string, superUser: boolean): void {
  if (db !== 'system') return;
  if (superUser && ['hdb_user', 'hdb_role', 'hdb_nodes'].includes(table)) return;
  throw weftError('SYSTEM_DATABASE');
}
