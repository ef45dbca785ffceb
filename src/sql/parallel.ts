/**
 * Parallel SELECT: a single-table scan or aggregation over a large table is cut into primary-key ranges, each range
 * is scanned, filtered and aggregated (or projected) in a background pool thread, and the serving thread only merges
 * the partial results and finishes them. The serving thread decides with O(1) work (the table's record count, or the
 * index plan's candidate count up to the threshold) and does no scanning itself, so other requests keep flowing.
 *
 * Results equal the single-thread path's: chunks are merged in key order (first-seen group order and first rows
 * are kept), sums are exact (aggregate.ts), and PROD, whose rounding depends on grouping, stays on the serving thread.
 * Each chunk reads its own snapshot, so a query running during writes may see a write in one range and not another.
 */
import { Packr } from 'msgpackr';
import { fromWire, isWeftError, weftError, type WireError } from '../errors/index.js';
import { countCandidates, type Key, type Rec } from '../storage/index.js';
import type { PoolTask, SqlChunkTask, SqlSplitTask } from '../pool/index.js';
import { mergeOwned, type Partial } from './aggregate.js';
import { parseStatement } from './parse.js';
import { planWhere } from './plan.js';
import {
  entriesOf, finishEntries, groupEntries, partialOf, prepareSelect, type Entry, type PreparedSelect,
} from './select.js';
import type { SqlServices } from './resolve.js';
import type { Row } from './types.js';

/** Tables with at least this many records are scanned in the pool unless an index plan reads fewer (sql.parallelThreshold). */
export const DEFAULT_PARALLEL_THRESHOLD = 100_000;
/** Ranges per pool thread: more ranges than threads evens out ranges that filter or group at different speeds. */
const RANGES_PER_THREAD = 4;

export interface ParallelPlan { database: string; table: string; rows: number }

/** Whether (and over what) to run a prepared SELECT in the pool; undefined keeps it on the serving thread. */
export function parallelPlan(p: PreparedSelect, services: SqlServices): ParallelPlan | undefined {
  if (!services.runTask || p.sources.length !== 1) return undefined;
  const threshold = services.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD;
  if (!(threshold > 0)) return undefined;
  if (p.aggs.specs.some((s) => s.name === 'PROD')) return undefined;
  if (!p.grouped) {
    // LIMIT without ORDER BY stops early on its own; a plain SELECT * only moves rows, there is nothing to spread
    if (!p.distinct && !p.order.length && (p.limit !== Infinity || !p.where)) return undefined;
    if (!p.where && !p.distinct && p.limit === Infinity) return undefined;
  }
  const src = p.sources[0]!;
  const rows = src.table.recordCount();
  if (rows < threshold) return undefined;
  const tree = planWhere(p.whereNode, p.scope, 0);
  if (tree) {
    const hits = countCandidates(src.table, tree, threshold);
    if (hits !== undefined && hits < threshold) return undefined;
  }
  return { database: src.database, table: src.table.name, rows };
}

type ChunkResult = { partial: Partial<Row> } | { entries: Entry[] } | { error: WireError };

/**
 * A chunk's result crosses two thread boundaries (pool -> main -> serving thread) as one MessagePack buffer: a
 * structured clone of many small objects costs ~1 us each, and a GROUP BY with 10,000 groups sends ~10 objects per
 * group from every chunk (818 ms to clone 8 such partials, against tens of ms to pack and unpack them).
 */
const wire = new Packr({ moreTypes: true });
type PackedResult = { packed: Uint8Array };

export async function runParallel(p: PreparedSelect, plan: ParallelPlan, sql: string, services: SqlServices): Promise<Rec[]> {
  const run = services.runTask!;
  const threads = Math.max(1, services.poolSize ?? 1);
  const threshold = services.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD;
  // ranges of at least a quarter of the threshold: small (test) tables still split, big ones by thread count
  const parts = Math.max(1, Math.min(threads * RANGES_PER_THREAD, Math.ceil(plan.rows / Math.max(1, threshold / 4))));
  const split: SqlSplitTask = { kind: 'sql-split', database: plan.database, table: plan.table, parts };
  const keys = parts > 1 ? (await run(split)) as Key[] : [];
  const tasks: SqlChunkTask[] = [];
  for (let i = 0; i <= keys.length; i++) {
    const t: SqlChunkTask = { kind: 'sql-chunk', sql };
    if (i > 0) t.start = keys[i - 1];
    if (i < keys.length) t.end = keys[i];
    tasks.push(t);
  }
  const results = await Promise.all(tasks.map(async (t) => {
    const r = await run(t) as ChunkResult | PackedResult;
    return 'packed' in r ? wire.unpack(r.packed) as ChunkResult : r;
  }));
  for (const r of results) if ('error' in r) throw fromWire(r.error);
  if (p.grouped) {
    const merged = mergeOwned(results.map((r) => (r as { partial: Partial<Row> }).partial), p.aggs.specs);
    return finishEntries(p, groupEntries(p, merged));
  }
  return finishEntries(p, results.flatMap((r) => (r as { entries: Entry[] }).entries));
}

/** Pool side of a split task. */
export function splitTable(task: SqlSplitTask, services: SqlServices): Key[] {
  const table = services.storage.database(task.database)?.table(task.table);
  return table ? table.splitKeys(task.parts) : [];
}

/** A copy of a record with only `attributes` (the record itself when they are unknown). */
function slimmer(attributes: Set<string> | undefined): (rec: Rec | undefined) => Rec | undefined {
  if (!attributes) return (rec) => rec;
  const names = [...attributes];
  return (rec) => {
    if (!rec) return rec;
    const out: Rec = {};
    for (const n of names) if (rec[n] !== undefined) out[n] = rec[n];
    return out;
  };
}

/** Pool side of a chunk task. Client mistakes come back as data: an Error's own fields do not survive the pool. */
export async function runChunk(task: SqlChunkTask, services: SqlServices): Promise<ChunkResult | PackedResult> {
  try {
    const stmt = parseStatement(task.sql);
    if (stmt.type !== 'select') throw weftError('SQL_UNSUPPORTED', 'a write statement in a pool chunk');
    const p = prepareSelect(stmt, services);
    if (p.sources.length !== 1) throw weftError('SQL_UNSUPPORTED', 'a join in a pool chunk');
    const table = p.sources[0]!.table;
    const rows = (function* (): Generator<Row> {
      for (const rec of table.scanRange(task.start, task.end)) yield { recs: [rec] };
    })();
    if (p.grouped) {
      const partial = await partialOf(p, rows);
      // only what finishing needs crosses back: the group's states and, of its first row, the attributes the
      // statement's expressions read (a grouped SELECT has no `*`; every expression was compiled by prepareSelect)
      const slim = slimmer(p.scope.touched?.[0]);
      return { packed: wire.pack({ partial: partial.map((g) => ({ key: g.key, first: { recs: [slim(g.first.recs[0])], pre: g.first.pre }, states: g.states })) }) };
    }
    return { packed: wire.pack({ entries: await entriesOf(p, rows, true) }) };
  } catch (err) {
    if (isWeftError(err)) return { error: err.toWire() };
    throw err;
  }
}

/** Pool dispatch for the SQL task kinds. */
export function runSqlTask(task: Extract<PoolTask, { kind: 'sql-split' | 'sql-chunk' }>, services: SqlServices): Promise<unknown> {
  return task.kind === 'sql-split' ? Promise.resolve(splitTable(task, services)) : runChunk(task, services);
}
