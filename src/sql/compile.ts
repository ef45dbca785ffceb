/**
 * Compiles AST expressions into closures over a Row. Column references are resolved once, at compile time, to a
 * (source, attribute) pair, so unknown or ambiguous columns fail the statement with a 400 before any data is read.
 */
import { createRequire } from 'node:module';
import { weftError } from '../errors/index.js';
import { AGGREGATES, type AggName, type AggSpec } from './aggregate.js';
import { castTo, FUNCTIONS } from './functions.js';
import { likeRegExp, sqlCompare, sqlEquals, toNumber, truthy } from './values.js';
import type { Evaluator, Node, Row, Source } from './types.js';

/** jsonata is loaded on the first SEARCH_JSON (synchronously: compilation is synchronous); it cost ~50 ms per thread start. */
const requireLazy = createRequire(import.meta.url);
let jsonataFn: typeof import('jsonata') | undefined;
const jsonata = (text: string) => (jsonataFn ??= requireLazy('jsonata') as typeof import('jsonata'))(text);

export interface Scope {
  sources: Source[];
  /** Set while compiling a grouped SELECT: aggregate calls are collected here and read from Row.aggs. */
  aggs?: { specs: AggSpec[]; args: Evaluator[] };
  /** SEARCH_JSON calls, evaluated ahead of the synchronous expression (Row.pre). */
  pre: PreCompute[];
  /** Output aliases visible to ORDER BY / HAVING (read from Row.out). */
  aliases?: Set<string>;
  /** Per source, the attributes compiled expressions read (what the permission check needs). */
  touched?: Array<Set<string>>;
}

export interface PreCompute {
  expression: { evaluate(input: unknown): Promise<unknown> };
  arg: Evaluator;
}

export function newScope(sources: Source[]): Scope {
  return { sources, pre: [], touched: sources.map(() => new Set<string>()) };
}

/** The column name of a column_ref (the parser gives a string or `{expr: {value}}`). */
export function columnName(node: Node): string {
  const c = node.column;
  if (typeof c === 'string') return c;
  if (c && typeof c === 'object') return String(c.expr?.value ?? c.value ?? '');
  return '';
}

export function functionName(node: Node): string {
  const n = node.name;
  if (typeof n === 'string') return n.toUpperCase();
  const parts = n?.name;
  if (Array.isArray(parts)) return parts.map((p: { value: unknown }) => String(p.value)).join('.').toUpperCase();
  return '';
}

export function functionArgs(node: Node): Node[] {
  const a = node.args;
  if (!a) return [];
  if (Array.isArray(a)) return a;
  if (a.type === 'expr_list') return Array.isArray(a.value) ? a.value : [];
  return [a];
}

/** Which source and attribute a column reference means. */
export function resolveColumn(node: Node, scope: Scope): { index: number; attribute: string } {
  const name = columnName(node);
  const qualifier = node.table as string | null;
  const { sources } = scope;
  if (qualifier) {
    const index = sources.findIndex((s) => s.alias === qualifier);
    if (index < 0) {
      const byName = sources.findIndex((s) => s.table.name === qualifier);
      if (byName < 0) throw weftError('SQL_UNKNOWN_COLUMN', `${qualifier}.${name}`);
      return { index: byName, attribute: name };
    }
    return { index, attribute: name };
  }
  if (sources.length === 1) return { index: 0, attribute: name };
  const having = sources.map((s, i) => (s.table.hasAttribute(name) ? i : -1)).filter((i) => i >= 0);
  if (having.length > 1) throw weftError('SQL_AMBIGUOUS_COLUMN', name);
  if (having.length === 0) throw weftError('SQL_UNKNOWN_COLUMN', name);
  return { index: having[0]!, attribute: name };
}

export function literalString(node: Node): string {
  const v = String(node.value ?? '');
  return node.type === 'single_quote_string' ? v.replace(/''/g, "'") : node.type === 'double_quote_string' ? v.replace(/""/g, '"') : v;
}

const STRING_TYPES = new Set(['single_quote_string', 'double_quote_string', 'string', 'natural_string', 'hex_string', 'full_hex_string', 'bit_string']);

