/**
 * Condition search over one table. Plans with the secondary indexes: an AND group is driven by its most selective
 * indexed condition, an OR group by the union of its members' index hits; anything else scans the primary store.
 * Every candidate is re-checked against the whole condition tree, so index shortcuts never change results.
 */
import type { Table } from './table.js';
import { indexKeyOf, MAX_INDEXED_STRING } from './index-keys.js';
import { isGroup, type Condition, type ConditionGroup, type Key, type Rec, type SearchOptions, type SortSpec } from './types.js';

// ---------- predicate evaluation ----------

function typeRank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof Date) return 2;
  if (typeof v === 'string') return 3;
  return 4;
}

function norm(v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/**
 * Strings in code-point order, which is the UTF-8 byte order of the indexes. JavaScript's `<` compares UTF-16 code
 * units and puts astral characters (surrogates) before U+E000-U+FFFF, so a range read from an index and a re-check
 * with `<` would disagree about such strings.
 */
function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // surrogates (D800-DFFF) encode code points above FFFF: move them after E000-FFFF
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Total order used for sorting and ranges: null < booleans < numbers < strings < objects. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a), rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  const x = norm(a) as any, y = norm(b) as any;
  if (ra === 4) return compareStrings(JSON.stringify(x), JSON.stringify(y));
  if (ra === 3) return compareStrings(x, y);
  return x < y ? -1 : x > y ? 1 : 0;
}

function valueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  const x = norm(a), y = norm(b);
  if (x === y) return true;
  if (typeof x === 'object' && typeof y === 'object') return JSON.stringify(x) === JSON.stringify(y);
  return false;
}

function scalarMatch(actual: unknown, c: Condition): boolean {
  const v = c.value;
  switch (c.comparator) {
    case 'equals': return valueEquals(actual, v);
    case 'not_equal': return !valueEquals(actual, v);
    case 'contains': return typeof actual === 'string' && actual.includes(String(v));
    case 'starts_with': return typeof actual === 'string' && actual.startsWith(String(v));
    case 'ends_with': return typeof actual === 'string' && actual.endsWith(String(v));
    case 'greater_than': return actual != null && typeRank(actual) === typeRank(v) && compareValues(actual, v) > 0;
    case 'greater_than_equal': return actual != null && typeRank(actual) === typeRank(v) && compareValues(actual, v) >= 0;
    case 'less_than': return actual != null && typeRank(actual) === typeRank(v) && compareValues(actual, v) < 0;
    case 'less_than_equal': return actual != null && typeRank(actual) === typeRank(v) && compareValues(actual, v) <= 0;
    case 'between': {
      const [lo, hi] = v as [unknown, unknown];
      return actual != null && typeRank(actual) === typeRank(lo) && compareValues(actual, lo) >= 0 && compareValues(actual, hi) <= 0;
    }
  }
}

export function matchCondition(rec: Rec, c: Condition): boolean {
  const actual = rec[c.attribute];
  // Arrays match when any element matches (spec §4.5); not_equal means no element equals.
  // (only equals/not_equal with an array value compare whole arrays; between's value is always a [low, high] pair)
  if (Array.isArray(actual) && (c.comparator === 'between' || !Array.isArray(c.value))) {
    if (c.comparator === 'not_equal') return !actual.some((el) => valueEquals(el, c.value));
    return actual.some((el) => scalarMatch(el, c));
  }
  return scalarMatch(actual, c);
}

export function matchTree(rec: Rec, node: Condition | ConditionGroup): boolean {
  if (!isGroup(node)) return matchCondition(rec, node);
  if (node.operator === 'or') return node.conditions.some((c) => matchTree(rec, c));
  return node.conditions.every((c) => matchTree(rec, c));
}

// ---------- planning ----------

/** Lower is more selective. Infinity = this condition cannot use an index. */
function cost(table: Table, c: Condition): number {
  if (!table.indexes.has(c.attribute) || c.attribute === table.primaryKey) {
    if (c.attribute === table.primaryKey && c.comparator === 'equals' && isKeyValue(c.value)) return 0;
    return Infinity;
  }
  switch (c.comparator) {
    // null also matches records without the attribute, which have no index entry: scan
    case 'equals': return c.value !== null && indexKeyOf(c.value) !== undefined ? 1 : Infinity;
    case 'between': return 2;
    case 'starts_with': return typeof c.value === 'string' ? 3 : Infinity;
    case 'greater_than': case 'greater_than_equal': case 'less_than': case 'less_than_equal':
      return typeof c.value === 'number' || typeof c.value === 'string' ? 4 : Infinity;
    default: return Infinity;
  }
}

/** Values LMDB accepts as a primary key; anything else (null, objects) can match no stored record by key. */
function isKeyValue(v: unknown): v is Key {
  const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  return scalar(v) || (Array.isArray(v) && v.length > 0 && v.every(scalar));
}

