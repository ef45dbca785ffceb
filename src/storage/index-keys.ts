/**
 * How a value becomes secondary-index keys. Arrays are indexed per element, null is indexed, objects are not.
 * Long strings are truncated (LMDB keys are limited to ~1.9 KB, spec §9 item 10); every index hit is re-checked
 * against the stored record, so truncation never changes results.
 */
export const MAX_INDEXED_STRING = 400;

export type IndexKey = string | number | boolean | null;

function one(v: unknown): IndexKey | undefined {
  switch (typeof v) {
    case 'string': return v.length > MAX_INDEXED_STRING ? v.slice(0, MAX_INDEXED_STRING) : v;
    case 'number': return Number.isNaN(v) ? undefined : v;
    case 'boolean': return v;
    case 'bigint': return Number(v);
    case 'object':
      if (v === null) return null;
      if (v instanceof Date) return v.getTime();
      return undefined;
    default: return undefined;
  }
}

export function indexKeys(value: unknown): IndexKey[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) {
    const out = new Set<IndexKey>();
    for (const el of value) {
      const k = one(el);
      if (k !== undefined) out.add(k);
    }
    return [...out];
  }
  const k = one(value);
  return k === undefined ? [] : [k];
}

export function indexKeyOf(value: unknown): IndexKey | undefined {
  return one(value);
}