/** The value of a literal node, or undefined when the node is not a literal. */
export function literalValue(node: Node): { value: unknown } | undefined {
  if (node.type === 'number') return { value: Number(node.value) };
  if (STRING_TYPES.has(node.type)) return { value: literalString(node) };
  if (node.type === 'bool' || node.type === 'boolean') return { value: Boolean(node.value) };
  if (node.type === 'null') return { value: null };
  if (node.type === 'unary_expr' && node.operator === '-' && node.expr?.type === 'number') return { value: -Number(node.expr.value) };
  return undefined;
}

function and(a: unknown, b: unknown): boolean | null {
  const x = a === null || a === undefined ? null : truthy(a);
  const y = b === null || b === undefined ? null : truthy(b);
  if (x === false || y === false) return false;
  return x === null || y === null ? null : true;
}

function or(a: unknown, b: unknown): boolean | null {
  const x = a === null || a === undefined ? null : truthy(a);
  const y = b === null || b === undefined ? null : truthy(b);
  if (x === true || y === true) return true;
  return x === null || y === null ? null : false;
}

function not(v: unknown): boolean | null {
  return v === null || v === undefined ? null : !truthy(v);
}

function arith(op: string, a: unknown, b: unknown): unknown {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (op === '+' && (typeof a === 'string' || typeof b === 'string')) {
    const x = toNumber(a), y = toNumber(b);
    // '+' adds numbers, numeric text included, and concatenates anything else (AlaSQL/JS behaviour)
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    return x !== null && y !== null && (typeof a === 'number' || typeof b === 'number') ? x + y : String(a) + String(b);
  }
  const x = toNumber(a), y = toNumber(b);
  if (x === null || y === null) return null;
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return y === 0 ? null : x / y;
    case '%': return y === 0 ? null : x % y;
    default: return null;
  }
}

function compareOp(op: string, a: unknown, b: unknown): boolean | null {
  if (op === '=' || op === '==') return sqlEquals(a, b);
  if (op === '!=' || op === '<>') { const e = sqlEquals(a, b); return e === null ? null : !e; }
  const c = sqlCompare(a, b);
  if (c === null) return null;
  switch (op) {
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    default: return null;
  }
}

const COMPARISONS = new Set(['=', '==', '!=', '<>', '<', '<=', '>', '>=']);

export function compileExpr(node: Node, scope: Scope): Evaluator {
  if (!node || typeof node !== 'object') throw weftError('SQL_PARSE');
  const lit = literalValue(node);
  if (lit) { const v = lit.value; return () => v; }
  switch (node.type) {
    case 'column_ref': {
      const name = columnName(node);
      if (name === '*') throw weftError('SQL_UNSUPPORTED', '* inside an expression');
      if (!node.table && scope.aliases?.has(name)) return (row) => row.out?.[name] ?? null;
      const { index, attribute } = resolveColumn(node, scope);
      scope.touched?.[index]?.add(attribute);
      return (row) => row.recs[index]?.[attribute] ?? null;
    }
    case 'param': throw weftError('SQL_UNSUPPORTED', 'parameters');
    case 'unary_expr': {
      const inner = compileExpr(node.expr, scope);
      const op = String(node.operator).toUpperCase();
      if (op === '-') return (row) => { const n = toNumber(inner(row)); return n === null ? null : -n; };
      if (op === '+') return (row) => toNumber(inner(row));
      if (op === 'NOT' || op === '!') return (row) => not(inner(row));
      throw weftError('SQL_UNSUPPORTED', `operator ${op}`);
    }
    case 'binary_expr': return compileBinary(node, scope);
    case 'function': return compileFunction(node, scope);
    case 'aggr_func': return compileAggregate(node, scope);
    case 'cast': {
      const inner = compileExpr(node.expr, scope);
      const target = Array.isArray(node.target) ? node.target[0] : node.target;
      const type = String(target?.dataType ?? '');
      return (row) => castTo(inner(row), type);
    }
    case 'case': {
      const subject = node.expr ? compileExpr(node.expr, scope) : undefined;
      const arms = (node.args as Node[]).map((a) => ({
        cond: a.type === 'when' ? compileExpr(a.cond, scope) : undefined,
        result: compileExpr(a.result, scope),
      }));
      return (row) => {
        const s = subject?.(row);
        for (const arm of arms) {
          if (!arm.cond) return arm.result(row);
          const c = arm.cond(row);
          if (subject ? sqlEquals(s, c) === true : truthy(c)) return arm.result(row);
        }
        return null;
      };
    }
    case 'expr_list': {
      const items = (node.value as Node[]).map((n) => compileExpr(n, scope));
      if (items.length === 1) return items[0]!;
      return (row) => items.map((f) => f(row));
    }
    case 'select': throw weftError('SQL_UNSUPPORTED', 'sub-selects');
    default: throw weftError('SQL_UNSUPPORTED', `expression ${node.type}`);
  }
}

