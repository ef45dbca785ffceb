/**
 * SELECT execution: sources -> joined rows (driving table narrowed by the index plan, joined tables by index or hash
 * lookups) -> WHERE -> GROUP BY/aggregates -> HAVING -> projection -> DISTINCT -> ORDER BY -> OFFSET/LIMIT.
 * Simple single-table queries without ordering or grouping stream; everything else is materialised.
 */
import { weftError } from '../errors/index.js';
import { search, type Key, type Rec, type Table } from '../storage/index.js';
import { aggregatePartial, finishGroups, type AggSpec, type Partial } from './aggregate.js';
import { parallelPlan, runParallel } from './parallel.js';
import {
  columnName, compileExpr, hasAggregate, newScope, precompute, type Scope,
} from './compile.js';
import { exprText } from './parse.js';
import { joinKeys, planWhere } from './plan.js';
import { numericText, orderCompare, truthy, valueKey } from './values.js';
import type { Evaluator, Node, Row, Source } from './types.js';
import type { SqlServices } from './resolve.js';
import { resolveSources } from './resolve.js';
import { sourceChecks, starSets } from './access.js';

type OutputItem =
  | { kind: 'star'; source?: number }
  | { kind: 'expr'; name: string; eval: Evaluator; node: Node };

interface OrderItem { eval: Evaluator; desc: boolean }

function limits(stmt: Node): { limit: number; offset: number } {
  let limit = Infinity, offset = 0;
  const num = (n: Node | undefined, what: string): number => {
    const v = Number(n?.value);
    if (!Number.isInteger(v) || v < 0) throw weftError('SQL_BAD_ARGUMENTS', `${what} must be a non-negative integer`);
    return v;
  };
  const l = stmt.limit;
  if (l && Array.isArray(l.value) && l.value.length) {
    if (l.seperator === ',') { offset = num(l.value[0], 'OFFSET'); limit = num(l.value[1], 'LIMIT'); }
    else { limit = num(l.value[0], 'LIMIT'); if (l.value[1]) offset = num(l.value[1], 'OFFSET'); }
  } else if (l && (l.offset || l.fetch)) {
    if (l.offset) offset = num(l.offset.value, 'OFFSET');
    if (l.fetch) limit = num(l.fetch.value, 'FETCH');
  }
  if (stmt.top?.value !== undefined && stmt.top?.value !== null) {
    if (stmt.top.percent) throw weftError('SQL_UNSUPPORTED', 'TOP ... PERCENT');
    limit = Math.min(limit, num({ type: 'number', value: stmt.top.value }, 'TOP'));
  }
  return { limit, offset };
}

/** Records of one table narrowed by a condition tree (index-planned by storage). */
function tableRows(t: Table, tree: ReturnType<typeof planWhere>): Iterable<Rec> {
  return tree ? search(t, tree) : t.scan();
}

/** Join key normalisation: values equal under SQL coercion land in the same bucket (the ON clause re-checks). */
function joinKey(v: unknown): string {
  if (typeof v === 'string') {
    const n = numericText(v);
    if (n !== undefined) return 'f' + n;
  }
  return valueKey(v);
}

function* joinRows(sources: Source[], scope: Scope, where: Node | null): Generator<Row> {
  const outer = sources.some((s, i) => i > 0 && (s.join === 'right' || s.join === 'full'));
  // a WHERE conjunct on the first table may narrow it only when no later join can produce rows without it
  const tree = outer ? undefined : planWhere(where, scope, 0);
  let rows: Iterable<Row> = (function* () { for (const r of tableRows(sources[0]!.table, tree)) yield { recs: [r] }; })();
  for (let j = 1; j < sources.length; j++) rows = joinStep(rows, sources, scope, j);
  yield* rows;
}

