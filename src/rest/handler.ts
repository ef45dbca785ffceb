/**
 * The REST request handler on the application HTTP port (spec §4): routes a request to an exported resource,
 * authenticates and authorises it, runs it in one transaction and writes the negotiated response. Errors are
 * `"<ErrorClass>: <message>"` in the negotiated type with the error's status; internals never reach the client.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WeftError, weftError, registry } from '../errors/index.js';
import { corsOriginAllowed, decodeBody, mediaType, negotiate, readBody, sendJsonArray, withFirst, type Format } from '../http/index.js';
import {
  checkRecordTypes, copyRecord, copyWithKey, search, type Condition, type ConditionGroup, type Key, type LmdbStorage, type Rec,
  type Table, type WriteTxn,
} from '../storage/index.js';
import { authenticateRequest, isSuperUser, type Transport, type User, type UserStore } from '../auth/index.js';
import type { WeftConfig } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import { authorizeRest, checkTableAccess, keepUnupdatable, narrowRecord, narrowSelect, queryAttributes, readableSet } from './access.js';
import { coerceText, scalarType } from './coerce.js';
import { parseQuery } from './query-parser.js';
import { projector, tableQuery, type JoinEnv } from './query.js';
import { relationsOf } from './joins.js';
import { cachedGet, isCaching, noteCacheWrite, parseCacheControl, writesThrough, writeThrough, type WriteMethod } from './caching.js';
import { transaction } from './transaction.js';
import type { ResourceContext } from './resource.js';
import type { CustomResource, ResourceMap, TableResource } from './resources.js';
import { CONTENT_TYPES, encodeValue, isStream, streamValues } from './serialize.js';
import { handleCustom } from './custom.js';
import { openApiDocument } from './openapi.js';
/** GraphQL querying (and the graphql library behind it) is loaded by the first /graphql request, not at start-up. */
let graphqlModule: Promise<typeof import('./graphql.js')> | undefined;
const loadGraphql = () => (graphqlModule ??= import('./graphql.js'));
import { checkIndexed } from './strict.js';
import { acceptsBrotli, brotliBuffer, brotliStream } from './compress.js';
import { pipeline } from 'node:stream/promises';

export interface RestDeps {
  storage: LmdbStorage;
  users: UserStore;
  config: Readonly<WeftConfig>;
  logger: Logger;
  resources: ResourceMap;
  /** Answers requests no resource matches. */
  notFound: (req: IncomingMessage, res: ServerResponse) => void;
  /** 'https' on the secure application port (cookies and request info depend on it). */
  transport?: Transport;
  /** Server version, for the OpenAPI document. */
  version?: string;
}

export const ALLOW_ALL = 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, QUERY, COPY, MOVE';
const EXTENSIONS: Record<string, Format> = { json: 'json', cbor: 'cbor', msgpack: 'msgpack', csv: 'csv' };
const MAX_KEY_BYTES = 1978;

/** Everything one request needs while it is handled. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  deps: RestDeps;
  started: number;
  format: Format;
  user: User | null;
  /** Only made when something logs it (a UUID per request was a measurable share of a GET's CPU). */
  readonly requestId: string;
  search: string;
  /** Appended to Server-Timing (`, miss` when a caching table called its source). */
  timingSuffix?: string;
}

/**
 * The per-request Exchange as a class: an object literal with a getter (the lazy request id) is built by a runtime
 * call, a visible share of a GET; a class instance has one shape and its getter lives on the prototype.
 */
class RestExchange implements Exchange {
  readonly started = performance.now();
  format: Format = 'json';
  user: User | null = null;
  timingSuffix?: string = undefined;
  private id?: string = undefined;
  constructor(readonly req: IncomingMessage, readonly res: ServerResponse, readonly deps: RestDeps, readonly search: string) {}
  get requestId(): string { return (this.id ??= randomUUID()); }
}

type HeaderMap = Record<string, string>;

function withHeaders(err: WeftError, headers: HeaderMap): WeftError {
  return Object.assign(err, { headers });
}

