/**
 * The one authentication path for every HTTP transport (spec §2.2, §7.1): the Operations API and the REST interface
 * both call `authenticateRequest`, so a credential that works on one port works on the other. Order: unix socket,
 * (mTLS later), Basic, Bearer operation token, session cookie, local authorisation. A presented credential that fails
 * is an error, never a downgrade to anonymous.
 */
import type { IncomingMessage } from 'node:http';
import { readCookie, sessionCookieName } from './sessions.js';
import type { RequestInfo, Transport, User } from './types.js';
import type { UserStore } from './users.js';

export interface AuthenticateDeps {
  users: UserStore;
  config: { authentication: { enableSessions: boolean; authorizeLocal: boolean } };
  transport: Transport;
}

export interface AuthenticateOptions {
  /**
   * The Bearer header is not an operation token for this request (refresh_operation_token takes the refresh token as
   * Bearer and authenticates itself in its handler).
   */
  bearerIsNotAuthentication?: boolean;
}

export function isLoopback(ip: string | undefined): boolean {
  return !!ip && (ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.'));
}

/** The parts of the HTTP request that operations and cookies need. */
export function requestInfo(req: IncomingMessage, transport: Transport): RequestInfo {
  return { headers: req.headers, secure: transport === 'https' };
}

const BASIC = /^basic /i;

/**
 * Who is asking; null = nobody (the caller decides whether that is allowed). A Basic header seen within the user
 * cache's TTL is answered synchronously (no promise: the usual request of a script or a benchmark), anything else
 * through the promise.
 */
export function authenticateRequest(req: IncomingMessage, deps: AuthenticateDeps, opts: AuthenticateOptions = {}): User | Promise<User | null> {
  const auth = deps.transport === 'unix' ? undefined : req.headers.authorization;
  if (auth && BASIC.test(auth)) {
    const hit = deps.users.cachedBasic(auth);
    if (hit) return hit;
  }
  return authenticate(req, deps, opts);
}

async function authenticate(req: IncomingMessage, deps: AuthenticateDeps, opts: AuthenticateOptions): Promise<User | null> {
  if (deps.transport === 'unix') return deps.users.superUser() ?? null;
  const ip = req.socket.remoteAddress ?? '';
  const auth = req.headers.authorization;
  if (auth) {
    if (BASIC.test(auth)) {
      const user = await deps.users.authenticateBasic(auth, ip);
      if (user) return user;
    } else if (/^bearer /i.test(auth)) {
      if (opts.bearerIsNotAuthentication) return null;
      return deps.users.authenticateToken(auth.slice(7).trim(), 'operation');
    }
  }
  const cfg = deps.config.authentication;
  if (cfg.enableSessions) {
    const info = requestInfo(req, deps.transport);
    const id = readCookie(info, sessionCookieName(info));
    const user = id ? deps.users.sessionUser(id) : undefined;
    if (user) return user;
  }
  const authorizeLocal = cfg.authorizeLocal || process.env.AUTHENTICATION_AUTHORIZELOCAL === 'true';
  if (authorizeLocal && isLoopback(ip)) return deps.users.superUser() ?? null;
  return null;
}
