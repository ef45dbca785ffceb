/** Shapes shared inside the SQL subsystem. */
import type { Rec, Table } from '../storage/index.js';

/** A node of node-sql-parser's AST. Kept loose on purpose: the translator checks every field it reads. */
export type Node = { type: string; [k: string]: any };

export type Statement = Node & { type: 'select' | 'insert' | 'update' | 'delete' };

/** One table of a FROM clause, resolved against storage. */
export interface Source {
  database: string;
  table: Table;
  /** Name the statement refers to it by (alias, else table name). */
  alias: string;
  join?: 'inner' | 'left' | 'right' | 'full' | 'cross';
  on?: Node;
}

/**
 * What an expression is evaluated against: one record per FROM source (undefined for the null side of an outer
 * join), aggregate results when grouped, and SEARCH_JSON results computed ahead (jsonata evaluates asynchronously).
 */
export interface Row {
  recs: Array<Rec | undefined>;
  /** The projected output row, for ORDER BY and HAVING references to aliases. */
  out?: Rec;
  aggs?: unknown[];
  pre?: unknown[];
}

export type Evaluator = (row: Row) => unknown;
