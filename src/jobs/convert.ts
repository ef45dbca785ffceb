/**
 * CSV cell conversion (spec §2.10, §3.5): a cell becomes a value by the column's declared type, or by auto-cast on
 * untyped columns. Pure functions, shared by server-side loads and `weft load`.
 */
import { weftError } from '../errors/index.js';
import type { AttributeDef, TableDef } from '../storage/index.js';
import { autoCast, parseIsoDate } from '../util/text-values.js';

export { autoCast, parseIsoDate };

/** `{...}` / `[...]` cells become objects/arrays (file and URL loads); text that is not JSON stays text. */
export function jsonCell(s: string): unknown {
  const first = s[0], last = s[s.length - 1];
  if ((first === '{' && last === '}') || (first === '[' && last === ']')) {
    try { return JSON.parse(s); } catch { /* not JSON after all */ }
  }
  return undefined;
}

/** Convert a cell by a declared type. Throws INVALID_ATTRIBUTE_VALUE when the text cannot be that type. */
export function convertTyped(type: string, s: string, name: string): unknown {
  const base = type.endsWith('!') ? type.slice(0, -1) : type;
  if (s === 'null') return null;
  if (base === 'Any') return autoCast(s);
  if (base === 'String' || base === 'ID') return s;
  if (s === '') return null;
  const fail = () => weftError('INVALID_ATTRIBUTE_VALUE', name, s, base);
  switch (base) {
    case 'Int': case 'Long': {
      if (/^-?\d+$/.test(s)) return Number(s);
      if (/^\$[0-9a-z]+$/i.test(s)) return parseInt(s.slice(1), 36);
      throw fail();
    }
    case 'Float': {
      const n = Number(s);
      if (s.trim() === '' || Number.isNaN(n) && s !== 'NaN') throw fail();
      return n;
    }
    case 'BigInt':
      if (/^-?\d+$/.test(s)) return BigInt(s);
      throw fail();
    case 'Boolean': {
      const l = s.toLowerCase();
      if (l === 'true') return true;
      if (l === 'false') return false;
      throw fail();
    }
    case 'Date': {
      if (/^-?\d+$/.test(s)) return new Date(Number(s));
      const d = parseIsoDate(s);
      if (d) return d;
      throw fail();
    }
    default: {
      // arrays and object types arrive as JSON text; anything else is left for the type check to report
      if (base.startsWith('[') || /^[A-Z]/.test(base)) return jsonCell(s) ?? s;
      return s;
    }
  }
}

export type CellConverter = (text: string) => unknown;

/** One converter per column of a header, from the table's declared attribute types. */
export function columnConverters(def: TableDef, header: string[], opts: { json: boolean }): CellConverter[] {
  const attrs = new Map<string, AttributeDef>(def.attributes.map((a) => [a.attribute, a]));
  return header.map((name) => {
    const type = def.schemaDefined ? attrs.get(name)?.type : undefined;
    if (type) return (s) => convertTyped(type, s, name);
    if (opts.json) return (s) => jsonCell(s) ?? autoCast(s);
    return autoCast;
  });
}

/** A row of cells as a record (columns beyond the header are ignored; the parser rejects ragged rows first). */
export function rowToRecord(header: string[], cells: string[], converters: CellConverter[]): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) rec[header[i]!] = converters[i]!(cells[i] ?? '');
  return rec;
}