function timing(x: Exchange): string {
  return `hdb;dur=${(performance.now() - x.started).toFixed(2)}${x.timingSuffix ?? ''}`;
}

/**
 * Headers every REST answer carries. Table answers pass every header to writeHead as one flat [name, value, ...]
 * list: building it costs ~1 us, where setHeader per header cost ~3.5 us and a merged object ~6 us (per-header
 * copies, dictionary-mode objects) of a ~12 us GET handler. Paths that write through `res.setHeader` themselves
 * (custom resources, GraphQL, CORS preflight) get them from `baseHeaders` first; writeHead merges either way.
 */
const BASE_HEADERS: readonly string[] = ['Server', 'HarperDB', 'Vary', 'Accept, Accept-Encoding'];

function baseHeaders(res: ServerResponse): void {
  for (let i = 0; i < BASE_HEADERS.length; i += 2) res.setHeader(BASE_HEADERS[i]!, BASE_HEADERS[i + 1]!);
}

/** Header names handlers pass in this exact spelling and that send() never sets itself: safe in a flat list. */
const LIST_SAFE = new Set(['ETag', 'Last-Modified', 'Location', 'Age', 'Allow', 'WWW-Authenticate']);

/**
 * The base headers, Server-Timing and `headers` as a flat list for writeHead, or undefined when `headers` has a
 * name in another spelling or one send() also sets: those go through setHeader, whose names are case-insensitive
 * (resources set headers in their own case).
 */
function headerList(x: Exchange, headers: HeaderMap): string[] | undefined {
  const serverTiming = timing(x);
  const out = [...BASE_HEADERS, 'Server-Timing', serverTiming];
  for (const k in headers) {
    if (!LIST_SAFE.has(k)) {
      baseHeaders(x.res);
      x.res.setHeader('Server-Timing', serverTiming);
      for (const h in headers) x.res.setHeader(h, headers[h]!);
      return undefined;
    }
    out.push(k, headers[k]!);
  }
  return out;
}

function addHeader(res: ServerResponse, list: string[] | undefined, name: string, value: string | number): void {
  if (list) list.push(name, String(value));
  else res.setHeader(name, value);
}

/**
 * Send a value (undefined = no body), an iterable (streamed), with the negotiated type. Whole bodies are written
 * synchronously and nothing is returned; only a streamed body returns a promise (an async function here cost every
 * GET a promise, and its caller's `return send(...)` the adoption of that promise).
 */
export function send(x: Exchange, status: number, value: unknown, headers: HeaderMap = {}, columns?: string[]): Promise<void> | void {
  const { res } = x;
  const out = headerList(x, headers);
  if (value === undefined) {
    res.writeHead(status, out).end();
    return;
  }
  addHeader(res, out, 'Content-Type', CONTENT_TYPES[x.format]);
  if (x.format === 'csv') addHeader(res, out, 'Content-Disposition', 'attachment; filename="data.csv"');
  if (isStream(value)) {
    // pull the first value before the status line goes out, so a failing search still gets its 4xx
    const iter = value[Symbol.iterator]();
    const first = iter.next();
    // streamed bodies are compressed whatever their size (spec §4.4); a HEAD has no body to compress
    const br = x.req.method !== 'HEAD' && x.deps.config.http.compressionThreshold > 0 && acceptsBrotli(x.req);
    if (br) addHeader(res, out, 'Content-Encoding', 'br');
    if (x.format === 'json' && !br && x.req.method !== 'HEAD') return sendJsonArray(res, status, out, first, iter);
    res.writeHead(status, out);
    if (x.req.method === 'HEAD') { res.end(); return; }
    return streamBody(res, withFirst(first, iter), x.format, columns ?? [], br);
  }
  let body: string | Buffer = encodeValue(value, x.format, columns);
  let length = Buffer.byteLength(body);
  const threshold = x.deps.config.http.compressionThreshold;
  if (threshold > 0 && length > threshold && x.req.method !== 'HEAD' && acceptsBrotli(x.req)) {
    body = brotliBuffer(body);
    length = body.length;
    addHeader(res, out, 'Content-Encoding', 'br');
  }
  addHeader(res, out, 'Content-Length', length);
  res.writeHead(status, out).end(body);
}

