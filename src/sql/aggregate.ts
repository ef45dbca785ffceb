/**
 * GROUP BY aggregation split into partial and merge steps so a large input can be aggregated in chunks (on a worker
 * pool, later) and combined: aggregatePartial(chunk) for each chunk, mergePartials in chunk order, finishGroups.
 * For any split, merging the chunks' partials equals aggregating the whole input (aggregate.test.ts checks it).
 * Partials hold only plain data (arrays, numbers, records), so they survive structured clone between threads.
 */
import { orderCompare, toNumber, valueKey } from './values.js';

export type AggName =
  | 'COUNT' | 'SUM' | 'AVG' | 'MEAN' | 'MIN' | 'MAX' | 'GROUP_CONCAT' | 'ARRAY' | 'DISTINCT_ARRAY' | 'MEDIAN' | 'MODE'
  | 'MAD' | 'PROD';

export const AGGREGATES: ReadonlySet<string> = new Set<AggName>([
  'COUNT', 'SUM', 'AVG', 'MEAN', 'MIN', 'MAX', 'GROUP_CONCAT', 'ARRAY', 'DISTINCT_ARRAY', 'MEDIAN', 'MODE', 'MAD', 'PROD',
]);

export interface AggSpec {
  name: AggName;
  /** COUNT(*): count rows, not values. */
  star?: boolean;
  distinct?: boolean;
}

/** One aggregate's running state. `seen` holds valueKeys for DISTINCT; `values` the inputs of list aggregates. */
export interface AggState {
  n: number;
  /** The exact sum as non-overlapping partials (see addExact); `odd` collects infinities and NaN. */
  sum: number[];
  odd?: number;
  prod: number;
  best?: unknown;
  values?: unknown[];
  seen?: string[];
}

export interface GroupPartial<R> {
  key: string;
  /** The group's first row, for expressions over the grouping columns. */
  first: R;
  states: AggState[];
}

/** Groups in first-seen order. */
export type Partial<R> = GroupPartial<R>[];

const KEEP_VALUES = new Set<AggName>(['GROUP_CONCAT', 'ARRAY', 'DISTINCT_ARRAY', 'MEDIAN', 'MODE', 'MAD']);

function emptyState(spec: AggSpec): AggState {
  const s: AggState = { n: 0, sum: [], prod: 1 };
  if (KEEP_VALUES.has(spec.name) || spec.distinct) s.values = [];
  if (spec.distinct) s.seen = [];
  return s;
}

/** Fold one non-null value into a state (DISTINCT already applied). */
function accumulate(spec: AggSpec, s: AggState, v: unknown): void {
  s.n++;
  switch (spec.name) {
    case 'SUM': case 'AVG': case 'MEAN': case 'PROD': {
      const x = toNumber(v);
      if (x === null) { s.n--; return; }
      addExact(s, x);
      s.prod *= x;
      return;
    }
    case 'MIN': if (s.best === undefined || orderCompare(v, s.best) < 0) s.best = v; return;
    case 'MAX': if (s.best === undefined || orderCompare(v, s.best) > 0) s.best = v; return;
    default: if (KEEP_VALUES.has(spec.name)) s.values!.push(v);
  }
}

/**
 * Shewchuk's exact summation (Python's math.fsum): the running sum is kept exactly as non-overlapping partials and
 * rounded once at the end. A plain `+=` rounds at every step, so the same values summed in chunks (on the pool) and
 * merged would differ in the last bits from one pass over them; an exact sum does not depend on the grouping.
 */
function addExact(s: AggState, v: number): void {
  if (!Number.isFinite(v)) { s.odd = (s.odd ?? 0) + v; return; }
  const parts = s.sum;
  let x = v, i = 0;
  for (let j = 0; j < parts.length; j++) {
    let y = parts[j]!;
    if (Math.abs(x) < Math.abs(y)) { const t = x; x = y; y = t; }
    const hi = x + y;
    if (!Number.isFinite(hi)) {
      // overflow: the sum stays infinite (as a plain sum would), whatever comes later
      s.odd = (s.odd ?? 0) + hi;
      parts.length = 0;
      return;
    }
    const lo = y - (hi - x);
    if (lo !== 0) parts[i++] = lo;
    x = hi;
  }
  parts.length = i;
  parts.push(x);
}

