/** search_by_id, search_by_value, search_by_conditions (spec §2.8): results stream as iterables. */
import { weftError } from '../errors/index.js';
import {
  search, type Comparator, type Condition, type ConditionGroup, type Key, type Rec, type SortSpec, type Table,
} from '../storage/index.js';
import { checkKey } from './data.js';
import {
  databaseName, optionalBoolean, optionalInteger, resolveDatabase, resolveTable, tableName, unknownAttributes,
} from './validate.js';
import type { Handler } from './types.js';

const COMPARATORS = new Set<Comparator>([
  'equals', 'not_equal', 'contains', 'starts_with', 'ends_with', 'greater_than', 'greater_than_equal', 'less_than',
  'less_than_equal', 'between',
]);

function isMeta(name: string): boolean {
  return name.startsWith('$');
}

/** Parse get_attributes: ['*'] = everything. Throws for unknown attributes. */
export function parseGetAttributes(raw: unknown, t: Table, required: boolean): string[] | '*' {
  if (raw === undefined || raw === null) {
    if (required) throw weftError('FIELD_REQUIRED', 'get_attributes');
    return '*';
  }
  if (!Array.isArray(raw) || raw.length === 0) throw weftError('FIELD_TYPE', 'get_attributes', 'a non-empty array');
  if (raw.some((a) => typeof a !== 'string')) throw weftError('VALIDATION', "'get_attributes' must be an array of strings");
  if (raw.includes('*') || raw.includes('%')) return '*';
  const unknown = (raw as string[]).filter((a) => !isMeta(a) && !t.hasAttribute(a));
  if (unknown.length && !t.def.schemaDefined) throw unknownAttributes(unknown);
  return raw as string[];
}

/** Shape a stored record for output: projection plus null-filling on dynamic tables (spec §2.8). */
export function projector(t: Table, attrs: string[] | '*'): (r: Rec) => Rec {
  const pk = t.primaryKey;
  const meta = (r: Rec, a: string): unknown => (a === '$id' ? r[pk] : a === '$updatedtime' ? r.__updatedtime__ ?? null : null);
  if (attrs === '*') {
    if (t.def.schemaDefined) return (r) => r;
    const names = t.attributeNames();
    return (r) => {
      const out: Rec = {};
      for (const a of names) out[a] = r[a] ?? null;
      for (const k of Object.keys(r)) if (!(k in out)) out[k] = r[k];
      return out;
    };
  }
  return (r) => {
    const out: Rec = {};
    for (const a of attrs) out[a] = isMeta(a) ? meta(r, a) : r[a] ?? null;
    return out;
  };
}

function* mapIter<T, U>(it: Iterable<T>, f: (v: T) => U): Generator<U> {
  for (const v of it) yield f(v);
}

export const searchById: Handler = (req, _ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  const ids = req.ids;
  if (ids === undefined || ids === null) throw weftError('FIELD_REQUIRED', 'hash_values');
  if (!Array.isArray(ids)) throw weftError('FIELD_TYPE', 'hash_values', 'an array');
  const { table: t } = resolveTable(services, db, table, 404);
  const attrs = parseGetAttributes(req.get_attributes, t, true);
  const project = projector(t, attrs);
  const keys = ids.map((v) => checkKey(v)).filter((k): k is Key => k !== undefined);
  const out: Rec[] = [];
  for (const k of keys) {
    const r = t.get(k);
    // expired records are hidden as REST hides them (docs/applications.md, Expiration)
    if (r && !(t.hidesStale && t.isStale(k))) out.push(project(r));
  }
  return out;
};

function parseSort(raw: unknown, t: Table): SortSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw weftError('FIELD_TYPE', 'sort', 'an object');
  const s = raw as Record<string, unknown>;
  if (typeof s.attribute !== 'string') throw weftError('FIELD_REQUIRED', 'sort.attribute');
  if (!t.hasAttribute(s.attribute) && !t.def.schemaDefined) throw unknownAttributes([s.attribute]);
  if (s.descending !== undefined && typeof s.descending !== 'boolean') throw weftError('FIELD_TYPE', 'sort.descending', 'a boolean');
  return { attribute: s.attribute, descending: s.descending as boolean | undefined, next: parseSort(s.next, t) };
}

/** search_by_value wildcards: "*" = all, "abc*" starts_with, "*abc" ends_with, "*abc*" contains. */
function valueCondition(attribute: string, value: unknown): Condition | undefined {
  if (typeof value === 'string' && value.includes('*')) {
    if (value === '*' || /^\*+$/.test(value)) return undefined;
    const lead = value.startsWith('*'), trail = value.endsWith('*');
    const core = value.replace(/^\*+|\*+$/g, '');
    if (!core.includes('*')) {
      if (lead && trail) return { attribute, comparator: 'contains', value: core };
      if (trail) return { attribute, comparator: 'starts_with', value: core };
      if (lead) return { attribute, comparator: 'ends_with', value: core };
    }
  }
  return { attribute, comparator: 'equals', value };
}