async function streamBody(res: ServerResponse, rest: Iterator<unknown> & Iterable<unknown>, format: Format, columns: string[], br: boolean): Promise<void> {
  if (br) {
    const z = brotliStream();
    const done = pipeline(z, res);
    try {
      await streamValues(z as unknown as ServerResponse, rest, format, columns);
    } catch (err) {
      z.destroy();
      throw err;
    }
    z.end();
    await done;
    return;
  }
  await streamValues(res, rest, format, columns);
  res.end();
}

function errorClass(status: number, known: boolean): string {
  if (status === 401 || status === 403) return 'AccessViolation';
  if (status >= 500) return known ? 'ServerError' : 'Error';
  return 'ClientError';
}

function sendError(x: Exchange, err: unknown): void {
  const { res, deps } = x;
  const known = err instanceof WeftError;
  // application code (custom resources) signals its status with `statusCode` on the error (spec §4.3)
  const appStatus = !known && err instanceof Error && Number.isInteger((err as any).statusCode) && (err as any).statusCode >= 400 && (err as any).statusCode < 600
    ? (err as any).statusCode as number : undefined;
  const status = known ? err.status : appStatus ?? 500;
  const message = known || appStatus ? (err as Error).message : registry.INTERNAL.message();
  if (status >= 500) deps.logger.error({ requestId: x.requestId, err, url: x.req.url, method: x.req.method }, 'REST request failed');
  else if (deps.logger.isLevelEnabled('debug')) deps.logger.debug({ requestId: x.requestId, status, message }, 'REST request refused');
  if (res.headersSent) { res.destroy(); return; }
  const format: Format = x.format === 'csv' ? 'json' : x.format;
  const headers: HeaderMap = { ...((err as { headers?: HeaderMap }).headers ?? {}) };
  if (status === 401) headers['WWW-Authenticate'] = 'Basic';
  const cls = appStatus ? (err as Error).constructor.name || 'Error' : (err as { errorClass?: string }).errorClass ?? errorClass(status, known);
  const body = encodeValue(`${cls}: ${message}`, format);
  const out = headerList(x, headers);
  addHeader(res, out, 'Content-Type', CONTENT_TYPES[format]);
  addHeader(res, out, 'Content-Length', Buffer.byteLength(body));
  res.writeHead(status, out).end(body);
}

function cors(req: IncomingMessage, res: ServerResponse, config: Readonly<WeftConfig>): boolean {
  const origin = req.headers.origin;
  if (!corsOriginAllowed(origin, config.http.cors, config.http.corsAccessList)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  if (config.authentication.enableSessions) res.setHeader('Access-Control-Allow-Credentials', 'true');
  return true;
}

/** The request body as a record: JSON, CBOR, MessagePack or a form. */
export async function readRecordBody(x: Exchange): Promise<Rec> {
  const net = x.deps.config.operationsApi.network;
  const buf = await readBody(x.req, net.maxBodySize);
  const type = mediaType(x.req.headers['content-type']);
  const v = type === 'application/x-www-form-urlencoded'
    ? Object.fromEntries(new URLSearchParams(buf.toString('utf8')))
    : decodeBody(buf, x.req.headers['content-type'], net.maxJsonDepth);
  // only plain objects are records (decoders may yield arrays, buffers, Maps or marker objects such as msgpack's 0xC1)
  const proto = v && typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (proto !== Object.prototype && proto !== null) throw weftError('REST_BODY_NOT_OBJECT');
  return v as Rec;
}

export async function readAnyBody(x: Exchange): Promise<unknown> {
  const net = x.deps.config.operationsApi.network;
  const buf = await readBody(x.req, net.maxBodySize);
  if (buf.length === 0) return undefined;
  const type = mediaType(x.req.headers['content-type']);
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(buf.toString('utf8')));
  return decodeBody(buf, x.req.headers['content-type'], net.maxJsonDepth);
}

