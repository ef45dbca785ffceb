/** Who is asking. Every request of every protocol carries one RequestContext. */
export interface Role {
  id: string;
  role: string;
  permission: Record<string, unknown> & { super_user?: boolean; structure_user?: boolean | string[] };
  __createdtime__?: number;
  __updatedtime__?: number;
}

export interface User {
  username: string;
  active: boolean;
  /** null when the user's role record does not exist (spec §2.6 item 2: such a user may do nothing). */
  role: Role | null;
  __createdtime__?: number;
  __updatedtime__?: number;
}

export type Transport = 'http' | 'https' | 'unix' | 'internal';

/** The parts of the transport request that operations such as login need (cookies, Origin/Host). */
export interface RequestInfo {
  headers: Record<string, string | string[] | undefined>;
  secure: boolean;
}

export interface RequestContext {
  /** null only while a request is being authenticated or for operations that need no user. */
  user: User | null;
  ip: string;
  transport: Transport;
  requestId: string;
  /** Set by transports that carry HTTP headers. */
  request?: RequestInfo;
  /** Headers an operation asks the transport to add to its response (Set-Cookie from login). */
  responseHeaders?: Record<string, string | string[]>;
}

export function isSuperUser(user: User | null | undefined): boolean {
  return user?.role?.permission?.super_user === true;
}
