/**
 * CORS for both ports (spec §2.1, §4.7): whether a request's Origin may read the response. A missing or empty access
 * list, or one containing `*` or null (Harper's `[null]` template value), allows every origin; otherwise the Origin
 * must be listed exactly.
 */
export function corsOriginAllowed(origin: string | undefined, enabled: boolean, list: ReadonlyArray<string | null> | null | undefined): origin is string {
  if (!enabled || !origin) return false;
  if (!list || list.length === 0 || list.includes('*') || list.includes(null)) return true;
  return list.includes(origin);
}