// ---------- tables ----------

type Target =
  | { kind: 'describe' }
  | { kind: 'collection'; prefix?: string }
  | { kind: 'record'; idText: string; property?: string; parts?: string[] };

function decodeSegment(text: string): string {
  if (!text.includes('%')) return text;
  try { return decodeURIComponent(text); } catch { throw weftError('VALIDATION', `Invalid URL encoding in '${text}'`); }
}

function parseTarget(rest: string, x: Exchange, table: Table, split = false): Target {
  if (rest === '') return { kind: 'describe' };
  let text = rest.slice(1);
  const ext = text.includes('.') ? /\.(json|cbor|msgpack|csv)$/.exec(text) : null;
  if (ext) { x.format = EXTENSIONS[ext[1]!]!; text = text.slice(0, -ext[0].length); }
  if (text === '') return { kind: 'collection' };
  if (text.endsWith('/')) return { kind: 'collection', prefix: decodeSegment(text.slice(0, -1)) };
  if (split && text.includes('/')) {
    // split before decoding, so an encoded %2F stays inside its part
    const parts = text.split('/').map(decodeSegment);
    const last = parts[parts.length - 1]!;
    const dot = last.lastIndexOf('.');
    if (dot > 0 && table.hasAttribute(last.slice(dot + 1))) {
      parts[parts.length - 1] = last.slice(0, dot);
      return { kind: 'record', idText: parts.join('/'), parts, property: last.slice(dot + 1) };
    }
    return { kind: 'record', idText: parts.join('/'), parts };
  }
  const idText = decodeSegment(text);
  const dot = idText.lastIndexOf('.');
  if (dot > 0) {
    const prop = idText.slice(dot + 1);
    // `/T/<id>.<attr>` reads one property, only for declared attributes (otherwise the dot is part of the id)
    if (table.hasAttribute(prop)) return { kind: 'record', idText: idText.slice(0, dot), property: prop };
  }
  return { kind: 'record', idText };
}

/** A path id coerced by the primary key's declared type (untyped -> auto-cast: `/T/42` is the number 42). */
export function coerceId(table: Table, text: string): Key {
  const pk = table.primaryKey;
  const v = coerceText(text, scalarType(table.attribute(pk)), pk, true);
  const id = typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' ? v : text;
  if (typeof id === 'string' && Buffer.byteLength(id) > MAX_KEY_BYTES) throw weftError('PRIMARY_KEY_TOO_LARGE', Buffer.byteLength(id));
  return id as Key;
}

/** The id a record URL addresses: with @splitSegments a multi-part id, each part coerced on its own (spec §4.2). */
function targetId(table: Table, target: { idText: string; parts?: string[] }): Key {
  if (!target.parts) return coerceId(table, target.idText);
  const id = target.parts.map((p) => coerceId(table, p));
  if (id.some((p) => typeof p !== 'string' && typeof p !== 'number')) throw weftError('INVALID_PRIMARY_KEY_TYPE', 'boolean');
  return id as Key;
}

