/**
 * Writing results: content negotiation (JSON, CBOR, MessagePack, CSV) and streaming of iterable results, so a large
 * search never sits whole in memory. Backpressure is honoured: we wait for 'drain'.
 */
import type { ServerResponse } from 'node:http';
import { encode as encodeCbor } from 'cbor-x';
import { pack } from 'msgpackr';
import { stringify as csvStringify } from 'csv-stringify/sync';
import { weftError } from '../errors/index.js';

export type Format = 'json' | 'cbor' | 'msgpack' | 'csv';

const TYPES: Record<Format, string> = {
  json: 'application/json; charset=utf-8',
  cbor: 'application/cbor',
  msgpack: 'application/x-msgpack',
  csv: 'text/csv; charset=utf-8',
};

/** The media ranges of an Accept header, lower-cased, with their q-values (1 when absent). */
export function acceptEntries(accept: string): Array<{ type: string; q: number }> {
  return accept.split(',').map((part) => {
    const [typeRaw, ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) { const m = /^\s*q=([\d.]+)/.exec(p); if (m) q = Number(m[1]); }
    return { type: typeRaw!.trim().toLowerCase(), q };
  });
}

/** Pick the response format from Accept (q-values honoured); 406 when nothing acceptable. */
export function negotiate(accept: string | undefined): Format {
  if (!accept) return 'json';
  let best: Format | undefined;
  let bestQ = 0;
  for (const { type, q } of acceptEntries(accept)) {
    let f: Format | undefined;
    if (type === 'application/json' || type === '*/*' || type === 'application/*' || type === 'text/plain' || type === 'text/*') f = 'json';
    else if (type === 'application/cbor') f = 'cbor';
    else if (type === 'application/x-msgpack' || type === 'application/msgpack') f = 'msgpack';
    else if (type === 'text/csv') f = 'csv';
    if (f && q > bestQ) { best = f; bestQ = q; }
  }
  if (!best) throw weftError('NOT_ACCEPTABLE');
  return best;
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return v != null && typeof v === 'object' && !Array.isArray(v) && typeof (v as any)[Symbol.iterator] === 'function';
}

function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;
}

/**
 * JSON text of a value. Plain JSON.stringify first: a replacer function takes V8 off its fast serializer (it was a
 * few percent of a REST GET), and only BigInts need one, so it is used when the plain call refuses a BigInt.
 */
export function toJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch (err) {
    if (err instanceof TypeError && /BigInt/i.test(err.message)) return JSON.stringify(v, jsonReplacer) ?? 'null';
    throw err;
  }
}

function write(res: ServerResponse, chunk: string | Buffer): Promise<void> | void {
  if (!res.write(chunk)) return new Promise((resolve) => res.once('drain', resolve));
}

/** Results up to this many characters of JSON are answered whole (Content-Length, one write); longer ones stream. */
const JSON_WHOLE_LIMIT = 65_536;

/**
 * The start of the JSON array of `first` and the values after it in `rest`: the whole array when it ends within
 * JSON_WHOLE_LIMIT characters (`done`), else the text so far (at least one value, no closing bracket) and the next
 * value. Small results (most queries) then go out with a Content-Length in one write instead of chunked in three,
 * and a value that fails to serialise or a search that fails early still gets a proper error status.
 */
function jsonHead(first: IteratorResult<unknown>, rest: Iterator<unknown>): { text: string; done: boolean; next: IteratorResult<unknown> } {
  let text = '[';
  let sep = '';
  let r = first;
  while (!r.done && text.length <= JSON_WHOLE_LIMIT) {
    text += sep + toJson(r.value);
    sep = ',';
    r = rest.next();
  }
  return r.done ? { text: text + ']', done: true, next: r } : { text, done: false, next: r };
}

/** Stream the rest of a JSON array begun by jsonHead (headers already written) and end the response. */
async function jsonTail(res: ServerResponse, head: { text: string; next: IteratorResult<unknown> }, rest: Iterator<unknown>): Promise<void> {
  let p = write(res, head.text);
  if (p) await p;
  let text = '';
  for (let r = head.next; !r.done; r = rest.next()) {
    text += ',' + toJson(r.value);
    if (text.length > JSON_WHOLE_LIMIT) { p = write(res, text); text = ''; if (p) await p; }
  }
  res.end(text + ']');
}