function* joinStep(left: Iterable<Row>, sources: Source[], scope: Scope, j: number): Generator<Row> {
  const src = sources[j]!;
  const kind = src.join ?? 'cross';
  const on = src.on ? compileExpr(src.on, scope) : undefined;
  const keys = joinKeys(src.on, scope, j);
  const keyOf = keys.map((k) => compileExpr(k.other, scope));
  const t = src.table;
  const indexed = keys.findIndex((k) => k.attribute === t.primaryKey || t.indexes.has(k.attribute));
  const pad = (r: Row): Row => ({ recs: [...r.recs, ...new Array(j + 1 - r.recs.length).fill(undefined)] });

  if ((kind === 'inner' || kind === 'left') && indexed >= 0) {
    const { attribute } = keys[indexed]!;
    for (const l of left) {
      const v = keyOf[indexed]!(pad(l));
      let matched = false;
      if (v !== null && v !== undefined) {
        const forms = typeof v === 'number' ? [v, String(v)] : typeof v === 'string' && numericText(v) !== undefined ? [v, numericText(v)!] : [v];
        const seen = new Set<unknown>();
        for (const value of forms) {
          const hits = attribute === t.primaryKey ? [t.get(value as Key)].filter((r): r is Rec => !!r) : search(t, { attribute, comparator: 'equals', value });
          for (const r of hits) {
            const id = valueKey(r[t.primaryKey]);
            if (seen.has(id)) continue;
            seen.add(id);
            const row: Row = { recs: [...l.recs, r] };
            if (!on || truthy(on(row))) { matched = true; yield row; }
          }
        }
      }
      if (!matched && kind === 'left') yield { recs: [...l.recs, undefined] };
    }
    return;
  }

  const right = [...t.scan()];
  let buckets: Map<string, number[]> | undefined;
  if (keys.length) {
    buckets = new Map();
    const attr = keys[0]!.attribute;
    right.forEach((r, i) => {
      const v = r[attr];
      if (v === null || v === undefined) return;
      const k = joinKey(v);
      const b = buckets!.get(k);
      if (b) b.push(i); else buckets!.set(k, [i]);
    });
  }
  const matchedRight = new Uint8Array(right.length);
  const all = right.map((_, i) => i);
  let leftWidth = j;
  for (const l of left) {
    leftWidth = l.recs.length;
    let candidates = all;
    if (buckets) {
      const v = keyOf[0]!(pad(l));
      candidates = v === null || v === undefined ? [] : buckets.get(joinKey(v)) ?? [];
    }
    let matched = false;
    for (const i of candidates) {
      const row: Row = { recs: [...l.recs, right[i]] };
      if (!on || truthy(on(row))) { matched = true; matchedRight[i] = 1; yield row; }
    }
    if (!matched && (kind === 'left' || kind === 'full')) yield { recs: [...l.recs, undefined] };
  }
  if (kind === 'right' || kind === 'full') {
    for (let i = 0; i < right.length; i++) {
      if (!matchedRight[i]) yield { recs: [...new Array(leftWidth).fill(undefined), right[i]] };
    }
  }
}

/** Attributes of a source for `*`: every known attribute on dynamic tables (null-filled), the record as is otherwise. */
function starColumns(src: Source, rec: Rec | undefined, out: Rec, readable: Set<string> | null | undefined): void {
  const t = src.table;
  // non-super users see only the attributes their role may read (spec §2.9)
  const ok = (a: string) => !readable || readable.has(a);
  if (!t.def.schemaDefined) for (const a of t.attributeNames()) if (!(a in out) && ok(a)) out[a] = rec?.[a] ?? null;
  if (rec) for (const k of Object.keys(rec)) if (!(k in out) && ok(k)) out[k] = rec[k];
}

