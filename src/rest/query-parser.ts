/**
 * The REST query language (spec §4.5): the URL search part -> a syntax tree of conditions, groups and function
 * calls (select, limit, sort). It knows nothing of tables; rest/query.ts checks attributes and coerces values.
 * Every malformed input is a 4xx WeftError, never another exception (property-tested).
 */
import { weftError, type WeftError } from '../errors/index.js';

/** `equals` = plain `=` (strict: declared-type coercion only); the others are typed unless strict_*. */
export type QueryOp =
  | 'equals' | 'strict_eq' | 'strict_ne' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'ct' | 'sw' | 'ew';

export interface QueryCondition {
  kind: 'condition';
  attribute: string;
  op: QueryOp;
  /** The value as written in the URL (still percent-encoded): type prefixes are read from it. */
  raw: string;
  /** The percent-decoded value. */
  value: string;
  position: number;
}

export interface QueryGroup {
  kind: 'group';
  operator: 'and' | 'or';
  conditions: QueryNode[];
}

export type QueryNode = QueryCondition | QueryGroup;

/** `nested` holds the selections through relationships: `select(name,brand{name})`. */
export type QuerySelect =
  | { kind: 'object'; names: string[]; nested?: Record<string, QuerySelect> }
  | { kind: 'value'; name: string; nested?: QuerySelect }
  | { kind: 'array'; names: string[] };

export interface QuerySort { attribute: string; descending: boolean }

export interface ParsedQuery {
  conditions?: QueryNode;
  select?: QuerySelect;
  limit?: number;
  offset?: number;
  sort?: QuerySort[];
}

interface Call { kind: 'call'; name: string; args: string; position: number }
type Term = QueryNode | Call;

const FIQL = new Set(['lt', 'le', 'gt', 'ge', 'ct', 'sw', 'ew', 'ne', 'eq']);
const RANGE_LOW = new Set<QueryOp>(['gt', 'ge']);
const RANGE_HIGH = new Set<QueryOp>(['lt', 'le']);
const COMPARISON = new Set<QueryOp>(['lt', 'le', 'gt', 'ge', 'ct', 'sw', 'ew', 'ne', 'eq']);
const NAME_END = new Set(['=', '!', '<', '>', '(', ')', '[', ']', '&', '|']);
const VALUE_END = new Set(['&', '|', ')', ']']);
/** Plain URLSearchParams semantics apply when none of these appear (and no `=x=` operator). */
const SPECIAL = /[()[\]|!<>.]|=[a-z]*=|%3[ce]/i;

/**
 * Browsers and fetch() percent-encode `<` and `>` in query strings, so `%3C` / `%3E` right after an attribute
 * name are read as the operators (inside values they stay encoded characters).
 */
