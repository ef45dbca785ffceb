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
  role: Role;
  __createdtime__?: number;
  __updatedtime__?: number;
}

export type Transport = 'http' | 'https' | 'unix' | 'internal';

export interface RequestContext {
  /** null only while a request is being authenticated or for operations that need no user. */
  user: User | null;
  ip: string;
  transport: Transport;
  requestId: string;
}

export function isSuperUser(user: User | null | undefined): boolean {
  return Boolean(user?.role?.permission?.super_user);
}
