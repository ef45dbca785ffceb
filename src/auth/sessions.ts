/** Session cookie naming and attributes (spec §7.3). The session records live in system.hdb_session (UserStore). */
import type { RequestInfo } from './types.js';
import { parseLifetime } from './tokens.js';

function header(info: RequestInfo | undefined, name: string): string | undefined {
  const v = info?.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `<Origin or Host, scheme removed, first non-word character -> _>-hdb-session`, e.g. `localhost_9926-hdb-session`. */
export function sessionCookieName(info: RequestInfo | undefined): string {
  const source = (header(info, 'origin') ?? header(info, 'host') ?? '').replace(/^https?:\/\//, '');
  return `${source.replace(/\W/, '_')}-hdb-session`;
}

function hostIsLocal(host: string): boolean {
  return /^(localhost|127\.0\.0\.1):/.test(host) || host === '::1' || host.startsWith('[::1]');
}

/** The Set-Cookie value for a new session, plus whether it is the secure variant (adds X-Hdb-Session). */
export function sessionCookie(
  info: RequestInfo | undefined, id: string, opts: { expires?: string | null; domains?: string[] | null },
): { cookie: string; secure: boolean } {
  const host = (header(info, 'host') ?? '').toLowerCase();
  let expires = 'Tue, 01 Oct 8307 19:33:20 GMT';
  const life = opts.expires ? parseLifetime(opts.expires) : undefined; // a duration from now
  if (life !== undefined) expires = new Date(Date.now() + life).toUTCString();
  let cookie = `${sessionCookieName(info)}=${id}; Path=/; Expires=${expires}; HttpOnly`;
  const hostname = host.replace(/:\d+$/, '');
  const domain = (opts.domains ?? []).find((d) => (d.startsWith('.') ? hostname.endsWith(d) || hostname === d.slice(1) : hostname === d));
  if (domain) cookie += `; Domain=${domain}`;
  const secure = !!info?.secure || hostIsLocal(host);
  if (secure) cookie += '; SameSite=None; Secure';
  return { cookie, secure };
}

/** The value of one cookie from a Cookie header. */
export function readCookie(info: RequestInfo | undefined, name: string): string | undefined {
  const raw = header(info, 'cookie');
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
