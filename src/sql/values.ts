/**
 * Value semantics of Weft SQL: three-valued comparisons and the one coercion rule, chosen so that the index planner
 * can find every row a predicate accepts (plan.ts pushes each literal in every form it can match):
 * - a number meets a string: the string is read as a number when it is canonical numeric text (`'5'`, `'-2.5'`, not `'5.0'`),
 *   otherwise the number is read as its text;
 * - a Date meets a number or a date string: both become epoch milliseconds;
 * - null/undefined on either side: the comparison is unknown (null), which filters like false.
 */
import { compareValues } from '../storage/index.js';

/** The number a string spells in canonical form (`'5'`, `'-2.5'`; not `'05'` or `'5.0'`), else undefined. */
export function numericText(s: string): number | undefined {
  if (s === '' || s.trim() !== s) return undefined;
  const n = Number(s);
  return String(n) === s ? n : undefined;
}

export function toEpoch(v: unknown): number | undefined {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** Bring two non-null values to a common type, or return undefined when they cannot be compared. */
function coerce(a: unknown, b: unknown): [unknown, unknown] | undefined {
  if (typeof a === 'bigint') a = Number(a);
  if (typeof b === 'bigint') b = Number(b);
  if (a instanceof Date || b instanceof Date) {
    const x = toEpoch(a), y = toEpoch(b);
    return x === undefined || y === undefined ? undefined : [x, y];
  }
  const ta = typeof a, tb = typeof b;
  if (ta === tb) return [a, b];
  if (ta === 'number' && tb === 'string') {
    const n = numericText(b as string);
    return n === undefined ? [String(a), b] : [a, n];
  }
  if (ta === 'string' && tb === 'number') {
    const n = numericText(a as string);
    return n === undefined ? [a, String(b)] : [n, b];
  }
  return undefined;
}

/** -1/0/1, or null when either side is null or the types cannot be compared. */
export function sqlCompare(a: unknown, b: unknown): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  const pair = coerce(a, b);
  if (!pair) return null;
  const [x, y] = pair;
  if (typeof x === 'object' || typeof y === 'object') {
    const sx = JSON.stringify(x), sy = JSON.stringify(y);
    return sx === sy ? 0 : sx < sy ? -1 : 1;
  }
  if (typeof x === 'number' && typeof y === 'number' && (Number.isNaN(x) || Number.isNaN(y))) return null;
  return (x as any) < (y as any) ? -1 : (x as any) > (y as any) ? 1 : 0;
}

export function sqlEquals(a: unknown, b: unknown): boolean | null {
  const c = sqlCompare(a, b);
  return c === null ? (a == null || b == null ? null : false) : c === 0;
}

/** SQL truth: only true is true (null and false both filter a row out). */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return true;
}

/** LIKE with `%` (any run) and `_` (one character); case-sensitive, so `'abc%'` can use a starts_with index scan. */
export function likeRegExp(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** The order used by ORDER BY, MIN and MAX: nulls first, then booleans, numbers, strings, objects. */
export function orderCompare(a: unknown, b: unknown): number {
  return compareValues(a ?? null, b ?? null);
}

/** A key that tells values apart by type (5 and '5' are different groups and different DISTINCT rows). */
export function valueKey(v: unknown): string {
  if (v === null || v === undefined) return 'n';
  if (v instanceof Date) return 'd' + v.getTime();
  switch (typeof v) {
    case 'number': return 'f' + v;
    case 'string': return 's' + v;
    case 'boolean': return v ? 'T' : 'F';
    case 'bigint': return 'f' + Number(v);
    default: return 'o' + JSON.stringify(v);
  }
}

export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}
