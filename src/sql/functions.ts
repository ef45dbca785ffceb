/**
 * Scalar functions of spec §2.9 (names are case-insensitive). Functions never throw on bad data: a value they
 * cannot work with gives null, as a SQL function would, so one odd record cannot fail a whole query.
 * Argument-count mistakes are caught when the statement is compiled (400).
 */
import { toEpoch, toNumber } from './values.js';

type Fn = (...args: unknown[]) => unknown;
interface FnDef { min: number; max: number; fn: Fn }

const str = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));
const num = toNumber;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

const UNIT_MS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1, s: 1000, second: 1000, seconds: 1000, m: 60_000, minute: 60_000,
  minutes: 60_000, h: 3_600_000, hour: 3_600_000, hours: 3_600_000, d: 86_400_000, day: 86_400_000,
  days: 86_400_000, w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};
const MONTH_UNITS: Record<string, number> = {
  M: 1, month: 1, months: 1, Q: 3, quarter: 3, quarters: 3, y: 12, year: 12, years: 12,
};

function unitName(u: unknown): string {
  const s = String(u ?? '');
  return s === 'M' || s === 'Q' ? s : s.toLowerCase();
}

function dateAdd(d: unknown, n: unknown, unit: unknown, sign: number): number | null {
  const t = toEpoch(d), k = num(n);
  if (t === undefined || k === null) return null;
  const u = unitName(unit);
  if (u in UNIT_MS) return t + sign * k * UNIT_MS[u]!;
  if (u in MONTH_UNITS) {
    const date = new Date(t);
    date.setUTCMonth(date.getUTCMonth() + sign * k * MONTH_UNITS[u]!);
    return date.getTime();
  }
  return null;
}