function encodedAngle(s: string, i: number): '<' | '>' | undefined {
  if (s[i] !== '%' || s[i + 1] !== '3') return undefined;
  const c = s[i + 2];
  return c === 'C' || c === 'c' ? '<' : c === 'E' || c === 'e' ? '>' : undefined;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(detail: string, position = this.i): WeftError {
    return weftError('REST_QUERY_PARSE', detail, position, this.s);
  }

  decode(text: string, position: number): string {
    try {
      return decodeURIComponent(text);
    } catch {
      throw this.fail('invalid percent-encoding', position);
    }
  }

  /** expr := term (('&' | '|') term)* ; `closer` ends a group. */
  expr(closer: string | undefined, depth: number): { items: Term[]; operator: 'and' | 'or' } {
    if (depth > 64) throw this.fail('groups are nested too deeply');
    const items: Term[] = [];
    let operator: 'and' | 'or' | undefined;
    for (;;) {
      if (this.i >= this.s.length) {
        if (closer) throw this.fail(`expected '${closer}'`);
        break;
      }
      const c = this.s[this.i]!;
      if (c === '&' || c === '|') {
        // empty elements (`a=1&&b=2`, a trailing `&`) are skipped like URLSearchParams does
        if (c === '|' && items.length === 0) throw this.fail("expected a condition before '|'");
        this.i++;
        continue;
      }
      if (closer && c === closer) {
        this.i++;
        break;
      }
      items.push(this.term(depth));
      if (this.i >= this.s.length) {
        if (closer) throw this.fail(`expected '${closer}'`);
        break;
      }
      const next = this.s[this.i]!;
      if (closer && next === closer) { this.i++; break; }
      if (next === '&' || next === '|') {
        const op = next === '&' ? 'and' : 'or';
        if (operator && operator !== op) throw weftError('REST_MIXED_OPERATORS');
        operator = op;
        this.i++;
        if (op === 'or' && (this.i >= this.s.length || this.s[this.i] === '|' || this.s[this.i] === '&')) {
          throw this.fail("expected a condition after '|'");
        }
        continue;
      }
      throw this.fail(`unexpected character '${next}'`);
    }
    return { items, operator: operator ?? 'and' };
  }

  term(depth: number): Term {
    const start = this.i;
    const c = this.s[this.i]!;
    if (c === '(' || c === '[') {
      this.i++;
      const { items, operator } = this.expr(c === '(' ? ')' : ']', depth + 1);
      if (items.length === 0) throw this.fail('empty group', start);
      for (const t of items) if (t.kind === 'call') throw this.fail('function calls can not be used inside a group', t.position);
      return resolveChains({ kind: 'group', operator, conditions: items as QueryNode[] });
    }
    while (this.i < this.s.length && !NAME_END.has(this.s[this.i]!) && !encodedAngle(this.s, this.i)) this.i++;
    const rawName = this.s.slice(start, this.i);
    if (this.s[this.i] === '(') return this.call(rawName, start);
    if (!rawName) throw this.fail('expected an attribute name', start);
    const attribute = this.decode(rawName, start);
    const op = this.operator();
    const valueStart = this.i;
    while (this.i < this.s.length && !VALUE_END.has(this.s[this.i]!)) this.i++;
    const raw = this.s.slice(valueStart, this.i);
    return { kind: 'condition', attribute, op, raw, value: this.decode(raw, valueStart), position: start };
  }

  operator(): QueryOp {
    const s = this.s;
    const at = this.i;
    const take = (n: number, op: QueryOp): QueryOp => { this.i += n; return op; };
    switch (s[at]) {
      case '=': {
        if (s.startsWith('===', at)) return take(3, 'strict_eq');
        if (s.startsWith('==', at)) return take(2, 'eq');
        const m = /^=([a-zA-Z]+)=/.exec(s.slice(at, at + 12));
        if (m) {
          const name = m[1]!.toLowerCase();
          if (!FIQL.has(name)) throw this.fail(`unknown operator ${m[1]}`, at);
          return take(m[0].length, name as QueryOp);
        }
        return take(1, 'equals');
      }
      case '!':
        if (s.startsWith('!==', at)) return take(3, 'strict_ne');
        if (s.startsWith('!=', at)) return take(2, 'ne');
        throw this.fail("expected '!=' or '!=='", at);
      case '<': return s[at + 1] === '=' ? take(2, 'le') : take(1, 'lt');
      case '>': return s[at + 1] === '=' ? take(2, 'ge') : take(1, 'gt');
      case '%': {
        const angle = encodedAngle(s, at);
        if (angle === '<') return s[at + 3] === '=' ? take(4, 'le') : take(3, 'lt');
        if (angle === '>') return s[at + 3] === '=' ? take(4, 'ge') : take(3, 'gt');
        throw this.fail('expected an operator', at);
      }
      default:
        throw this.fail(at >= s.length ? 'expected an operator' : `unexpected character '${s[at]}'`, at);
    }
  }

  call(rawName: string, start: number): Call {
    const name = this.decode(rawName, start);
    this.i++; // (
    const argsStart = this.i;
    let depth = 1;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') {
        depth--;
        if (depth === 0) break;
      }
      this.i++;
    }
    if (depth !== 0) throw this.fail(`expected ')' to close ${name}(`);
    const args = this.decode(this.s.slice(argsStart, this.i), argsStart);
    this.i++; // )
    return { kind: 'call', name, args, position: start };
  }
}

/** `price=gt=1&lt=9`: an `lt=9` right after a comparison is a chained bound on the same attribute. */
function resolveChains(group: QueryGroup): QueryGroup {
  if (group.operator !== 'and') return group;
  const out: QueryNode[] = [];
  let lastChained = false;
  for (const node of group.conditions) {
    const prev = out[out.length - 1];
    if (node.kind === 'condition' && node.op === 'equals' && FIQL.has(node.attribute.toLowerCase()) && prev?.kind === 'condition' && COMPARISON.has(prev.op)) {
      if (lastChained) throw weftError('REST_MULTIPLE_CHAIN');
      const op = node.attribute.toLowerCase() as QueryOp;
      if (!((RANGE_LOW.has(prev.op) && RANGE_HIGH.has(op)) || (RANGE_HIGH.has(prev.op) && RANGE_LOW.has(op)))) throw weftError('REST_INVALID_CHAIN');
      out[out.length - 1] = {
        kind: 'group', operator: 'and',
        conditions: [prev, { ...node, attribute: prev.attribute, op }],
      };
      lastChained = true;
      continue;
    }
    if (node.kind === 'condition' && node.op === 'equals' && FIQL.has(node.attribute.toLowerCase()) && lastChained) {
      throw weftError('REST_MULTIPLE_CHAIN');
    }
    lastChained = false;
    out.push(node);
  }
  return { ...group, conditions: out };
}

function names(list: string, p: Parser, position: number): string[] {
  const out = list.split(',').map((n) => n.trim());
  if (out.some((n) => !n)) throw p.fail('empty name in select()', position);
  return out;
}

