/** Flattened configuration keys (spec §1.4): `HTTP_PORT` -> `http.port`, matched case-insensitively. */
import { DEFAULT_CONFIG, EXTRA_FLAT_PATHS, LEGACY_ALIASES } from './defaults.js';

function leafPaths(obj: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...leafPaths(v as Record<string, unknown>, path));
    else out.push(path);
  }
  return out;
}

const INDEX = new Map<string, string>();
for (const path of [...leafPaths(DEFAULT_CONFIG), ...EXTRA_FLAT_PATHS]) INDEX.set(path.replace(/\./g, '_').toLowerCase(), path);
for (const [alias, path] of Object.entries(LEGACY_ALIASES)) if (!INDEX.has(alias)) INDEX.set(alias, path);
// `threads` alone means the count (a bare number), as in Harper.
INDEX.set('threads', 'threads.count');

/** The dotted path for a flat token, or undefined when Weft does not know the key. */
export function flatKeyToPath(token: string): string | undefined {
  return INDEX.get(token.toLowerCase());
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: any = obj;
  for (const part of path.split('.')) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = cur[part];
  }
  return cur;
}

export function setPath(obj: Record<string, any>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    if (cur[p] == null || typeof cur[p] !== 'object' || Array.isArray(cur[p])) {
      // `threads: 4` becomes `threads: {count: 4}` when a threads_* key is set (spec §1.4 side rule)
      cur[p] = p === 'threads' && typeof cur[p] === 'number' ? { count: cur[p] } : {};
    }
    cur = cur[p];
  }
  cur[parts[parts.length - 1]!] = value;
}

export function deletePath(obj: Record<string, any>, path: string): void {
  const parts = path.split('.');
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = cur?.[parts[i]!];
    if (cur == null || typeof cur !== 'object') return;
  }
  delete cur[parts[parts.length - 1]!];
}

/** Values arrive as strings; cast them by the type of the key's default, else JSON when it parses. */
export function castValue(path: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const def = getPath(DEFAULT_CONFIG, path);
  const s = raw.trim();
  if (s === 'null' || s === 'undefined') return null;
  if (typeof def === 'boolean' || s === 'true' || s === 'false') {
    if (/^(true|false)$/i.test(s)) return s.toLowerCase() === 'true';
  }
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s.startsWith('[') || s.startsWith('{')) {
    try { return JSON.parse(s); } catch { /* keep the string */ }
  }
  return raw;
}

/** Every dotted leaf path of a nested object (used to apply JSON config objects key by key). */
export function flattenObject(obj: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) out.push(...flattenObject(v as Record<string, unknown>, path));
    else out.push([path, v]);
  }
  return out;
}