/** The correctly rounded value of the exact sum (fsum's final step). */
function sumOf(s: AggState): number {
  if (s.odd !== undefined) return s.odd + s.sum.reduce((a, b) => a + b, 0);
  const p = s.sum;
  let n = p.length;
  if (n === 0) return 0;
  let hi = p[--n]!, lo = 0;
  while (n > 0) {
    const x = hi, y = p[--n]!;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  // round half to even across the remaining partials
  if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
    const y = lo * 2, x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

function add(spec: AggSpec, s: AggState, v: unknown, seen: Set<string> | undefined): void {
  if (spec.star) { s.n++; return; }
  if (v === null || v === undefined) return;
  if (seen) {
    const k = valueKey(v);
    if (seen.has(k)) return;
    seen.add(k);
    s.seen!.push(k);
    // distinct states keep their inputs so a merge can replay the other side's new values
    if (!KEEP_VALUES.has(spec.name)) s.values!.push(v);
  }
  accumulate(spec, s, v);
}

/**
 * Aggregate rows into per-group partial states. `keyOf` gives a row's grouping values (empty for one global group),
 * `argsOf[i]` the input of aggregate i.
 */
export function aggregatePartial<R>(
  rows: Iterable<R>, specs: AggSpec[], keyOf: (r: R) => unknown[], argsOf: Array<(r: R) => unknown>,
): Partial<R> {
  const groups = new Map<string, GroupPartial<R>>();
  // DISTINCT's seen-sets live beside the groups (partials stay plain data); without DISTINCT there is none to look up
  const distinct = specs.some((s) => s.distinct);
  const seenSets = new Map<string, Array<Set<string> | undefined>>();
  const none: Array<Set<string> | undefined> = [];
  for (const row of rows) {
    const values = keyOf(row);
    const key = values.length === 1 ? valueKey(values[0]) : values.map(valueKey).join('\u0000');
    let g = groups.get(key);
    if (!g) {
      g = { key, first: row, states: specs.map(emptyState) };
      groups.set(key, g);
      if (distinct) seenSets.set(key, specs.map((s) => (s.distinct ? new Set<string>() : undefined)));
    }
    const sets = distinct ? seenSets.get(key)! : none;
    for (let i = 0; i < specs.length; i++) add(specs[i]!, g.states[i]!, specs[i]!.star ? undefined : argsOf[i]!(row), sets[i]);
  }
  return [...groups.values()];
}

function mergeState(spec: AggSpec, a: AggState, b: AggState): AggState {
  if (spec.distinct && !spec.star) {
    const seen = new Set(a.seen);
    const out: AggState = { ...a, sum: [...a.sum], seen: [...a.seen!], values: [...a.values!] };
    b.seen!.forEach((k, i) => {
      if (seen.has(k)) return;
      seen.add(k);
      out.seen!.push(k);
      const v = b.values![i];
      if (!KEEP_VALUES.has(spec.name)) out.values!.push(v);
      accumulate(spec, out, v);
    });
    return out;
  }
  const out: AggState = { n: a.n + b.n, sum: [...a.sum], prod: a.prod * b.prod };
  if (a.odd !== undefined) out.odd = a.odd;
  for (const x of b.sum) addExact(out, x);
  if (b.odd !== undefined) out.odd = (out.odd ?? 0) + b.odd;
  if (a.values || b.values) out.values = [...(a.values ?? []), ...(b.values ?? [])];
  if (spec.name === 'MIN' || spec.name === 'MAX') out.best = bestOf(spec, a.best, b.best);
  return out;
}

/** Combine two partials; `a` holds the earlier rows (group order and first rows come from it). */
export function mergePartials<R>(a: Partial<R>, b: Partial<R>, specs: AggSpec[]): Partial<R> {
  const byKey = new Map(a.map((g) => [g.key, { ...g, states: [...g.states] }]));
  for (const g of b) {
    const x = byKey.get(g.key);
    if (!x) { byKey.set(g.key, g); continue; }
    x.states = x.states.map((s, i) => mergeState(specs[i]!, s, g.states[i]!));
  }
  return [...byKey.values()];
}

/**
 * Merge partials in chunk order into one, like folding mergePartials, but through one map and reusing the groups of
 * `parts` (their states are replaced): for partials nobody else holds, such as chunk results just received from the
 * pool. Folding copied every group on every merge, ~3 us a group, which dominated GROUP BYs with many groups.
 */
export function mergeOwned<R>(parts: Array<Partial<R>>, specs: AggSpec[]): Partial<R> {
  const byKey = new Map<string, GroupPartial<R>>();
  for (const part of parts) {
    for (const g of part) {
      const x = byKey.get(g.key);
      if (!x) { byKey.set(g.key, g); continue; }
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i]!;
        if (spec.distinct && !spec.star) x.states[i] = mergeState(spec, x.states[i]!, g.states[i]!);
        else mergeStateInto(spec, x.states[i]!, g.states[i]!);
      }
    }
  }
  return [...byKey.values()];
}