/** `a,rel{x,y{z}}` -> an object selection; a single `rel{x}` -> bare values of the nested selection. */
function nestedSelect(text: string, p: Parser, position: number): QuerySelect {
  let i = 0;
  const list = (depth: number): { names: string[]; nested: Record<string, QuerySelect> } => {
    if (depth > 16) throw p.fail('select() is nested too deeply', position);
    const names: string[] = [];
    const nested: Record<string, QuerySelect> = {};
    for (;;) {
      const start = i;
      while (i < text.length && !',{}'.includes(text[i]!)) i++;
      const name = text.slice(start, i).trim();
      if (!name) throw p.fail('empty name in select()', position);
      names.push(name);
      if (text[i] === '{') {
        i++;
        const inner = list(depth + 1);
        if (text[i] !== '}') throw p.fail(`expected '}' in select()`, position);
        i++;
        nested[name] = { kind: 'object', names: inner.names, ...(Object.keys(inner.nested).length ? { nested: inner.nested } : {}) };
      }
      if (text[i] === ',') { i++; if (depth > 0 || i < text.length) continue; break; }
      break;
    }
    return { names, nested };
  };
  const top = list(0);
  if (i !== text.length) throw p.fail(`unexpected '${text[i]}' in select()`, position);
  if (top.names.length === 1 && !text.trim().endsWith(',')) return { kind: 'value', name: top.names[0]!, nested: top.nested[top.names[0]!] };
  return { kind: 'object', names: top.names, nested: top.nested };
}

function applyCall(q: ParsedQuery, call: Call, p: Parser): void {
  const args = call.args.trim();
  switch (call.name) {
    case 'select': {
      if (!args) throw p.fail('select() needs at least one property', call.position);
      if (/[()]/.test(args) || (args.includes('[') && !(args.startsWith('[') && args.endsWith(']')))) {
        throw p.fail('unexpected parenthesis in select()', call.position);
      }
      if (/[{}]/.test(args)) {
        q.select = nestedSelect(args, p, call.position);
        return;
      }
      if (args.startsWith('[')) {
        q.select = { kind: 'array', names: names(args.slice(1, -1), p, call.position) };
      } else if (args.endsWith(',')) {
        q.select = { kind: 'object', names: names(args.slice(0, -1), p, call.position) };
      } else {
        const list = names(args, p, call.position);
        q.select = list.length === 1 ? { kind: 'value', name: list[0]! } : { kind: 'object', names: list };
      }
      return;
    }
    case 'limit': {
      const parts = args.split(',').map((x) => x.trim());
      if (parts.length > 2 || parts.some((x) => !/^\d{1,15}$/.test(x))) throw p.fail('limit() takes one or two non-negative integers', call.position);
      const [a, b] = parts.map(Number) as [number, number | undefined];
      if (b === undefined) { q.limit = a; q.offset = undefined; return; }
      if (b < a) throw p.fail('limit(start,end) needs end >= start', call.position);
      q.offset = a;
      q.limit = b - a;
      return;
    }
    case 'sort': {
      if (!args) throw p.fail('sort() needs at least one property', call.position);
      q.sort = args.split(',').map((part) => {
        const t = part.trim();
        const descending = t.startsWith('-');
        const attribute = t.replace(/^[-+]/, '').trim();
        if (!attribute) throw p.fail('empty name in sort()', call.position);
        return { attribute, descending };
      });
      return;
    }
    case 'group-by': case 'groupBy': case 'group_by':
      throw weftError('REST_GROUP_BY');
    default:
      throw weftError('REST_UNKNOWN_FUNCTION', call.name);
  }
}

/** Parse the search part of a URL (without the leading `?`). An empty string means "everything". */
export function parseQuery(search: string): ParsedQuery {
  const q: ParsedQuery = {};
  if (!search) return q;
  if (!SPECIAL.test(search)) {
    const conditions: QueryCondition[] = [];
    let position = 0;
    for (const part of search.split('&')) {
      if (part) {
        const eq = part.indexOf('=');
        const rawName = eq < 0 ? part : part.slice(0, eq);
        const raw = eq < 0 ? '' : part.slice(eq + 1);
        const decode = (t: string) => new URLSearchParams(`x=${t}`).get('x') ?? '';
        if (!rawName) throw weftError('REST_QUERY_PARSE', 'expected an attribute name', position, search);
        conditions.push({ kind: 'condition', attribute: decode(rawName), op: 'equals', raw, value: decode(raw), position });
      }
      position += part.length + 1;
    }
    if (conditions.length) q.conditions = conditions.length === 1 ? conditions[0] : { kind: 'group', operator: 'and', conditions };
    return q;
  }
  const p = new Parser(search);
  const { items, operator } = p.expr(undefined, 0);
  const calls = items.filter((t): t is Call => t.kind === 'call');
  if (calls.length && operator === 'or') throw p.fail("function calls can not be combined with '|'", calls[0]!.position);
  for (const c of calls) applyCall(q, c, p);
  const conds = items.filter((t): t is QueryNode => t.kind !== 'call');
  if (conds.length) {
    const group = resolveChains({ kind: 'group', operator, conditions: conds });
    q.conditions = group.conditions.length === 1 ? group.conditions[0] : group;
  }
  return q;
}