/** A primary key given in a body: string, number or array of them. */
function bodyKey(v: unknown): Key | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw weftError('INVALID_PRIMARY_KEY_TYPE', 'number');
    if (typeof v === 'string' && (v === '' || Buffer.byteLength(v) > MAX_KEY_BYTES)) throw weftError('PRIMARY_KEY_TOO_LARGE', Buffer.byteLength(v));
    return v;
  }
  if (Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string' || typeof p === 'number')) return v as Key;
  throw weftError('INVALID_PRIMARY_KEY_TYPE', Array.isArray(v) ? 'array' : typeof v);
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const versionF64 = new Float64Array(1);
const versionU32 = new Uint32Array(versionF64.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * A record version (epoch ms float, spec §3.1) as the ETag (spec §4.4): 10 base64url characters between quotes
 * carrying the low 60 bits of the float. The 4 high bits (sign and top of the exponent) are 0100 for every number
 * in [2, 2^256), so a timestamp is encoded without loss and distinct versions give distinct ETags.
 */
export function versionETag(version: number): string {
  versionF64[0] = version;
  const hi = versionU32[HIGH_WORD]!;
  const lo = versionU32[1 - HIGH_WORD]!;
  const a = ((hi & 0x0fffffff) << 2) | (lo >>> 30);
  const b = lo & 0x3fffffff;
  let out = '"';
  for (let s = 24; s >= 0; s -= 6) out += B64URL[(a >>> s) & 63];
  for (let s = 24; s >= 0; s -= 6) out += B64URL[(b >>> s) & 63];
  return out + '"';
}

/** A version as epoch ms, from a number, a Date or a date string (context.lastModified may be any of these). */
export function versionMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : undefined;
  if (typeof v === 'string' && v) { const t = Date.parse(v); return Number.isFinite(t) ? t : undefined; }
  return undefined;
}

/**
 * Headers of a single-record answer with a known version: ETag, and Last-Modified when the application asked for
 * it. True when the request's If-None-Match already names this version (answer 304).
 */
export function versionHeaders(x: Exchange, version: number | undefined, lastModified: boolean | undefined, headers: HeaderMap): boolean {
  if (version === undefined) return false;
  const etag = versionETag(version);
  headers.ETag = etag;
  if (lastModified) headers['Last-Modified'] = new Date(version).toUTCString();
  const inm = x.req.headers['if-none-match'];
  return inm !== undefined && (inm === etag || inm === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag));
}

function checkTypes(table: Table, record: Rec): void {
  // relationship properties are joins, never stored: a value sent for one is dropped
  const rels = relationsOf(table);
  if (rels) for (const name of rels.keys()) delete record[name];
  const problems = checkRecordTypes(table.def, record);
  if (problems.length) throw weftError('TYPE_VIOLATION', problems.join('. '));
}

/** Stamp @createdTime/@updatedTime with the transaction time, as a Date or ISO string when so declared. */
function stamp(txn: WriteTxn, table: Table, record: Rec, prev: Rec | undefined): void {
  txn.stampTimes(table, record, prev);
  for (const a of table.def.attributes) {
    if (!a.assigned_created_time && !a.assigned_updated_time) continue;
    const v = record[a.attribute];
    if (typeof v !== 'number') continue;
    if (a.type === 'Date') record[a.attribute] = new Date(v);
    else if (a.type === 'String') record[a.attribute] = new Date(v).toISOString();
  }
}

function describe(table: Table, resource: TableResource, x: Exchange, readable: Set<string> | null): Rec {
  const db = x.deps.storage.database(resource.database);
  const attributes = table.def.attributes.filter((a) => !readable || readable.has(a.attribute)).map((a) => {
    const o: Rec = { name: a.attribute };
    if (a.type) o.type = a.type;
    if (a.elements) o.elements = a.elements;
    if (a.is_primary_key) o.isPrimaryKey = true;
    if (a.indexed && !a.is_primary_key) o.indexed = true;
    if (a.nullable === false) o.nullable = false;
    if (a.assigned_created_time) o.assignCreatedTime = true;
    if (a.assigned_updated_time) o.assignUpdatedTime = true;
    return o;
  });
  const auditSize = db ? ((db.auditStore.getStats() as { entryCount?: number }).entryCount ?? 0) : 0;
  return { records: './', name: table.name, database: resource.database, auditSize, attributes };
}

function csvColumnsFor(table: Table, select: ReturnType<typeof tableQuery>['select']): string[] {
  if (!select) return table.attributeNames();
  return select.kind === 'value' ? [select.name] : select.names;
}

function tableOf(x: Exchange, r: TableResource): Table {
  const t = x.deps.storage.database(r.database)?.table(r.table);
  if (!t) throw weftError('NOT_FOUND');
  return t;
}