function* indexHits(table: Table, c: Condition): Generator<Key> {
  if (c.attribute === table.primaryKey) {
    if (table.primary.doesExist(c.value as Key)) yield c.value as Key;
    return;
  }
  const dbi = table.indexes.get(c.attribute)!;
  // index keys hold strings truncated to MAX_INDEXED_STRING, so bounds are truncated the same way (and stay within
  // LMDB's key size limit); every hit is re-checked against the full value
  const clamp = (x: any) => (typeof x === 'string' && x.length > MAX_INDEXED_STRING ? x.slice(0, MAX_INDEXED_STRING) : x);
  const v = Array.isArray(c.value) ? c.value.map(clamp) : clamp(c.value) as any;
  switch (c.comparator) {
    case 'equals': {
      const k = indexKeyOf(v);
      yield* dbi.getValues(k === undefined ? null : k) as Iterable<Key>;
      return;
    }
    case 'starts_with': {
      // keys of long strings are truncated: a prefix longer than a key matches exactly that (truncated) key
      const prefix = indexKeyOf(v) as string;
      for (const { key, value } of dbi.getRange({ start: prefix })) {
        if (typeof key !== 'string' || !key.startsWith(prefix)) break;
        yield value;
      }
      return;
    }
    case 'between': {
      const [lo, hi] = v as [any, any];
      for (const { key, value } of dbi.getRange({ start: indexKeyOf(lo) as Key })) {
        if (compareValues(key, hi) > 0 && !(typeof key === 'string' && typeof hi === 'string' && key.startsWith(hi.slice(0, key.length)))) break;
        yield value;
      }
      return;
    }
    default: {
      // ranges stay within the value's type: numbers before strings in the index order
      const numeric = typeof v === 'number';
      const lower = c.comparator.startsWith('greater');
      const range = lower ? { start: indexKeyOf(v), end: numeric ? '' : undefined } : { start: numeric ? false : '', end: v, inclusiveEnd: true };
      for (const { key, value } of dbi.getRange(range as any)) {
        if (!lower && compareValues(key, v) > 0) break;
        yield value;
      }
    }
  }
}

/** Candidate keys for a node, or null when it needs a full scan. Duplicates are possible. */
function candidates(table: Table, node: Condition | ConditionGroup): Iterable<Key> | null {
  if (!isGroup(node)) return cost(table, node) === Infinity ? null : indexHits(table, node);
  if (node.conditions.length === 0) return null;
  if (node.operator === 'or') {
    const parts: Iterable<Key>[] = [];
    for (const c of node.conditions) {
      const p = candidates(table, c);
      if (!p) return null;
      parts.push(p);
    }
    return concat(parts);
  }
  // AND: the cheapest indexed member drives the search
  let best: Condition | ConditionGroup | undefined;
  let bestCost = Infinity;
  for (const c of node.conditions) {
    const k = isGroup(c) ? (candidates(table, c) ? 5 : Infinity) : cost(table, c);
    if (k < bestCost) { bestCost = k; best = c; }
  }
  return best ? candidates(table, best) : null;
}

/**
 * How many index entries the plan for `tree` would read, counted up to `cap` (keys only, no records), or undefined
 * when the tree needs a full scan. A cheap size estimate for callers choosing where to run a query.
 */
export function countCandidates(table: Table, tree: Condition | ConditionGroup, cap: number): number | undefined {
  const keys = candidates(table, tree);
  if (!keys) return undefined;
  let n = 0;
  for (const _ of keys) if (++n >= cap) break;
  return n;
}

function sortComparator(sort: SortSpec, table: Table): (a: Rec, b: Rec) => number {
  return (a, b) => {
    for (let s: SortSpec | undefined = sort; s; s = s.next) {
      const d = compareValues(table.valueOf(a, s.attribute), table.valueOf(b, s.attribute));
      if (d !== 0) return s.descending ? -d : d;
    }
    return 0;
  };
}

/*
 * Generators that run per query are module-level functions, never closures made per call: each generator function
 * made per call gives its objects a new hidden class, so every access to them missed V8's caches and creating them
 * was a runtime call (measured on REST collection GETs).
 */
function* concat<T>(parts: Iterable<T>[]): Generator<T> {
  for (const p of parts) yield* p;
}

/** The records of candidate `keys` that match `tree`, each once; in reverse key order when `reverse`. */
function* recordsOf(table: Table, keys: Iterable<Key>, tree: Condition | ConditionGroup, reverse: boolean): Generator<Rec> {
  const seen = new Set<unknown>();
  const ordered: Rec[] = [];
  for (const k of keys) {
    const id = typeof k === 'object' ? JSON.stringify(k) : k;
    if (seen.has(id)) continue;
    seen.add(id);
    const rec = table.get(k);
    if (rec && matchTree(table.withComputed(rec), tree)) {
      if (reverse) ordered.push(rec); else yield rec;
    }
  }
  for (let i = ordered.length - 1; i >= 0; i--) yield ordered[i]!;
}

/** Records matching `tree` (undefined = all), honouring sort, offset and limit. */
export function* search(table: Table, tree: Condition | ConditionGroup | undefined, opts: SearchOptions = {}): Generator<Rec> {
  const offset = opts.offset ?? 0;
  const limit = opts.limit ?? Infinity;
  const source = (): Iterable<Rec> => {
    const keys = tree ? candidates(table, tree) : null;
    if (!keys) {
      const all = table.scan(opts.reverse && !opts.sort);
      return tree ? filter(all, (r) => matchTree(table.withComputed(r), tree)) : all;
    }
    return recordsOf(table, keys, tree!, !!opts.reverse && !opts.sort);
  };
  let it: Iterable<Rec> = source();
  if (opts.filter) it = filter(it, opts.filter);
  // expired records wait for the sweep to remove them; every search hides them meanwhile (spec §3.8)
  if (!opts.includeExpired && table.hidesStale) {
    const now = Date.now();
    const pk = table.primaryKey;
    it = filter(it, (rec) => !table.isStale(rec[pk] as Key, now));
  }
  if (opts.sort) it = [...it].sort(sortComparator(opts.sort, table));
  let i = 0, n = 0;
  for (const rec of it) {
    if (i++ < offset) continue;
    if (n++ >= limit) return;
    yield rec;
  }
}

function* filter<T>(it: Iterable<T>, pred: (v: T) => boolean): Generator<T> {
  for (const v of it) if (pred(v)) yield v;
}