export const searchByValue: Handler = (req, _ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  const attribute = req.attribute;
  if (attribute === undefined || attribute === null || attribute === '') throw weftError('FIELD_REQUIRED', 'search_attribute');
  if (typeof attribute !== 'string') throw weftError('FIELD_TYPE', 'search_attribute', 'a string');
  if (!('value' in req)) throw weftError('FIELD_REQUIRED', 'search_value');
  const { table: t } = resolveTable(services, db, table, 404);
  if (!t.hasAttribute(attribute) && !isMeta(attribute) && !t.def.schemaDefined) throw unknownAttributes([attribute]);
  const attrs = parseGetAttributes(req.get_attributes, t, false);
  const limit = optionalInteger(req, 'limit', 1);
  const offset = optionalInteger(req, 'offset', 0);
  const desc = optionalBoolean(req, 'desc');
  const sort = parseSort(req.sort, t);
  const cond = valueCondition(attribute === '$id' ? t.primaryKey : attribute, req.value);
  return mapIter(search(t, cond, { limit, offset, sort, reverse: desc }), projector(t, attrs));
};

function parseConditions(raw: unknown, t: Table, unknown: Set<string>): Array<Condition | ConditionGroup> {
  if (!Array.isArray(raw)) throw weftError('FIELD_TYPE', 'conditions', 'an array');
  return raw.map((c) => parseNode(c, t, unknown));
}

function parseOperator(raw: unknown): 'and' | 'or' {
  if (raw === undefined || raw === null) return 'and';
  const op = String(raw).toLowerCase();
  if (op !== 'and' && op !== 'or') throw weftError('INVALID_OPERATOR', String(raw));
  return op;
}

function parseNode(raw: unknown, t: Table, unknown: Set<string>): Condition | ConditionGroup {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw weftError('VALIDATION', "'conditions' must be an array of objects");
  const c = raw as Record<string, unknown>;
  if (Array.isArray(c.conditions)) {
    const operator = parseOperator(c.operator);
    const conditions = parseConditions(c.conditions, t, unknown);
    if (operator === 'or' && conditions.length < 2) throw weftError('OR_NEEDS_TWO');
    return { operator, conditions };
  }
  const attribute = c.attribute ?? c.search_attribute;
  if (typeof attribute !== 'string' || attribute === '') throw weftError('FIELD_REQUIRED', 'conditions.search_attribute');
  const comparator = (c.comparator ?? c.search_type) as Comparator;
  if (typeof comparator !== 'string' || !COMPARATORS.has(comparator)) {
    throw weftError('VALIDATION', `'conditions.search_type' must be one of [${[...COMPARATORS].join(', ')}]`);
  }
  const value = 'value' in c ? c.value : c.search_value;
  if (value === undefined) throw weftError('FIELD_REQUIRED', 'conditions.search_value');
  if (comparator === 'between') {
    if (!Array.isArray(value) || value.length !== 2 || value.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
      throw weftError('VALIDATION', "'conditions.search_value' must be an array of two strings or numbers for 'between'");
    }
  } else if (comparator !== 'equals' && comparator !== 'not_equal' && typeof value !== 'string' && typeof value !== 'number') {
    throw weftError('VALIDATION', `'conditions.search_value' must be a string or number for '${comparator}'`);
  }
  const name = attribute === '$id' ? t.primaryKey : attribute;
  if (!t.hasAttribute(name) && !t.def.schemaDefined) unknown.add(attribute);
  return { attribute: name, comparator, value };
}

export const searchByConditions: Handler = (req, _ctx, services) => {
  const db = databaseName(req);
  const table = tableName(req);
  // a missing database answers like the other searches; only a missing table has the short 400 message (spec §2.8)
  const t = resolveDatabase(services, db, 404).table(table);
  if (!t) throw weftError('TABLE_NOT_FOUND_SHORT', table);
  const operator = parseOperator(req.operator);
  if (req.conditions === undefined || req.conditions === null) throw weftError('FIELD_REQUIRED', 'conditions');
  const unknown = new Set<string>();
  const conditions = parseConditions(req.conditions, t, unknown);
  if (operator === 'or' && conditions.length < 2) throw weftError('OR_NEEDS_TWO');
  const attrs = parseGetAttributes(req.get_attributes, t, false);
  if (unknown.size) throw unknownAttributes([...unknown]);
  const limit = optionalInteger(req, 'limit', 1);
  const offset = optionalInteger(req, 'offset', 0);
  const sort = parseSort(req.sort, t);
  const tree: ConditionGroup | undefined = conditions.length ? { operator, conditions } : undefined;
  return mapIter(search(t, tree, { limit, offset, sort }), projector(t, attrs));
};