/** Following relationships needs read permission on the related tables too (spec §4.6). */
function joinEnv(x: Exchange): JoinEnv {
  return { storage: x.deps.storage, checkRead: (db, t) => checkTableAccess(x.user, db, t, 'read') };
}

function collectionQuery(table: Table, x: Exchange, prefix: string | undefined, strict?: boolean) {
  const tq = tableQuery(table, parseQuery(x.search), joinEnv(x));
  if (prefix !== undefined) {
    const c: Condition = { attribute: table.primaryKey, comparator: 'starts_with', value: prefix };
    tq.tree = tq.tree ? { operator: 'and', conditions: [c, tq.tree] } as ConditionGroup : c;
  }
  if (strict) checkIndexed(table, tq.tree, tq.options.sort);
  return tq;
}

/** The Resource API context of a request handled by the built-in table handler (what a source's methods see). */
function resourceContext(x: Exchange): ResourceContext {
  const url = x.req.url ?? '/';
  return {
    user: x.user, method: x.req.method ?? 'GET', url, pathname: url.split('?')[0]!, responseHeaders: new Map(),
    headers: { get: (name: string) => { const v = x.req.headers[name.toLowerCase()]; return Array.isArray(v) ? v.join(', ') : v; } },
  };
}

/**
 * A write of record `id` by the built-in table handler: `op` in one storage transaction. On a caching table it also
 * refreshes the entry's freshness, and when the source has `method` the source gets the write first (spec §5.4),
 * in one request transaction with the table write, so writes the source makes to other tables commit (or roll
 * back) together with it. Returns the response headers the source set.
 */
async function writeRecord(
  x: Exchange, table: Table, method: WriteMethod, id: Key, data: unknown, preview: Rec | null, op: (txn: WriteTxn) => void,
): Promise<HeaderMap> {
  const db = x.deps.storage.database(table.def.database)!;
  // a single-record write runs optimistically: no JavaScript under the process-wide write lock (WriteTxn)
  if (!isCaching(table)) { await db.transact(op, x.user?.username, { optimistic: true }); return {}; }
  const apply = (txn: WriteTxn) => { op(txn); noteCacheWrite(txn, txn.table(table.name) ?? table, id, preview === null); };
  if (!writesThrough(table, method)) { await db.transact(apply, x.user?.username); return {}; }
  const context = resourceContext(x);
  await transaction(context, async (t) => {
    await writeThrough(table, method, id, data, context);
    t.queue(table.def.database, table.name, id, preview, apply);
  });
  return Object.fromEntries(context.responseHeaders);
}

/** The records of a collection GET as answered (module-level: see withFirst in http/respond.ts). */
function* projected(results: Iterable<Rec>, project: (rec: Rec) => unknown, readable: Set<string> | null): Generator<unknown> {
  for (const rec of results) yield project(narrowRecord(rec, readable));
}