/** mergeState without DISTINCT, changing `a` in place (mergeOwned owns it) instead of copying it. */
function mergeStateInto(spec: AggSpec, a: AggState, b: AggState): void {
  a.n += b.n;
  a.prod *= b.prod;
  for (const x of b.sum) addExact(a, x);
  if (b.odd !== undefined) a.odd = (a.odd ?? 0) + b.odd;
  if (b.values) {
    if (a.values) for (const v of b.values) a.values.push(v);
    else a.values = [...b.values];
  }
  if (spec.name === 'MIN' || spec.name === 'MAX') a.best = bestOf(spec, a.best, b.best);
}

/** The MIN or MAX of two partial results (`a` from the earlier rows wins ties). */
function bestOf(spec: AggSpec, a: unknown, b: unknown): unknown {
  const dir = spec.name === 'MIN' ? -1 : 1;
  return a === undefined ? b : b === undefined ? a : Math.sign(orderCompare(b, a)) === dir ? b : a;
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const v = [...values].sort((x, y) => x - y);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The final value of one aggregate. */
export function finishState(spec: AggSpec, s: AggState): unknown {
  switch (spec.name) {
    case 'COUNT': return s.n;
    case 'SUM': return s.n ? sumOf(s) : null;
    case 'AVG': case 'MEAN': return s.n ? sumOf(s) / s.n : null;
    case 'PROD': return s.n ? s.prod : null;
    case 'MIN': case 'MAX': return s.best ?? null;
    case 'GROUP_CONCAT': return s.values!.length ? s.values!.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',') : null;
    case 'ARRAY': return s.values!;
    case 'DISTINCT_ARRAY': {
      const seen = new Set<string>();
      return s.values!.filter((v) => { const k = valueKey(v); if (seen.has(k)) return false; seen.add(k); return true; });
    }
    case 'MEDIAN': return median(s.values!.map(toNumber).filter((x): x is number => x !== null));
    case 'MAD': {
      const nums = s.values!.map(toNumber).filter((x): x is number => x !== null);
      const m = median(nums);
      return m === null ? null : median(nums.map((x) => Math.abs(x - m)));
    }
    case 'MODE': {
      const counts = new Map<string, { v: unknown; n: number }>();
      for (const v of s.values!) {
        const k = valueKey(v);
        const c = counts.get(k) ?? { v, n: 0 };
        c.n++;
        counts.set(k, c);
      }
      let best: { v: unknown; n: number } | undefined;
      for (const c of counts.values()) if (!best || c.n > best.n) best = c;
      return best?.v ?? null;
    }
  }
}

export function finishGroups<R>(p: Partial<R>, specs: AggSpec[]): Array<{ first: R; values: unknown[] }> {
  return p.map((g) => ({ first: g.first, values: g.states.map((s, i) => finishState(specs[i]!, s)) }));
}