/**
 * Answer the JSON array of `first` and the rest of `rest`: whole with a Content-Length when it is small, streamed
 * otherwise. `headers` is writeHead's flat list, or undefined when the headers were set with setHeader.
 */
export async function sendJsonArray(res: ServerResponse, status: number, headers: string[] | undefined, first: IteratorResult<unknown>, rest: Iterator<unknown>): Promise<void> {
  const head = jsonHead(first, rest);
  if (head.done) {
    const length = Buffer.byteLength(head.text);
    if (headers) headers.push('Content-Length', String(length));
    else res.setHeader('Content-Length', length);
    res.writeHead(status, headers).end(head.text);
    return;
  }
  res.writeHead(status, headers);
  await jsonTail(res, head, rest);
}

/**
 * Send a handler result: objects whole, iterables streamed, strings wrapped as {"message": s}. `headers` is a flat
 * [name, value, ...] list handed to writeHead with the content headers (cheaper than setHeader per header; headers
 * set earlier with setHeader are merged by node).
 */
export async function sendResult(res: ServerResponse, status: number, result: unknown, format: Format, headers: string[] = []): Promise<void> {
  if (typeof result === 'string') result = { message: result };
  if (result === undefined) result = null;
  headers.push('Content-Type', TYPES[format]);
  if (format === 'csv') headers.push('Content-Disposition', 'attachment; filename="data.csv"');
  if (isIterable(result)) {
    // Take the first item before the status line goes out: lazy searches plan (and may fail) on first use, and an
    // error after the headers can only be reported by cutting the connection.
    const iterator = result[Symbol.iterator]();
    const first = iterator.next();
    if (format === 'json') return sendJsonArray(res, status, headers, first, iterator);
    res.writeHead(status, headers);
    await streamIterable(res, withFirst(first, iterator), format);
    res.end();
    return;
  }
  let body: string | Buffer;
  switch (format) {
    case 'json': body = toJson(result); break;
    case 'cbor': body = encodeCbor(result); break;
    case 'msgpack': body = pack(result); break;
    case 'csv': body = toCsv(Array.isArray(result) ? result : [result]); break;
  }
  headers.push('Content-Length', String(Buffer.byteLength(body)));
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * `first`, then the rest of `rest`. Generators that run per request are module-level functions: a generator function
 * created per request (a closure) gives its objects a new hidden class each time, so every access to them missed
 * V8's caches (a runtime call each) and creating them was a runtime call too.
 */
export function* withFirst<T>(first: IteratorResult<T>, rest: Iterator<T>): Generator<T> {
  for (let r = first; !r.done; r = rest.next()) yield r.value;
}

function toCsv(rows: unknown[]): string {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) if (r && typeof r === 'object') for (const k of Object.keys(r)) if (!seen.has(k)) { seen.add(k); columns.push(k); }
  const cell = (v: unknown) => (v !== null && typeof v === 'object' ? toJson(v) : v);
  return csvStringify(rows.map((r) => columns.map((c) => cell((r as any)?.[c]))), { header: true, columns });
}

async function streamIterable(res: ServerResponse, it: Iterable<unknown>, format: Format): Promise<void> {
  if (format === 'json') {
    let first = true;
    let buf = '[';
    for (const v of it) {
      buf += (first ? '' : ',') + toJson(v);
      first = false;
      if (buf.length > 65536) { const p = write(res, buf); buf = ''; if (p) await p; }
    }
    buf += ']';
    await write(res, buf);
  } else if (format === 'cbor') {
    await write(res, Buffer.from([0x9f])); // indefinite-length array
    for (const v of it) { const p = write(res, encodeCbor(v)); if (p) await p; }
    await write(res, Buffer.from([0xff]));
  } else if (format === 'msgpack') {
    for (const v of it) { const p = write(res, pack(v)); if (p) await p; } // a sequence of values
  } else {
    // CSV needs the column set: collect (bounded by the result) then write
    await write(res, toCsv([...it]));
  }
}
