/**
 * WHERE -> storage condition tree for one source, so storage's search() can use the secondary indexes. The tree only
 * needs to keep every row the SQL predicate accepts (the full WHERE is evaluated on every candidate afterwards), so
 * untranslatable conjuncts of an AND are dropped, and each literal is pushed in every form that can equal or order
 * against it under the coercion rules of values.ts (5 and '5'; a date string and the epoch number a Date indexes as).
 */
import type { Comparator, Condition, ConditionGroup } from '../storage/index.js';
import { columnName, literalValue, resolveColumn, type Scope } from './compile.js';
import { numericText } from './values.js';
import type { Node } from './types.js';

type Tree = Condition | ConditionGroup;

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };
const RANGE: Record<string, Comparator> = { '<': 'less_than', '<=': 'less_than_equal', '>': 'greater_than', '>=': 'greater_than_equal' };
const DATE_TEXT = /^\d{4}-\d{2}-\d{2}/;

/** The values an equality with literal `v` can match in storage. */
function equalForms(v: unknown): unknown[] {
  if (typeof v === 'number') return [v, String(v)];
  if (typeof v === 'string') {
    const out: unknown[] = [v];
    const n = numericText(v);
    if (n !== undefined) out.push(n);
    if (DATE_TEXT.test(v) && !Number.isNaN(Date.parse(v))) out.push(Date.parse(v));
    return out;
  }
  if (typeof v === 'boolean') return [v];
  return [];
}

function any(conditions: Tree[]): Tree | undefined {
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : { operator: 'or', conditions };
}

/** Every value of the other scalar type: numbers compare with text (and text with numbers) by coercion. */
function otherType(attribute: string, v: unknown): Tree {
  return typeof v === 'number'
    ? { attribute, comparator: 'greater_than_equal', value: '' }
    : { attribute, comparator: 'greater_than_equal', value: -Number.MAX_VALUE };
}

function rangeTree(attribute: string, op: string, v: unknown): Tree | undefined {
  if (typeof v !== 'number' && typeof v !== 'string') return undefined;
  const comparator = RANGE[op]!;
  const parts: Tree[] = [{ attribute, comparator, value: v }];
  if (typeof v === 'string' && DATE_TEXT.test(v) && !Number.isNaN(Date.parse(v))) {
    parts.push({ attribute, comparator, value: Date.parse(v) });
  }
  parts.push(otherType(attribute, v));
  return any(parts);
}

/** The attribute of `node` when it is a column of source `index`. */
function columnOf(node: Node, scope: Scope, index: number): string | undefined {
  if (node?.type !== 'column_ref' || columnName(node) === '*') return undefined;
  if (!node.table && scope.aliases?.has(columnName(node))) return undefined;
  try {
    const r = resolveColumn(node, scope);
    return r.index === index ? r.attribute : undefined;
  } catch {
    return undefined;
  }
}

function translate(node: Node, scope: Scope, index: number): Tree | undefined {
  if (!node || typeof node !== 'object') return undefined;
  if (node.type !== 'binary_expr') return undefined;
  const op = String(node.operator).toUpperCase();
  if (op === 'AND') {
    const parts = [translate(node.left, scope, index), translate(node.right, scope, index)].filter((t): t is Tree => !!t);
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : { operator: 'and', conditions: parts };
  }
  if (op === 'OR') {
    const l = translate(node.left, scope, index), r = translate(node.right, scope, index);
    return l && r ? { operator: 'or', conditions: [l, r] } : undefined;
  }
  if (op in FLIP) {
    let attr = columnOf(node.left, scope, index);
    let lit = literalValue(node.right);
    let o = op;
    if (!attr || !lit) {
      attr = columnOf(node.right, scope, index);
      lit = literalValue(node.left);
      o = FLIP[op]!;
    }
    if (!attr || !lit) return undefined;
    if (o === '=') return any(equalForms(lit.value).map((value) => ({ attribute: attr!, comparator: 'equals' as const, value })));
    return rangeTree(attr, o, lit.value);
  }
  const attr = columnOf(node.left, scope, index);
  if (!attr) return undefined;
  if (op === 'IN') {
    const items = (node.right?.value as Node[] | undefined)?.map(literalValue);
    if (!items || items.some((i) => !i)) return undefined;
    const forms = items.flatMap((i) => equalForms(i!.value));
    return any(forms.map((value) => ({ attribute: attr, comparator: 'equals' as const, value })));
  }
  if (op === 'BETWEEN') {
    const [lo, hi] = ((node.right?.value as Node[] | undefined) ?? []).map(literalValue);
    if (!lo || !hi) return undefined;
    const a = lo.value, b = hi.value;
    if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return undefined;
    const parts: Tree[] = [{ attribute: attr, comparator: 'between', value: [a, b] }];
    if (typeof a === 'string' && DATE_TEXT.test(a) && DATE_TEXT.test(b as string)) {
      const x = Date.parse(a), y = Date.parse(b as string);
      if (!Number.isNaN(x) && !Number.isNaN(y)) parts.push({ attribute: attr, comparator: 'between', value: [x, y] });
    }
    parts.push(otherType(attr, a));
    return any(parts);
  }
  if (op === 'LIKE') {
    const p = literalValue(node.right)?.value;
    if (typeof p !== 'string') return undefined;
    const m = /^([^%_]+)%$/.exec(p);
    if (m) return { attribute: attr, comparator: 'starts_with', value: m[1] };
    if (!/[%_]/.test(p)) return { attribute: attr, comparator: 'equals', value: p };
    return undefined;
  }
  return undefined;
}

/** The storage condition tree for source `index` implied by `where`, or undefined when none can narrow it. */
export function planWhere(where: Node | null | undefined, scope: Scope, index = 0): Tree | undefined {
  return where ? translate(where, scope, index) : undefined;
}

/** `right.col = <expression over earlier sources>` conjuncts of a join's ON clause, for index or hash lookups. */
export function joinKeys(on: Node | undefined, scope: Scope, index: number): Array<{ attribute: string; other: Node }> {
  const out: Array<{ attribute: string; other: Node }> = [];
  const visit = (n: Node | undefined) => {
    if (!n || n.type !== 'binary_expr') return;
    const op = String(n.operator).toUpperCase();
    if (op === 'AND') { visit(n.left); visit(n.right); return; }
    if (op !== '=') return;
    for (const [mine, other] of [[n.left, n.right], [n.right, n.left]] as Array<[Node, Node]>) {
      const attr = columnOf(mine, scope, index);
      if (attr && !refersTo(other, scope, index)) { out.push({ attribute: attr, other }); return; }
    }
  };
  visit(on);
  return out;
}

/** Does `node` reference a source at or after `index` (so it cannot be computed from the earlier sources)? */
function refersTo(node: unknown, scope: Scope, index: number): boolean {
  if (!node || typeof node !== 'object') return false;
  const n = node as Node;
  if (n.type === 'column_ref') {
    try { return resolveColumn(n, scope).index >= index; } catch { return true; }
  }
  if (n.type === 'aggr_func' || n.type === 'select') return true;
  return Object.values(n).some((v) => (Array.isArray(v) ? v.some((x) => refersTo(x, scope, index)) : refersTo(v, scope, index)));
}
