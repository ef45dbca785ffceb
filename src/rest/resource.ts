/**
 * The `Resource` base class applications extend (spec §5.3), in its simple V1 form: an instance per request with
 * the target id and the request context; `allow*` permit super users only unless overridden.
 */
import type { User } from '../auth/index.js';

export interface ResourceContext {
  user: User | null;
  method: string;
  url: string;
  pathname: string;
  headers: { get(name: string): string | undefined };
  responseHeaders: Map<string, string> & { set(name: string, value: string): unknown };
  data?: unknown;
  /** The request's transaction while its resource method runs (spec §5.3). */
  transaction?: unknown;
  /** Version of what the response carries (epoch ms or Date): table reads raise it, resource code may set it; drives the ETag. */
  lastModified?: unknown;
  /** Expiry for the records written in this request (epoch ms, Date or date string; spec §3.8). */
  expiresAt?: unknown;
}

/** The parsed target of a request: the query parameters plus the path id. */
export class RequestTarget extends URLSearchParams {
  pathname: string;
  /** The query string as received (URLSearchParams would re-encode the query language's operators). */
  search: string;
  id: string | null;
  isCollection: boolean;
  checkPermission = true;
  constructor(pathname: string, search: string, id: string | null) {
    super(search);
    this.pathname = pathname;
    this.search = search;
    this.id = id;
    this.isCollection = id === null;
  }
  override toString(): string {
    return this.search;
  }
}

export class Resource {
  /** V1 (default): the method runs on an instance that knows its id; V2 (`false`): methods get the target. */
  static loadAsInstance: boolean | undefined = undefined;
  readonly #id: string | null;
  readonly #context: ResourceContext;

  constructor(id: string | null, context: ResourceContext) {
    this.#id = id;
    this.#context = context;
  }

  getId(): string | null { return this.#id; }
  getContext(): ResourceContext { return this.#context; }

  allowRead(user: User | null, _query?: unknown, _context?: unknown): boolean { return Boolean(user?.role?.permission?.super_user); }
  allowUpdate(user: User | null, _data?: unknown, _context?: unknown): boolean { return Boolean(user?.role?.permission?.super_user); }
  allowCreate(user: User | null, _data?: unknown, _context?: unknown): boolean { return Boolean(user?.role?.permission?.super_user); }
  allowDelete(user: User | null, _query?: unknown, _context?: unknown): boolean { return Boolean(user?.role?.permission?.super_user); }
}
