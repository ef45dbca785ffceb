/** FROM/INTO table references -> storage tables, with the spec's messages for unqualified and unknown names. */
import { weftError } from '../errors/index.js';
import type { LmdbStorage } from '../storage/index.js';
import type { Node, Source } from './types.js';
import type { SqlAccess } from './access.js';
import type { PoolTask } from '../pool/index.js';

/** What the SQL subsystem needs from the server. */
export interface SqlServices {
  readonly storage: LmdbStorage;
  /** Tell the other threads a database's schema changed (new attributes from INSERT/UPDATE). */
  schemaChanged(database: string): void;
  /** The caller's permissions; absent for super users (everything allowed). */
  readonly access?: SqlAccess;
  /** Submit a task to the background pool; without it every SELECT runs in this thread. */
  runTask?(task: PoolTask): Promise<unknown>;
  /** Record count from which a single-table scan or aggregation runs in the pool (sql.parallelThreshold; 0 = never). */
  parallelThreshold?: number;
  /** Threads in the pool, to size the chunks. */
  poolSize?: number;
}

const JOINS: Record<string, Source['join']> = {
  'JOIN': 'inner', 'INNER JOIN': 'inner', 'LEFT JOIN': 'left', 'LEFT OUTER JOIN': 'left', 'RIGHT JOIN': 'right',
  'RIGHT OUTER JOIN': 'right', 'FULL JOIN': 'full', 'FULL OUTER JOIN': 'full', 'OUTER JOIN': 'full', 'CROSS JOIN': 'cross',
};

export function resolveTableRef(ref: Node, services: SqlServices, kind: 'select' | 'write'): Omit<Source, 'alias'> & { alias: string } {
  if (ref.expr || !ref.table) throw weftError('SQL_UNSUPPORTED', 'sub-selects');
  const table = String(ref.table);
  const db = ref.db ?? ref.schema;
  if (!db) throw kind === 'select' ? weftError('SQL_SCHEMA_NOT_DEFINED', table) : weftError('SQL_NO_SCHEMA');
  const database = services.storage.database(String(db));
  if (!database) throw weftError('DATABASE_NOT_FOUND', String(db));
  const t = database.table(table);
  if (!t) throw weftError('TABLE_NOT_FOUND', String(db), table);
  return { database: String(db), table: t, alias: ref.as ? String(ref.as) : table };
}

export function resolveSources(from: Node[] | null | undefined, services: SqlServices, kind: 'select' | 'write'): Source[] {
  if (!from) return [];
  return from.map((ref, i) => {
    const src: Source = resolveTableRef(ref, services, kind);
    if (i > 0) {
      const join = ref.join ? JOINS[String(ref.join).toUpperCase().replace(/\s+/g, ' ')] : 'cross';
      if (!join) throw weftError('SQL_UNSUPPORTED', String(ref.join));
      src.join = join;
      if (ref.using) throw weftError('SQL_UNSUPPORTED', 'JOIN ... USING');
      if (ref.on) src.on = ref.on;
      else if (join !== 'cross') throw weftError('SQL_UNSUPPORTED', `${ref.join} without ON`);
    }
    return src;
  });
}
