/** Declared attribute types (spec §3.5): checked on every write to a schema-defined table. */
import type { AttributeDef, TableDef } from './types.js';

const INT_MAX = 2147483647;
const LONG_MAX = 9007199254740992;

function show(v: unknown): string {
  try { return typeof v === 'bigint' ? v.toString() : JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

/** Check one value; may return a converted value (Date from string/number, BigInt from number/string). */
export function checkType(type: string, v: unknown, prop: string, problems: string[]): unknown {
  if (v === null || v === undefined) {
    if (type.endsWith('!')) problems.push(`Property ${prop} is required (and not does not allow null values)`);
    return v;
  }
  const base = type.endsWith('!') ? type.slice(0, -1) : type;
  if (base.startsWith('[') && base.endsWith(']')) {
    if (!Array.isArray(v)) { problems.push(`Value ${show(v)} in property ${prop} must be an Array`); return v; }
    const inner = base.slice(1, -1);
    return v.map((el) => checkType(inner, el, `${prop}[*]`, problems));
  }
  switch (base) {
    case 'Int':
      if (!(typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= INT_MAX + (v < 0 ? 1 : 0))) {
        problems.push(`Value ${show(v)} in property ${prop} must be an integer (from -2147483648 to 2147483647)`);
      }
      return v;
    case 'Long':
      if (!(typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= LONG_MAX)) {
        problems.push(`Value ${show(v)} in property ${prop} must be an integer (from -9007199254740992 to 9007199254740992)`);
      }
      return v;
    case 'Float':
      if (typeof v !== 'number') problems.push(`Value ${show(v)} in property ${prop} must be a number`);
      return v;
    case 'String':
      if (typeof v !== 'string') problems.push(`Value ${show(v)} in property ${prop} must be a string`);
      return v;
    case 'ID':
      if (!(typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')))) {
        problems.push(`Value ${show(v)} in property ${prop} must be a string, or an array of strings`);
      }
      return v;
    case 'Boolean':
      if (typeof v !== 'boolean') problems.push(`Value ${show(v)} in property ${prop} must be a boolean`);
      return v;
    case 'Date': {
      if (v instanceof Date) return v;
      if (typeof v === 'string' || typeof v === 'number') {
        const d = new Date(v);
        if (!Number.isNaN(d.getTime())) return d;
      }
      problems.push(`Value ${show(v)} in property ${prop} must be a Date`);
      return v;
    }
    case 'BigInt': {
      if (typeof v === 'bigint') return v;
      if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))) return BigInt(v);
      problems.push(`Value ${show(v)} in property ${prop} must be a bigint`);
      return v;
    }
    case 'Bytes':
      if (typeof v === 'string') return Buffer.from(v);
      if (!(v instanceof Uint8Array)) problems.push(`Value ${show(v)} in property ${prop} must be a Buffer or Uint8Array`);
      return v;
    default:
      return v; // Any, untyped, or object types checked by the application layer
  }
}

/**
 * The checkType string of an attribute: describe_table keeps Harper's shape (`type: "Array"`, `elements`,
 * `nullable: false`), checkType wants `[Int]!`.
 */
export function attributeTypeString(a: AttributeDef): string | undefined {
  let t = a.type === 'Array' ? `[${a.elements ?? 'Any'}]` : a.type;
  if (!t) return undefined;
  if (a.nullable === false && !t.endsWith('!')) t += '!';
  return t;
}

/** Validate (and convert) a record in place against declared types. Returns the problems found. */
export function checkRecordTypes(def: TableDef, record: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!def.schemaDefined) return problems;
  for (const a of def.attributes) {
    if (a.computed !== undefined) {
      if (record[a.attribute] !== undefined) problems.push(`Computed property ${a.attribute} may not be directly assigned a value`);
      continue;
    }
    const type = attributeTypeString(a);
    if (!type) continue;
    const v = record[a.attribute];
    if (v === undefined && !type.endsWith('!')) continue;
    // timestamps are stamped by the write itself, after this check
    if (v === undefined && (a.assigned_created_time || a.assigned_updated_time)) continue;
    const converted = checkType(type, v, a.attribute, problems);
    if (converted !== v) record[a.attribute] = converted;
  }
  if (def.sealed) {
    for (const k of Object.keys(record)) if (!def.attributes.some((a) => a.attribute === k)) problems.push(`Property ${k} is not allowed`);
  }
  return problems;
}