function outputItems(stmt: Node, scope: Scope): OutputItem[] {
  const cols = stmt.columns;
  if (cols === '*' || (Array.isArray(cols) && cols.length === 0)) return [{ kind: 'star' }];
  const items: OutputItem[] = [];
  for (const c of cols as Node[]) {
    const e = c.expr as Node;
    if (e?.type === 'star' || (e?.type === 'column_ref' && columnName(e) === '*')) {
      if (e.table) {
        const idx = scope.sources.findIndex((s) => s.alias === e.table || s.table.name === e.table);
        if (idx < 0) throw weftError('SQL_UNKNOWN_COLUMN', `${e.table}.*`);
        items.push({ kind: 'star', source: idx });
      } else items.push({ kind: 'star' });
      continue;
    }
    const name = c.as ? String(typeof c.as === 'object' ? c.as.value ?? '' : c.as) : e.type === 'column_ref' ? columnName(e) : exprText(e);
    items.push({ kind: 'expr', name, eval: compileExpr(e, scope), node: e });
  }
  return items;
}

function project(items: OutputItem[], sources: Source[], row: Row, readable: Array<Set<string> | null>): Rec {
  const out: Rec = {};
  for (const item of items) {
    if (item.kind === 'star') {
      if (item.source !== undefined) starColumns(sources[item.source]!, row.recs[item.source], out, readable[item.source]);
      else sources.forEach((s, i) => starColumns(s, row.recs[i], out, readable[i]));
    } else {
      const v = item.eval(row);
      out[item.name] = v === undefined ? null : v;
    }
  }
  return out;
}

/** GROUP BY validation with the spec's messages. */
function checkGroupBy(groupNodes: Node[], items: OutputItem[], scope: Scope): void {
  const selected = new Set<string>();
  for (const item of items) {
    if (item.kind !== 'expr') continue;
    selected.add(item.name);
    if (item.node.type === 'column_ref') selected.add(columnName(item.node));
  }
  const grouped = new Set<string>();
  for (const g of groupNodes) {
    if (g.type !== 'column_ref') continue;
    const name = columnName(g);
    grouped.add(name);
    const isAlias = items.some((i) => i.kind === 'expr' && i.name === name && !(i.node.type === 'column_ref' && columnName(i.node) === name));
    if (!isAlias) {
      const known = g.table
        ? scope.sources.some((s) => (s.alias === g.table || s.table.name === g.table) && (s.table.hasAttribute(name) || s.table.def.schemaDefined))
        : scope.sources.some((s) => s.table.hasAttribute(name) || s.table.def.schemaDefined);
      if (!known) throw weftError('SQL_UNKNOWN_GROUP_BY_COLUMN', name);
    }
    if (!selected.has(name)) throw weftError('SQL_GROUP_BY_NOT_IN_SELECT', name);
  }
  for (const item of items) {
    if (item.kind === 'star') throw weftError('SQL_SELECT_NOT_IN_GROUP_BY', '*');
    if (item.node.type === 'column_ref' && !grouped.has(columnName(item.node)) && !grouped.has(item.name)) {
      throw weftError('SQL_SELECT_NOT_IN_GROUP_BY', columnName(item.node));
    }
  }
}

/** A SELECT validated and compiled against the current table definitions; the same in every thread that runs it. */
export interface PreparedSelect {
  sources: Source[];
  scope: Scope;
  whereNode: Node | null;
  where?: Evaluator;
  aggs: { specs: AggSpec[]; args: Evaluator[] };
  items: OutputItem[];
  having?: Evaluator;
  groupNodes: Node[];
  groupKeys: Evaluator[];
  order: OrderItem[];
  limit: number;
  offset: number;
  distinct: boolean;
  grouped: boolean;
  /** Streamable: no grouping, DISTINCT, ORDER BY or SEARCH_JSON. */
  simple: boolean;
  /** Per source, the attributes `*` may show (null = all): narrowed for non-super users. */
  readable: Array<Set<string> | null>;
}

/** One output row before DISTINCT, ORDER BY and LIMIT: the projection and its sort keys. */
export interface Entry { out: Rec; keys: unknown[] }

