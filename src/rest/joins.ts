/**
 * Relationships between exported tables (spec §4.6): `@relationship(from)` many-to-one (an array fk gives
 * many-to-many, order kept), `@relationship(to)` one-to-many, both = fk-to-fk. Relationship properties are never
 * stored; they are resolved when a query filters by `rel.attr` (an inner join, turned into a key condition) or
 * selects `rel` / `rel{...}` (a left join). Filled per thread from the applications' schemas, like `tables`.
 */
import { weftError } from '../errors/index.js';
import { search, type Condition, type Key, type LmdbStorage, type Rec, type Table } from '../storage/index.js';

export interface Relation {
  name: string;
  database: string;
  table: string;
  from?: string;
  to?: string;
  many: boolean;
}

/** What a query needs to follow relationships: storage, and the read check on related tables. */
export interface JoinEnv {
  storage: LmdbStorage;
  checkRead?: (database: string, table: string) => void;
}

const relations = new Map<string, Map<string, Relation>>();

export interface RelationDecl { database: string; table: string; typeName: string; relationships?: Array<{ name: string; target: string; from?: string; to?: string; many: boolean }> }

export function setRelations(refs: RelationDecl[]): void {
  relations.clear();
  const byType = new Map(refs.map((r) => [r.typeName, r]));
  for (const ref of refs) {
    for (const rel of ref.relationships ?? []) {
      const target = byType.get(rel.target);
      if (!target) continue;
      let m = relations.get(`${ref.database}.${ref.table}`);
      if (!m) relations.set(`${ref.database}.${ref.table}`, m = new Map());
      m.set(rel.name, { name: rel.name, database: target.database, table: target.table, from: rel.from, to: rel.to, many: rel.many });
    }
  }
}

export function relationsOf(table: Table): Map<string, Relation> | undefined {
  return relations.get(`${table.def.database}.${table.name}`);
}

export function relatedTable(env: JoinEnv | undefined, rel: Relation): Table {
  if (!env) throw weftError('REST_RELATION_UNAVAILABLE', rel.name);
  const t = env.storage.database(rel.database)?.table(rel.table);
  if (!t) throw weftError('TABLE_NOT_FOUND', rel.database, rel.table);
  env.checkRead?.(rel.database, rel.table);
  return t;
}

function keysOf(v: unknown, out: Key[], seen: Set<unknown>): void {
  for (const x of Array.isArray(v) ? v : [v]) {
    if (x === null || x === undefined || seen.has(x)) continue;
    seen.add(x);
    out.push(x as Key);
  }
}

/**
 * The inner join `rel.<condition on the target>`: the related records matching `inner`, turned into a condition
 * on this table's fk (from) or primary key (to). No related match -> undefined (matches nothing).
 */
export function joinCondition(table: Table, rel: Relation, target: Table, inner: Parameters<typeof search>[1]): Condition[] {
  const keys: Key[] = [];
  const seen = new Set<unknown>();
  for (const rec of search(target, inner)) keysOf(rel.to ? rec[rel.to] : rec[target.primaryKey], keys, seen);
  const attribute = rel.from ?? table.primaryKey;
  return keys.map((value) => ({ attribute, comparator: 'equals', value }));
}

/** The related record(s) of `rec`, each shaped by `project`; undefined when there is nothing to join. */
export function related(table: Table, rel: Relation, target: Table, rec: Rec, project: (r: Rec) => unknown): unknown {
  if (rel.from && !rel.to) {
    const v = rec[rel.from];
    if (Array.isArray(v)) return v.map((k) => (k == null ? undefined : target.get(k as Key))).filter((r): r is Rec => !!r).map(project);
    const r = v == null ? undefined : target.get(v as Key);
    if (!r) return undefined;
    return rel.many ? [project(r)] : project(r);
  }
  const value = rel.from ? rec[rel.from] : rec[table.primaryKey];
  if (value === null || value === undefined) return undefined;
  const hits = [...search(target, { attribute: rel.to!, comparator: 'equals', value })].map(project);
  return rel.many ? hits : hits[0];
}
