/**
 * A parsed REST query applied to one table: attribute checks (404 `<attr> is not a defined attribute`), value
 * coercion by declared type (spec §3.5, §4.5), and translation to the storage condition tree and search options.
 */
import { weftError } from '../errors/index.js';
import type { Comparator, Condition, ConditionGroup, Rec, SearchOptions, SortSpec, Table } from '../storage/index.js';
import { coerceText, explicitTyped, scalarType } from './coerce.js';
import type { ParsedQuery, QueryCondition, QueryNode, QueryOp, QuerySelect } from './query-parser.js';
import { joinCondition, related, relatedTable, relationsOf, type JoinEnv } from './joins.js';
export type { JoinEnv } from './joins.js';

const COMPARATOR: Record<QueryOp, Comparator> = {
  equals: 'equals', strict_eq: 'equals', eq: 'equals', strict_ne: 'not_equal', ne: 'not_equal',
  lt: 'less_than', le: 'less_than_equal', gt: 'greater_than', ge: 'greater_than_equal',
  ct: 'contains', sw: 'starts_with', ew: 'ends_with',
};
const STRICT = new Set<QueryOp>(['equals', 'strict_eq', 'strict_ne']);
const TYPE_PREFIX = /^([a-zA-Z]+):/;
const MAX_KEY_BYTES = 1978;
/** Matches nothing: an OR of no conditions. */
const NOTHING: ConditionGroup = { operator: 'or', conditions: [] };

export interface TableQuery {
  tree?: Condition | ConditionGroup;
  options: SearchOptions;
  select?: QuerySelect;
}

function requireAttribute(table: Table, name: string): void {
  if (!table.hasAttribute(name)) throw weftError('REST_NOT_DEFINED_ATTRIBUTE', name);
}

function isUsableKey(v: unknown): boolean {
  if (typeof v === 'string') return v.length > 0 && Buffer.byteLength(v) <= MAX_KEY_BYTES;
  if (typeof v === 'number') return Number.isFinite(v);
  return typeof v === 'boolean';
}

function conditionValue(table: Table, c: QueryCondition): { comparator: Comparator; value: unknown } {
  let comparator = COMPARATOR[c.op];
  const type = scalarType(table.attribute(c.attribute));
  if (STRICT.has(c.op)) return { comparator, value: coerceText(c.value, type, c.attribute, false) };
  if (c.value === 'null') return { comparator, value: null };
  const prefix = TYPE_PREFIX.exec(c.raw);
  if (prefix) return { comparator, value: explicitTyped(prefix[1]!.toLowerCase(), c.value.slice(c.value.indexOf(':') + 1), c.attribute) };
  if (c.op === 'eq' && c.value.includes('*')) {
    if (c.value.indexOf('*') !== c.value.length - 1) throw weftError('REST_WILDCARD');
    return { comparator: 'starts_with', value: c.value.slice(0, -1) };
  }
  // contains / starts_with / ends_with compare text
  if (comparator === 'contains' || comparator === 'starts_with' || comparator === 'ends_with') return { comparator, value: c.value };
  return { comparator, value: coerceText(c.value, type, c.attribute, true) };
}

function translate(table: Table, node: QueryNode, env: JoinEnv | undefined): Condition | ConditionGroup {
  if (node.kind === 'group') {
    return { operator: node.operator, conditions: node.conditions.map((n) => translate(table, n, env)) };
  }
  const rels = relationsOf(table);
  if (rels) {
    if (rels.has(node.attribute)) throw weftError('REST_RELATION_QUERY');
    const dot = node.attribute.indexOf('.');
    const rel = dot > 0 ? rels.get(node.attribute.slice(0, dot)) : undefined;
    if (rel) {
      // `brand.name=x`: an inner join, resolved now into a condition on this table's keys
      const target = relatedTable(env, rel);
      const inner = translate(target, { ...node, attribute: node.attribute.slice(dot + 1) }, env);
      const conditions = joinCondition(table, rel, target, inner);
      return conditions.length === 1 ? conditions[0]! : { operator: 'or', conditions };
    }
  }
  requireAttribute(table, node.attribute);
  const { comparator, value } = conditionValue(table, node);
  // The primary key is looked up directly: a value that can not be a key matches nothing (or everything for !=).
  if (node.attribute === table.primaryKey && !isUsableKey(value) && comparator === 'equals') return NOTHING;
  if (value instanceof Date) return { attribute: node.attribute, comparator, value: value.getTime() };
  if (typeof value === 'bigint') return { attribute: node.attribute, comparator, value: Number(value) };
  return { attribute: node.attribute, comparator, value };
}

/** Turn a parsed query into a storage search on `table`. */
export function tableQuery(table: Table, q: ParsedQuery, env?: JoinEnv): TableQuery {
  const out: TableQuery = { options: {} };
  if (q.conditions) out.tree = translate(table, q.conditions, env);
  if (q.limit !== undefined) out.options.limit = q.limit;
  if (q.offset !== undefined) out.options.offset = q.offset;
  if (q.sort?.length) {
    let sort: SortSpec | undefined;
    for (let i = q.sort.length - 1; i >= 0; i--) {
      const s = q.sort[i]!;
      requireAttribute(table, s.attribute);
      sort = { attribute: s.attribute, descending: s.descending, next: sort };
    }
    out.options.sort = sort;
  }
  if (q.select) {
    checkSelect(table, q.select);
    out.select = q.select;
  }
  return out;
}

function checkSelect(table: Table, select: QuerySelect): void {
  const rels = relationsOf(table);
  const names = select.kind === 'value' ? [select.name] : select.names;
  for (const n of names) {
    if (n === '$id' || n === '$updatedtime') continue;
    if (!rels?.has(n)) requireAttribute(table, n);
  }
  const nested = select.kind === 'value' ? (select.nested ? { [select.name]: select.nested } : {}) : select.kind === 'object' ? select.nested ?? {} : {};
  for (const n of Object.keys(nested)) if (!rels?.has(n)) throw weftError('REST_NOT_RELATIONSHIP', n);
}

/** Shape records for `select(...)`: objects, bare values or arrays (spec §4.5). */
export function projector(table: Table, select: QuerySelect | undefined, env?: JoinEnv): (r: Rec) => unknown {
  if (!select) return (r) => r;
  const rels = relationsOf(table);
  const joins = new Map<string, (r: Rec) => unknown>();
  const names = select.kind === 'value' ? [select.name] : select.names;
  for (const n of names) {
    const rel = rels?.get(n);
    if (!rel) continue;
    const target = relatedTable(env, rel);
    const sub = select.kind === 'value' ? select.nested : select.kind === 'object' ? select.nested?.[n] : undefined;
    const project = projector(target, sub, env);
    joins.set(n, (r) => related(table, rel, target, r, project));
  }
  const get = (r: Rec, n: string): unknown => {
    if (n === '$id') return r[table.primaryKey];
    if (n === '$updatedtime') return updatedTime(table, r);
    const join = joins.get(n);
    return join ? join(r) : table.valueOf(r, n);
  };
  switch (select.kind) {
    case 'value': return (r) => get(r, select.name) ?? null;
    case 'array': return (r) => select.names.map((n) => get(r, n) ?? null);
    case 'object': return (r) => {
      const o: Rec = {};
      for (const n of select.names) { const v = get(r, n); if (v !== undefined) o[n] = v; }
      return o;
    };
  }
}

function updatedTime(table: Table, r: Rec): unknown {
  const a = table.def.attributes.find((x) => x.assigned_updated_time);
  return a ? r[a.attribute] ?? null : null;
}
