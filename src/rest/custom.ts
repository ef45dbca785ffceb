/**
 * Serving custom resources exported from an application's resources.js (spec §5.2, §5.3): the HTTP method picks
 * the instance method (get/put/patch/post/delete), the `allow*` checks run first, and the return value becomes
 * the response (plain data negotiated, `{status, headers, data | body}`, undefined -> 404 for GET, else 204).
 */
import { weftError } from '../errors/index.js';
import type { Exchange } from './handler.js';
import { coerceId, generalMethod, readAnyBody, send, versionHeaders, versionMs } from './handler.js';
import type { CustomResource } from './resources.js';
import { RequestTarget, type ResourceContext } from './resource.js';
import { LOAD_RECORD, tableRefOf } from './tables.js';
import { transaction } from './transaction.js';

const METHODS: Record<string, { name: string; allow: 'allowRead' | 'allowUpdate' | 'allowCreate' | 'allowDelete'; body: boolean }> = {
  GET: { name: 'get', allow: 'allowRead', body: false },
  HEAD: { name: 'get', allow: 'allowRead', body: false },
  QUERY: { name: 'get', allow: 'allowRead', body: false },
  PUT: { name: 'put', allow: 'allowUpdate', body: true },
  PATCH: { name: 'patch', allow: 'allowUpdate', body: true },
  POST: { name: 'post', allow: 'allowCreate', body: true },
  DELETE: { name: 'delete', allow: 'allowDelete', body: false },
};

function implemented(instance: any): string {
  const verbs: string[] = [];
  for (const [http, m] of Object.entries(METHODS)) if (http !== 'HEAD' && http !== 'QUERY' && typeof instance[m.name] === 'function') verbs.push(http);
  return [...verbs, 'TRACE', 'HEAD', 'OPTIONS'].join(', ');
}

async function collect(v: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of v) out.push(x);
  return out;
}

export async function handleCustom(x: Exchange, r: CustomResource, rest: string): Promise<void> {
  const method = x.req.method ?? 'GET';
  const m = METHODS[method];
  if (!m) return generalMethod(x, method);
  const idText = rest === '' || rest === '/' ? null : rest.slice(1);
  let id: any = null;
  try { id = idText === null ? null : decodeURIComponent(idText); } catch { throw weftError('VALIDATION', `Invalid URL encoding in '${idText}'`); }
  // a subclass of a table class: the id is typed like the table's primary key
  const ref = tableRefOf(r.cls);
  const table = ref ? x.deps.storage.database(ref.database)?.table(ref.table) : undefined;
  if (ref && !table) throw weftError('NOT_FOUND');
  if (table && id !== null) id = coerceId(table, id);
  const target = new RequestTarget((x.req.url ?? '/').split('?')[0]!, x.search, id);
  const responseHeaders = new Map<string, string>();
  const context: ResourceContext = {
    user: x.user, method, url: x.req.url ?? '/', pathname: target.pathname,
    headers: { get: (name: string) => { const v = x.req.headers[name.toLowerCase()]; return Array.isArray(v) ? v.join(', ') : v; } },
    responseHeaders,
  };
  const cls = r.cls;
  const instance = typeof cls === 'function' ? new cls(id, context) : cls;
  if (typeof instance[m.name] !== 'function') {
    throw Object.assign(weftError('REST_METHOD_NOT_ALLOWED', r.name, m.name, method), { headers: { Allow: implemented(instance) } });
  }
  const data = m.body ? await readAnyBody(x) : undefined;
  context.data = data;
  const v2 = cls?.loadAsInstance === false;
  if (!(v2 && target.checkPermission === false) && typeof instance[m.allow] === 'function') {
    const ok = await instance[m.allow](x.user, m.body ? data : target, context);
    if (!ok) throw weftError(x.user ? 'REST_UNAUTHORIZED' : 'MUST_LOGIN');
  }
  // one request = one transaction (spec §3.9, §5.3): table calls passing this context (or made while the method
  // runs) join it, and it commits before the response goes out
  let result = await transaction(context, async () => {
    // V1 on a table subclass: the record is loaded into the instance before the method runs
    if (table && !v2 && id !== null && typeof instance[LOAD_RECORD] === 'function') instance[LOAD_RECORD](await cls.get(id, context));
    let out = v2
      ? await (m.body ? instance[m.name](target, data) : instance[m.name](target))
      : await (m.body ? instance[m.name](data, target) : instance[m.name](target));
    if (out && typeof out === 'object' && typeof out[Symbol.asyncIterator] === 'function') out = await collect(out);
    return out;
  });
  const headers: Record<string, string> = Object.fromEntries(responseHeaders);
  let status = 200;
  if (result && typeof result === 'object' && !Array.isArray(result) && ('status' in result) && ('data' in result || 'body' in result || 'headers' in result)) {
    status = Number(result.status) || 200;
    Object.assign(headers, result.headers ?? {});
    if ('body' in result) {
      x.res.setHeader('Server-Timing', `hdb;dur=0.00`);
      for (const [k, v] of Object.entries(headers)) x.res.setHeader(k, v);
      const body = result.body;
      x.res.writeHead(status).end(typeof body === 'string' || body instanceof Uint8Array ? body : body === undefined ? undefined : String(body));
      return;
    }
    result = result.data;
  }
  if (result && typeof result === 'object' && typeof result[Symbol.asyncIterator] === 'function') result = await collect(result);
  if (result === undefined) return send(x, method === 'GET' || method === 'HEAD' ? 404 : 204, undefined, headers);
  // a single answer (not a list) to a read carries the version its reads (or the resource) set: ETag, 304
  const read = method === 'GET' || method === 'HEAD' || method === 'QUERY';
  if (read && status === 200 && !Array.isArray(result) && headers.ETag === undefined && headers.etag === undefined) {
    if (versionHeaders(x, versionMs(context.lastModified), r.lastModified, headers)) return send(x, 304, undefined, headers);
  }
  return send(x, status, result, headers);
}