/** DATE_DIFF(a, b[, unit]) = a - b in the unit (milliseconds by default), truncated toward zero like moment.diff. */
function dateDiff(a: unknown, b: unknown, unit?: unknown): number | null {
  const x = toEpoch(a), y = toEpoch(b);
  if (x === undefined || y === undefined) return null;
  const u = unit === undefined ? 'ms' : unitName(unit);
  if (u in UNIT_MS) return Math.trunc((x - y) / UNIT_MS[u]!);
  if (u in MONTH_UNITS) {
    const dx = new Date(x), dy = new Date(y);
    let months = (dx.getUTCFullYear() - dy.getUTCFullYear()) * 12 + dx.getUTCMonth() - dy.getUTCMonth();
    const rest = dx.getTime() - Date.UTC(dx.getUTCFullYear(), dx.getUTCMonth()) - (dy.getTime() - Date.UTC(dy.getUTCFullYear(), dy.getUTCMonth()));
    if (months > 0 && rest < 0) months--;
    else if (months < 0 && rest > 0) months++;
    return Math.trunc(months / MONTH_UNITS[u]!);
  }
  return null;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The common moment.js format tokens, in UTC. Text in [brackets] is copied as is. */
function formatDate(d: unknown, fmt: unknown): string | null {
  const t = toEpoch(d);
  if (t === undefined) return null;
  const x = new Date(t);
  const f = typeof fmt === 'string' ? fmt : 'YYYY-MM-DDTHH:mm:ss.SSSZ';
  const tokens: Record<string, () => string> = {
    YYYY: () => String(x.getUTCFullYear()), YY: () => pad(x.getUTCFullYear() % 100),
    MMMM: () => MONTHS[x.getUTCMonth()]!, MMM: () => MONTHS[x.getUTCMonth()]!.slice(0, 3),
    MM: () => pad(x.getUTCMonth() + 1), M: () => String(x.getUTCMonth() + 1),
    DD: () => pad(x.getUTCDate()), D: () => String(x.getUTCDate()),
    dddd: () => DAYS[x.getUTCDay()]!, ddd: () => DAYS[x.getUTCDay()]!.slice(0, 3), d: () => String(x.getUTCDay()),
    HH: () => pad(x.getUTCHours()), H: () => String(x.getUTCHours()),
    hh: () => pad(x.getUTCHours() % 12 || 12), h: () => String(x.getUTCHours() % 12 || 12),
    mm: () => pad(x.getUTCMinutes()), m: () => String(x.getUTCMinutes()),
    ss: () => pad(x.getUTCSeconds()), s: () => String(x.getUTCSeconds()),
    SSS: () => pad(x.getUTCMilliseconds(), 3), A: () => (x.getUTCHours() < 12 ? 'AM' : 'PM'),
    a: () => (x.getUTCHours() < 12 ? 'am' : 'pm'), Z: () => '+00:00', X: () => String(Math.floor(t / 1000)),
    x: () => String(t),
  };
  return f.replace(/\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|d|HH|H|hh|h|mm|m|ss|s|SSS|A|a|Z|X|x/g,
    (tok, lit) => (lit !== undefined ? lit : tokens[tok]!()));
}

function extract(d: unknown, part: unknown): number | null {
  const t = toEpoch(d);
  if (t === undefined) return null;
  const x = new Date(t);
  switch (unitName(part)) {
    case 'year': case 'years': case 'y': return x.getUTCFullYear();
    case 'M': case 'month': case 'months': return x.getUTCMonth() + 1;
    case 'day': case 'days': case 'd': case 'date': return x.getUTCDate();
    case 'hour': case 'hours': case 'h': return x.getUTCHours();
    case 'minute': case 'minutes': case 'm': return x.getUTCMinutes();
    case 'second': case 'seconds': case 's': return x.getUTCSeconds();
    case 'millisecond': case 'milliseconds': case 'ms': return x.getUTCMilliseconds();
    case 'week': case 'weeks': case 'w': {
      const start = Date.UTC(x.getUTCFullYear(), 0, 1);
      return Math.floor((t - start) / 604_800_000) + 1;
    }
    case 'dayofweek': return x.getUTCDay();
    default: return null;
  }
}

const part = (name: string): Fn => (d) => extract(d, name);

/** CAST/CONVERT target types (the parser hands the type name upper-cased). */
export function castTo(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  const t = type.toUpperCase();
  if (/CHAR|TEXT|STRING|NVARCHAR/.test(t)) return str(v);
  if (/^(INT|INTEGER|BIGINT|SMALLINT|TINYINT|LONG)$/.test(t)) {
    const n = num(v);
    return n === null ? null : Math.trunc(n);
  }
  if (/^(FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC|NUMBER|MONEY)$/.test(t)) return num(v);
  if (/^(BOOLEAN|BOOL|BIT)$/.test(t)) {
    if (typeof v === 'string') return v.toLowerCase() === 'true' ? true : v.toLowerCase() === 'false' ? false : null;
    return Boolean(v);
  }
  if (/^(DATE|DATETIME|DATETIME2|TIMESTAMP)$/.test(t)) {
    const e = toEpoch(v);
    return e === undefined ? null : t === 'DATE' ? new Date(e).toISOString().slice(0, 10) : new Date(e).toISOString();
  }
  return v;
}

export const FUNCTIONS: Record<string, FnDef> = {
  // date and time (UTC)
  CURRENT_DATE: { min: 0, max: 0, fn: () => new Date().toISOString().slice(0, 10) },
  CURRENT_TIME: { min: 0, max: 0, fn: () => new Date().toISOString().slice(11, 23) },
  CURRENT_TIMESTAMP: { min: 0, max: 0, fn: () => Date.now() },
  NOW: { min: 0, max: 0, fn: () => Date.now() },
  GETDATE: { min: 0, max: 0, fn: () => Date.now() },
  GET_SERVER_TIME: { min: 0, max: 0, fn: () => Date.now() },
  DATE: { min: 0, max: 1, fn: (d) => {
    const t = d === undefined ? Date.now() : toEpoch(d);
    return t === undefined ? null : new Date(t).toISOString();
  } },
  DATE_ADD: { min: 3, max: 3, fn: (d, n, u) => dateAdd(d, n, u, 1) },
  DATE_SUB: { min: 3, max: 3, fn: (d, n, u) => dateAdd(d, n, u, -1) },
  DATE_DIFF: { min: 2, max: 3, fn: dateDiff },
  DATEDIFF: { min: 2, max: 3, fn: dateDiff },
  DATE_FORMAT: { min: 1, max: 2, fn: formatDate },
  EXTRACT: { min: 2, max: 2, fn: extract },
  OFFSET_UTC: { min: 2, max: 2, fn: (d, off) => {
    const t = toEpoch(d), o = num(off);
    if (t === undefined || o === null) return null;
    // offsets up to ±16 are hours, larger ones minutes (moment.utcOffset)
    const minutes = Math.abs(o) <= 16 ? o * 60 : o;
    const local = new Date(t + minutes * 60_000).toISOString().slice(0, 23);
    const sign = minutes < 0 ? '-' : '+';
    const m = Math.abs(minutes);
    return `${local}${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
  } },
  YEAR: { min: 1, max: 1, fn: part('year') },
  MONTH: { min: 1, max: 1, fn: part('month') },
  DAY: { min: 1, max: 1, fn: part('day') },
  DAYOFWEEK: { min: 1, max: 1, fn: part('dayofweek') },
  HOUR: { min: 1, max: 1, fn: part('hour') },
  MINUTE: { min: 1, max: 1, fn: part('minute') },
  SECOND: { min: 1, max: 1, fn: part('second') },
  // math
  ABS: { min: 1, max: 1, fn: (v) => { const n = num(v); return n === null ? null : Math.abs(n); } },
  CEIL: { min: 1, max: 1, fn: (v) => { const n = num(v); return n === null ? null : Math.ceil(n); } },
  CEILING: { min: 1, max: 1, fn: (v) => { const n = num(v); return n === null ? null : Math.ceil(n); } },
  FLOOR: { min: 1, max: 1, fn: (v) => { const n = num(v); return n === null ? null : Math.floor(n); } },
  EXP: { min: 1, max: 1, fn: (v) => { const n = num(v); return n === null ? null : Math.exp(n); } },
  SQRT: { min: 1, max: 1, fn: (v) => { const n = num(v); return n === null || n < 0 ? null : Math.sqrt(n); } },
  RANDOM: { min: 0, max: 1, fn: () => Math.random() },
  ROUND: { min: 1, max: 2, fn: (v, digits) => {
    const n = num(v), d = digits === undefined ? 0 : num(digits);
    if (n === null || d === null) return null;
    const f = 10 ** Math.trunc(d);
    return Math.round(n * f) / f;
  } },
  // strings
  CONCAT: { min: 1, max: Infinity, fn: (...a) => (a.some((v) => v === null || v === undefined) ? null : a.map(str).join('')) },
  CONCAT_WS: { min: 2, max: Infinity, fn: (sep, ...a) => a.filter((v) => v !== null && v !== undefined).map(str).join(str(sep) ?? '') },
  INSTR: { min: 2, max: 2, fn: (s, sub) => { const x = str(s), y = str(sub); return x === null || y === null ? null : x.indexOf(y) + 1; } },
  LEN: { min: 1, max: 1, fn: (s) => { const x = str(s); return x === null ? null : x.length; } },
  LENGTH: { min: 1, max: 1, fn: (s) => { const x = str(s); return x === null ? null : x.length; } },
  LOWER: { min: 1, max: 1, fn: (s) => str(s)?.toLowerCase() ?? null },
  LCASE: { min: 1, max: 1, fn: (s) => str(s)?.toLowerCase() ?? null },
  UPPER: { min: 1, max: 1, fn: (s) => str(s)?.toUpperCase() ?? null },
  UCASE: { min: 1, max: 1, fn: (s) => str(s)?.toUpperCase() ?? null },
  REPLACE: { min: 3, max: 3, fn: (s, a, b) => { const x = str(s), y = str(a); return x === null || y === null ? null : x.split(y).join(str(b) ?? ''); } },
  // SUBSTRING(s, start[, length]) with a 1-based start, as in SQL
  SUBSTRING: { min: 2, max: 3, fn: (s, start, len) => {
    const x = str(s), p = num(start), l = len === undefined ? undefined : num(len);
    if (x === null || p === null || l === null) return null;
    const from = Math.max(0, Math.trunc(p) - 1);
    return l === undefined ? x.slice(from) : x.slice(from, from + Math.max(0, Math.trunc(l)));
  } },
  TRIM: { min: 1, max: 1, fn: (s) => str(s)?.trim() ?? null },
  LTRIM: { min: 1, max: 1, fn: (s) => str(s)?.trimStart() ?? null },
  RTRIM: { min: 1, max: 1, fn: (s) => str(s)?.trimEnd() ?? null },
  REGEXP_LIKE: { min: 2, max: 3, fn: (s, re, flags) => {
    const x = str(s);
    if (x === null || re === null || re === undefined) return null;
    try { return new RegExp(String(re), typeof flags === 'string' ? flags.replace(/[^imsu]/g, '') : '').test(x); } catch { return null; }
  } },
  // logical
  IFNULL: { min: 2, max: 2, fn: (a, b) => (a === null || a === undefined ? b : a) },
  COALESCE: { min: 1, max: Infinity, fn: (...a) => a.find((v) => v !== null && v !== undefined) ?? null },
  NULLIF: { min: 2, max: 2, fn: (a, b) => (a === b || (a != null && b != null && String(a) === String(b) && typeof a === typeof b) ? null : a) },
};
FUNCTIONS.REGEXP = FUNCTIONS.REGEXP_LIKE!;
