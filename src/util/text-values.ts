/**
 * Textual inputs (CSV cells, URL ids, query values) to values, per spec §3.5: ISO-8601 dates (UTC when no zone) and
 * the auto-cast of untyped attributes. Pure leaves shared by rest/ and jobs/.
 */
const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const HAS_ZONE_RE = /(?:Z|[+-]\d{2}:?\d{2})$/;

/** ISO-8601 text as a Date, assuming UTC when no zone is given; undefined when the text is not ISO-8601. */
export function parseIsoDate(s: string): Date | undefined {
  if (!ISO_DATE_RE.test(s)) return undefined;
  const text = s.length > 10 && !HAS_ZONE_RE.test(s) ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T');
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Auto-cast for untyped/`Any` attributes: booleans, null, NaN, plain numbers, ISO dates; everything else stays text. */
export function autoCast(s: string): unknown {
  switch (s) {
    case 'true': case 'TRUE': return true;
    case 'false': case 'FALSE': return false;
    case 'null': case 'NULL': case 'undefined': return null;
    case 'NaN': return NaN;
  }
  if (NUMBER_RE.test(s)) {
    const n = Number(s);
    // integers past 2^53 would silently lose digits: keep them as text
    if (Number.isSafeInteger(n) || !Number.isInteger(n)) return n;
    return s;
  }
  return parseIsoDate(s) ?? s;
}