function compileBinary(node: Node, scope: Scope): Evaluator {
  const op = String(node.operator).toUpperCase();
  const left = compileExpr(node.left, scope);
  if (op === 'IN' || op === 'NOT IN') {
    if (node.right?.type !== 'expr_list') throw weftError('SQL_UNSUPPORTED', 'IN without a value list');
    const items = (node.right.value as Node[]).map((n) => compileExpr(n, scope));
    const negate = op === 'NOT IN';
    return (row) => {
      const v = left(row);
      if (v === null || v === undefined) return null;
      let unknown = false;
      for (const f of items) {
        const e = sqlEquals(v, f(row));
        if (e === true) return !negate;
        if (e === null) unknown = true;
      }
      return unknown ? null : negate;
    };
  }
  if (op === 'BETWEEN' || op === 'NOT BETWEEN') {
    const [lo, hi] = (node.right?.value as Node[] ?? []).map((n) => compileExpr(n, scope));
    if (!lo || !hi) throw weftError('SQL_PARSE');
    const negate = op === 'NOT BETWEEN';
    return (row) => {
      const v = left(row);
      const r = and(compareOp('>=', v, lo(row)), compareOp('<=', v, hi(row)));
      return negate ? not(r) : r;
    };
  }
  if (op === 'IS' || op === 'IS NOT') {
    const right = literalValue(node.right);
    if (!right) throw weftError('SQL_UNSUPPORTED', `${op} with an expression`);
    const negate = op === 'IS NOT';
    const target = right.value;
    return (row) => {
      const v = left(row);
      const r = target === null ? v === null || v === undefined : v === target;
      return negate ? !r : r;
    };
  }
  const right = compileExpr(node.right, scope);
  if (op === 'LIKE' || op === 'NOT LIKE') {
    const negate = op === 'NOT LIKE';
    const constant = literalValue(node.right);
    const fixed = constant && typeof constant.value === 'string' ? likeRegExp(constant.value) : undefined;
    return (row) => {
      const v = left(row);
      const p = fixed ? null : right(row);
      if (v === null || v === undefined || (!fixed && (p === null || p === undefined))) return null;
      // LIKE matches text only: that keeps 'abc%' answerable by a starts_with index scan (plan.ts)
      const r = typeof v === 'string' && (fixed ?? likeRegExp(String(p))).test(v);
      return negate ? !r : r;
    };
  }
  if (op === 'AND' || op === '&&') return (row) => and(left(row), right(row));
  if (op === 'OR') return (row) => or(left(row), right(row));
  if (op === '||') return (row) => {
    const a = left(row), b = right(row);
    return a === null || a === undefined || b === null || b === undefined ? null : String(a) + String(b);
  };
  if (COMPARISONS.has(op)) return (row) => compareOp(op, left(row), right(row));
  if (['+', '-', '*', '/', '%'].includes(op)) return (row) => arith(op, left(row), right(row));
  throw weftError('SQL_UNSUPPORTED', `operator ${op}`);
}