export function prepareSelect(stmt: Node, services: SqlServices): PreparedSelect {
  if (stmt.with) throw weftError('SQL_UNSUPPORTED', 'WITH');
  if (stmt._next || stmt.set_op || stmt.union) throw weftError('SQL_UNSUPPORTED', 'UNION');
  if (stmt.into?.expr || stmt.into?.type) throw weftError('SQL_UNSUPPORTED', 'SELECT INTO');
  const sources = resolveSources(stmt.from, services, 'select');
  const scope = newScope(sources);
  const groupNodes: Node[] = stmt.groupby?.columns ?? (Array.isArray(stmt.groupby) ? stmt.groupby : []);
  const orderNodes: Node[] = stmt.orderby ?? [];
  const grouped = groupNodes.length > 0 || hasAggregate(stmt.columns) || hasAggregate(stmt.having)
    || orderNodes.some((o) => hasAggregate(o.expr));
  if (hasAggregate(stmt.where)) throw weftError('SQL_UNSUPPORTED', 'aggregates in WHERE');

  const where = stmt.where ? compileExpr(stmt.where, scope) : undefined;
  const aggs = { specs: [] as AggSpec[], args: [] as Evaluator[] };
  const outScope: Scope = grouped ? { ...scope, aggs } : scope;
  const items = outputItems(stmt, outScope);
  const aliases = new Set(items.filter((i) => i.kind === 'expr').map((i) => (i as { name: string }).name));
  const lateScope: Scope = { ...outScope, aliases };
  const having = stmt.having ? compileExpr(stmt.having, lateScope) : undefined;
  const groupKeys = groupNodes.map((g) => {
    // GROUP BY may name an output alias
    if (g.type === 'column_ref' && !g.table) {
      const item = items.find((i) => i.kind === 'expr' && i.name === columnName(g)) as { eval: Evaluator; node: Node } | undefined;
      if (item && !hasAggregate(item.node)) return item.eval;
    }
    return compileExpr(g, scope);
  });
  if (grouped) checkGroupBy(groupNodes, items, scope);
  const order: OrderItem[] = orderNodes.map((o) => {
    const e = o.expr as Node;
    const desc = String(o.type ?? '').toUpperCase() === 'DESC';
    if (e.type === 'number') {
      const pos = Number(e.value);
      return { desc, eval: (row: Row) => Object.values(row.out ?? {})[pos - 1] ?? null };
    }
    return { desc, eval: compileExpr(e, lateScope) };
  });
  const { limit, offset } = limits(stmt);
  const distinct = Boolean(stmt.distinct);
  const simple = !grouped && !distinct && order.length === 0 && scope.pre.length === 0;
  if (services.access) {
    // ON clauses are otherwise compiled lazily while joining: their columns must be checked before any row is read
    for (const s of sources) if (s.on) compileExpr(s.on, scope);
    services.access.check(sourceChecks(sources, scope, 'read'));
  }
  const readable = starSets(sources, services.access);
  return {
    sources, scope, whereNode: stmt.where ?? null, where, aggs, items, having, groupNodes, groupKeys, order, limit,
    offset, distinct, grouped, simple, readable,
  };
}

/** The rows of `rows` that pass WHERE (SEARCH_JSON values computed first when the statement has any). */
async function filtered(p: PreparedSelect, rows: Iterable<Row>): Promise<Iterable<Row>> {
  const { where, scope } = p;
  if (!scope.pre.length) {
    if (!where) return rows;
    return (function* () { for (const row of rows) if (truthy(where(row))) yield row; })();
  }
  const kept: Row[] = [];
  for (const row of rows) {
    await precompute(row, scope.pre);
    if (!where || truthy(where(row))) kept.push(row);
  }
  return kept;
}

/** Partial aggregate states of some rows (a chunk, or all of them). */
export async function partialOf(p: PreparedSelect, rows: Iterable<Row>): Promise<Partial<Row>> {
  return aggregatePartial(await filtered(p, rows), p.aggs.specs, (r) => p.groupKeys.map((k) => k(r)), p.aggs.args);
}