async function handleTable(x: Exchange, r: TableResource, rest: string): Promise<void> {
  const method = x.req.method!;
  const table = tableOf(x, r);
  const target = parseTarget(rest, x, table, r.splitSegments);
  const { database } = r;
  const db = x.deps.storage.database(database)!;
  const username = x.user?.username;
  const notAllowed = (verb: string, allow: string) =>
    withHeaders(weftError('REST_METHOD_NOT_ALLOWED', r.typeName, verb.toLowerCase(), method), { Allow: allow });

  switch (method) {
    case 'GET': case 'HEAD': case 'QUERY': {
      authorizeRest(x.user, database, table, 'read');
      const readable = readableSet(x.user, database, table);
      if (target.kind === 'describe') return send(x, 200, describe(table, r, x, readable));
      if (target.kind === 'collection') {
        const tq = collectionQuery(table, x, target.prefix, r.strictIndexing);
        authorizeRest(x.user, database, table, 'read', queryAttributes(tq));
        narrowSelect(tq, readable);
        const project = projector(table, tq.select, joinEnv(x));
        const results = search(table, tq.tree, tq.options);
        const columns = csvColumnsFor(table, tq.select).filter((c) => !readable || readable.has(c) || c.startsWith('$'));
        return send(x, 200, projected(results, project, readable), {}, columns);
      }
      const id = targetId(table, target);
      if (target.property) authorizeRest(x.user, database, table, 'read', [target.property]);
      let found: Rec | undefined;
      let version: number | undefined;
      const headers: HeaderMap = {};
      if (isCaching(table)) {
        const got = await cachedGet(x.deps.storage, table, id, parseCacheControl(x.req.headers['cache-control']), x, username);
        found = got.record;
        version = got.version;
        if (got.miss) x.timingSuffix = ', miss';
        if (got.age !== undefined) headers.Age = String(got.age);
      } else {
        const entry = table.getEntry(id);
        if (entry && !(table.hidesStale && table.isStale(id))) { found = entry.value; version = entry.version; }
      }
      if (found === undefined) return send(x, 404, undefined, headers);
      // the property was authorised above; computed properties are evaluated over the whole stored record
      if (target.property) return send(x, 200, table.valueOf(found, target.property) ?? null);
      if (versionHeaders(x, version, r.lastModified, headers)) return send(x, 304, undefined, headers);
      return send(x, 200, narrowRecord(found, readable), headers);
    }
    case 'PUT': {
      if (target.kind !== 'record' || target.property) throw notAllowed('put', 'GET, HEAD, POST, DELETE, OPTIONS, TRACE');
      authorizeRest(x.user, database, table, 'update');
      const id = targetId(table, target);
      const body = await readRecordBody(x);
      authorizeRest(x.user, database, table, 'update', Object.keys(body));
      const given = copyWithKey(body, table.primaryKey, id);
      checkTypes(table, given);
      const headers = await writeRecord(x, table, 'put', id, given, given, (txn) => {
        const t = txn.table(table.name) ?? table;
        const prev = txn.get(t, id);
        const record = keepUnupdatable(x.user, database, t, given, prev);
        stamp(txn, t, record, prev);
        txn.put(t, id, record, 'put', prev ?? null);
      });
      return send(x, 204, undefined, headers);
    }
    case 'PATCH': {
      if (target.kind !== 'record' || target.property) throw notAllowed('patch', 'GET, HEAD, POST, DELETE, OPTIONS, TRACE');
      authorizeRest(x.user, database, table, 'update');
      const id = targetId(table, target);
      const body = await readRecordBody(x);
      authorizeRest(x.user, database, table, 'update', Object.keys(body));
      const preview: Rec | null = isCaching(table) ? copyWithKey(table.get(id) ?? {}, table.primaryKey, id, body) : null;
      const headers = await writeRecord(x, table, 'patch', id, body, preview, (txn) => {
        const t = txn.table(table.name) ?? table;
        const prev = txn.get(t, id);
        const record = copyWithKey(prev ?? {}, t.primaryKey, id, body);
        checkTypes(t, record);
        stamp(txn, t, record, prev);
        txn.put(t, id, record, 'patch', prev ?? null);
      });
      return send(x, 204, undefined, headers);
    }
    case 'POST': {
      if (target.kind === 'record') throw notAllowed('post', 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS, TRACE');
      authorizeRest(x.user, database, table, 'insert');
      const body = await readRecordBody(x);
      authorizeRest(x.user, database, table, 'insert', Object.keys(body));
      const given = bodyKey(body[table.primaryKey]);
      const record = copyRecord(body);
      // a delete is a V8 runtime call even when the key is absent (the usual POST)
      if (given === undefined && table.primaryKey in record) delete record[table.primaryKey];
      checkTypes(table, record);
      const { result: id } = await db.transact((txn) => {
        const t = txn.table(table.name) ?? table;
        const key = given ?? txn.newId(t);
        if (given !== undefined && txn.get(t, key) !== undefined) throw weftError('REST_RECORD_EXISTS');
        record[t.primaryKey] = key;
        stamp(txn, t, record, undefined);
        txn.put(t, key, record, 'insert', null);
        return key;
      }, username, { optimistic: true });
      return send(x, 201, id, { Location: String(id) });
    }
    case 'DELETE': {
      authorizeRest(x.user, database, table, 'delete');
      if (target.kind === 'record') {
        if (target.property) throw notAllowed('delete', 'GET, HEAD, OPTIONS, TRACE');
        const id = targetId(table, target);
        const headers = await writeRecord(x, table, 'delete', id, undefined, null, (txn) => { txn.remove(txn.table(table.name) ?? table, id); });
        return send(x, 200, true, headers);
      }
      const tq = collectionQuery(table, x, target.kind === 'collection' ? target.prefix : undefined, r.strictIndexing);
      authorizeRest(x.user, database, table, 'delete', queryAttributes(tq), 'read');
      await db.transact((txn) => {
        const t = txn.table(table.name) ?? table;
        const ids: Key[] = [];
        for (const rec of search(t, tq.tree, tq.options)) ids.push(rec[t.primaryKey] as Key);
        for (const id of ids) txn.remove(t, id);
      }, username);
      return send(x, 200, true);
    }
    default:
      return generalMethod(x, method);
  }
}

/** Methods every resource answers the same way (spec §4.3). */
export function generalMethod(x: Exchange, method: string): Promise<void> | void {
  switch (method) {
    case 'OPTIONS': return send(x, 204, undefined, { Allow: ALLOW_ALL });
    case 'TRACE': return send(x, 200, 'HarperDB is the terminating server');
    case 'BREW': return send(x, 418, "HarperDB is short and stout and can't brew coffee");
    default: throw weftError('REST_METHOD_NOT_RECOGNIZED', method);
  }
}

export function createRestHandler(deps: RestDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const openapi = pathname === '/openapi' && (req.method === 'GET' || req.method === 'HEAD');
    const match = openapi ? undefined : deps.resources.match(pathname);
    if (!match && !openapi) return deps.notFound(req, res);
    const x: Exchange = new RestExchange(req, res, deps, q < 0 ? '' : url.slice(q + 1));
    // table answers go through send()/sendError(), which write these with the rest of the headers
    if (openapi || match!.resource.kind !== 'table') baseHeaders(res);
    try {
      const method = req.method ?? 'GET';
      if (cors(req, res, deps.config) && method === 'OPTIONS' && req.headers['access-control-request-method']) {
        baseHeaders(res);
        res.setHeader('Access-Control-Allow-Methods', 'POST, GET, PUT, DELETE, PATCH, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', deps.config.http.corsAccessControlAllowHeaders);
        res.writeHead(200).end();
        return;
      }
      // GraphQL negotiates its own types (application/graphql-response+json) and answers errors in its own shape
      if (match?.resource.kind === 'graphql' && match.rest === '' && method !== 'OPTIONS' && method !== 'TRACE') {
        return await (await loadGraphql()).handleGraphql(x, match.resource);
      }
      x.format = negotiate(req.headers.accept);
      if (method === 'OPTIONS' || method === 'TRACE' || method === 'BREW') return await generalMethod(x, method);
      const who = authenticateRequest(req, { users: deps.users, config: deps.config, transport: deps.transport ?? 'http' });
      x.user = who instanceof Promise ? await who : who;
      if (openapi) {
        if (!x.user) throw weftError('MUST_LOGIN');
        if (!isSuperUser(x.user)) throw weftError('OPENAPI_FORBIDDEN');
        x.format = 'json';
        return await send(x, 200, openApiDocument(deps.resources, deps.storage, deps.version ?? '0.0.0'));
      }
      const { resource, rest } = match!;
      switch (resource.kind) {
        case 'conflict': throw weftError('REST_CONFLICTING_PATHS', '/' + resource.path);
        case 'table': return await handleTable(x, resource, rest);
        case 'custom': return await handleCustom(x, resource as CustomResource, rest);
        case 'graphql': throw weftError('NOT_FOUND');
      }
    } catch (err) {
      sendError(x, err);
    }
  };
}
