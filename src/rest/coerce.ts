/**
 * Coercion of textual inputs (URL path ids, query values) by declared attribute type, and auto-cast for untyped
 * attributes (spec §3.5). Failures are 400 `Invalid value for attribute <name>: "<value>", expecting <type>`.
 */
import { weftError } from '../errors/index.js';
import type { AttributeDef } from '../storage/index.js';
import { autoCast, parseIsoDate } from '../util/text-values.js';

const INTEGER = /^-?\d+$/;
const BASE36 = /^-?\$[0-9a-z]+$/i;
const NUMERIC = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

function parseBase36(text: string): number {
  const neg = text.startsWith('-');
  const n = parseInt(text.slice(neg ? 2 : 1), 36);
  return neg ? -n : n;
}

export { autoCast };

function invalid(name: string, text: string, type: string): never {
  throw weftError('REST_INVALID_VALUE', name, text, type);
}

/** The scalar type a textual value is coerced to: element type for arrays, without `!`. */
export function scalarType(a: AttributeDef | undefined): string | undefined {
  if (!a?.type) return undefined;
  const t = a.type === 'Array' ? a.elements : a.type;
  return t?.replace(/!$/, '') || undefined;
}

/** Coerce `text` by a declared scalar type (undefined/Any: auto-cast when `autoCastUntyped`, else the string). */
export function coerceText(text: string, type: string | undefined, name: string, autoCastUntyped: boolean): unknown {
  if (!type || type === 'Any') return autoCastUntyped ? autoCast(text) : text === 'null' ? null : text;
  if (type === 'String' || type === 'ID') return text === 'null' ? null : text;
  if (text === 'null' || text === '') return null;
  switch (type) {
    case 'Int': case 'Long': {
      if (BASE36.test(text)) return parseBase36(text);
      if (!INTEGER.test(text)) invalid(name, text, type);
      const n = Number(text);
      if (!Number.isSafeInteger(n)) invalid(name, text, type);
      return n;
    }
    case 'Float': {
      if (BASE36.test(text)) return parseBase36(text);
      if (text === 'NaN') return NaN;
      if (!NUMERIC.test(text)) invalid(name, text, type);
      return Number(text);
    }
    case 'BigInt':
      if (!INTEGER.test(text)) invalid(name, text, type);
      return BigInt(text);
    case 'Boolean': {
      const l = text.toLowerCase();
      if (l === 'true') return true;
      if (l === 'false') return false;
      return invalid(name, text, type);
    }
    case 'Date': {
      if (INTEGER.test(text)) return new Date(Number(text));
      return parseIsoDate(text) ?? invalid(name, text, type);
    }
    default:
      return text; // Bytes, Blob, object types: the text as is
  }
}

/** A typed query value with an explicit prefix (`number:`, `boolean:`, `string:`, `date:`). */
export function explicitTyped(prefix: string, text: string, name: string): unknown {
  switch (prefix) {
    case 'number': {
      if (BASE36.test(text)) return parseBase36(text);
      if (!NUMERIC.test(text)) invalid(name, text, 'number');
      return Number(text);
    }
    case 'boolean': {
      const l = text.toLowerCase();
      if (l === 'true') return true;
      if (l === 'false') return false;
      return invalid(name, text, 'boolean');
    }
    case 'string': return text;
    case 'date': {
      if (INTEGER.test(text)) return new Date(Number(text));
      return parseIsoDate(text) ?? invalid(name, text, 'date');
    }
    default:
      throw weftError('REST_UNKNOWN_TYPE', prefix);
  }
}