function entryOf(p: PreparedSelect, row: Row): Entry | undefined {
  row.out = project(p.items, p.sources, row, p.readable);
  if (p.having && !truthy(p.having(row))) return undefined;
  return { out: row.out, keys: p.order.map((o) => o.eval(row)) };
}

function compareEntries(p: PreparedSelect): (a: Entry, b: Entry) => number {
  return (a, b) => {
    for (let i = 0; i < p.order.length; i++) {
      const d = orderCompare(a.keys[i], b.keys[i]);
      if (d !== 0) return p.order[i]!.desc ? -d : d;
    }
    return 0;
  };
}

/**
 * Output entries of ungrouped rows. With `topOnly` (a chunk of a larger input), an ordered, limited, non-DISTINCT
 * query keeps only its first offset+limit entries: no row beyond them in one chunk can be within them overall.
 */
export async function entriesOf(p: PreparedSelect, rows: Iterable<Row>, topOnly = false): Promise<Entry[]> {
  let out: Entry[] = [];
  for (const row of await filtered(p, rows)) {
    const e = entryOf(p, row);
    if (e) out.push(e);
  }
  if (topOnly && p.order.length && p.limit !== Infinity && !p.distinct) {
    out.sort(compareEntries(p)); // stable, so ties keep the scan order as the final sort expects
    out = out.slice(0, p.offset + p.limit);
  }
  return out;
}

/** Output entries of the finished groups (one empty group for aggregates over no rows without GROUP BY). */
export function groupEntries(p: PreparedSelect, partial: Partial<Row>): Entry[] {
  const groups = finishGroups(partial, p.aggs.specs);
  if (groups.length === 0 && p.groupNodes.length === 0) {
    groups.push({ first: { recs: [] }, values: p.aggs.specs.map((s) => (s.name === 'COUNT' ? 0 : null)) });
  }
  const out: Entry[] = [];
  for (const g of groups) {
    const e = entryOf(p, { recs: g.first.recs, pre: g.first.pre, aggs: g.values });
    if (e) out.push(e);
  }
  return out;
}

/** DISTINCT, ORDER BY, OFFSET/LIMIT over the entries in scan order. */
export function finishEntries(p: PreparedSelect, entries: Entry[]): Rec[] {
  let out = entries;
  if (p.distinct) {
    const seen = new Set<string>();
    out = out.filter(({ out: o }) => {
      const k = Object.values(o).map(valueKey).join('\u0000');
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  if (p.order.length) out.sort(compareEntries(p));
  const end = p.limit === Infinity ? undefined : p.offset + p.limit;
  return out.slice(p.offset, end).map((e) => e.out);
}

export async function runSelect(stmt: Node, services: SqlServices, sql?: string): Promise<Iterable<Rec> | Rec[]> {
  const p = prepareSelect(stmt, services);
  const { sources, items, where, limit, offset } = p;

  // heavy single-table scans and aggregations go to the background pool, in key-range chunks
  // only for super users: pool threads have no caller permissions to narrow projected rows with
  const plan = sql === undefined || services.access ? undefined : parallelPlan(p, services);
  if (plan) return runParallel(p, plan, sql!, services);

  // rows before grouping
  let base: Iterable<Row>;
  if (sources.length === 0) base = [{ recs: [] }];
  else base = joinRows(sources, p.scope, p.whereNode);

  if (p.simple) {
    return (function* () {
      let skipped = 0, n = 0;
      if (limit === 0) return;
      for (const row of base) {
        if (where && !truthy(where(row))) continue;
        if (skipped < offset) { skipped++; continue; }
        yield project(items, sources, row, p.readable);
        if (++n >= limit) return;
      }
    })();
  }
  const entries = p.grouped ? groupEntries(p, await partialOf(p, base)) : await entriesOf(p, base);
  return finishEntries(p, entries);
}