function compileFunction(node: Node, scope: Scope): Evaluator {
  const name = functionName(node);
  const argNodes = functionArgs(node);
  if (name === 'NOT') {
    if (argNodes.length !== 1) throw weftError('SQL_PARSE');
    const inner = compileExpr(argNodes[0]!, scope);
    return (row) => not(inner(row));
  }
  if (AGGREGATES.has(name)) return compileAggregate({ type: 'aggr_func', name, args: { expr: argNodes[0] } }, scope);
  if (name === 'CONVERT') {
    // CONVERT(type, value) in T-SQL order; the parser reads the type name as a column reference
    if (argNodes.length !== 2) throw weftError('SQL_BAD_ARGUMENTS', 'CONVERT expects a type and a value');
    const typeNode = argNodes[0]!;
    const type = typeNode.type === 'column_ref' ? columnName(typeNode) : String(literalValue(typeNode)?.value ?? '');
    const inner = compileExpr(argNodes[1]!, scope);
    return (row) => castTo(inner(row), type);
  }
  if (name === 'SEARCH_JSON') {
    if (argNodes.length !== 2) throw weftError('SQL_BAD_ARGUMENTS', 'SEARCH_JSON expects a JSONata expression and an attribute');
    const text = literalValue(argNodes[0]!)?.value;
    if (typeof text !== 'string') throw weftError('SQL_BAD_ARGUMENTS', 'SEARCH_JSON expects a JSONata expression string as its first argument');
    let expression: PreCompute['expression'];
    try { expression = jsonata(text); } catch (err) {
      throw weftError('SQL_BAD_ARGUMENTS', `invalid SEARCH_JSON expression: ${(err as Error).message ?? String(err)}`);
    }
    const before = scope.pre.length;
    const arg = compileExpr(argNodes[1]!, scope);
    if (scope.pre.length !== before) throw weftError('SQL_UNSUPPORTED', 'nested SEARCH_JSON');
    const slot = scope.pre.push({ expression, arg }) - 1;
    return (row) => row.pre?.[slot] ?? null;
  }
  const args = argNodes.map((n) => compileExpr(n, scope));
  if (name === 'IF' || name === 'IIF') {
    if (args.length !== 3) throw weftError('SQL_BAD_ARGUMENTS', `${name} expects 3 arguments`);
    const [c, t, f] = args as [Evaluator, Evaluator, Evaluator];
    return (row) => (truthy(c(row)) ? t(row) : f(row));
  }
  const def = FUNCTIONS[name];
  if (!def) throw weftError('SQL_UNKNOWN_FUNCTION', name);
  if (args.length < def.min || args.length > def.max) {
    throw weftError('SQL_BAD_ARGUMENTS', `${name} expects ${def.min === def.max ? def.min : `${def.min} to ${def.max}`} arguments, got ${args.length}`);
  }
  const fn = def.fn;
  if (args.length === 0) return () => fn();
  return (row) => fn(...args.map((a) => a(row)));
}

function compileAggregate(node: Node, scope: Scope): Evaluator {
  const name = String(node.name).toUpperCase() as AggName;
  if (!AGGREGATES.has(name)) throw weftError('SQL_UNKNOWN_FUNCTION', name);
  if (!scope.aggs) throw weftError('SQL_UNSUPPORTED', `aggregate ${name} here`);
  const expr = node.args?.expr as Node | undefined;
  const star = !expr || expr.type === 'star' || (expr.type === 'column_ref' && columnName(expr) === '*');
  if (star && name !== 'COUNT') throw weftError('SQL_BAD_ARGUMENTS', `${name}(*) is not supported`);
  const distinct = Boolean(node.args?.distinct);
  // aggregate arguments are per-row expressions: compile them without the aggregate collector
  const inner = star ? () => null : compileExpr(expr!, { ...scope, aggs: undefined, aliases: undefined });
  const slot = scope.aggs.specs.push({ name, star: star && !distinct, distinct }) - 1;
  scope.aggs.args.push(inner);
  return (row) => row.aggs?.[slot] ?? null;
}

/** Does this expression contain an aggregate call? */
export function hasAggregate(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false;
  const n = node as Node;
  if (n.type === 'aggr_func') return true;
  if (n.type === 'function' && AGGREGATES.has(functionName(n))) return true;
  for (const v of Object.values(n)) {
    if (Array.isArray(v) ? v.some(hasAggregate) : typeof v === 'object' && hasAggregate(v)) return true;
  }
  return false;
}

/** Fill Row.pre with the SEARCH_JSON results for one row. */
export async function precompute(row: Row, pre: PreCompute[]): Promise<void> {
  if (!pre.length) return;
  row.pre = [];
  for (const p of pre) {
    let input = p.arg(row);
    if (typeof input === 'string') { try { input = JSON.parse(input); } catch { /* plain text stays text */ } }
    let out: unknown = null;
    if (input !== null && input !== undefined) {
      try { out = (await p.expression.evaluate(input)) ?? null; } catch { out = null; }
    }
    row.pre.push(out);
  }
}
