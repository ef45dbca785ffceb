/** Reading and decoding request bodies: size limit enforced while streaming, JSON depth checked before parsing. */
import type { IncomingMessage } from 'node:http';
import { decode as decodeCbor } from 'cbor-x';
import { unpack } from 'msgpackr';
import { weftError } from '../errors/index.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(weftError('BODY_TOO_LARGE', limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(weftError('BODY_TOO_LARGE', limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Depth of the deepest array/object nesting in JSON text (strings skipped). Stops early past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash escapes the next char
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) { if (++depth > limit) return true; }
    else if (c === 125 || c === 93) depth--;
  }
  return false;
}

function valueDepthExceeds(v: unknown, limit: number, depth = 0): boolean {
  if (depth > limit) return true;
  if (v && typeof v === 'object') {
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (valueDepthExceeds(x, limit, depth + 1)) return true;
  }
  return false;
}

export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Decode a body by Content-Type (JSON default; CBOR; MessagePack). Other types -> 415. */
export function decodeBody(buf: Buffer, contentType: string | undefined, maxDepth: number): unknown {
  const type = mediaType(contentType);
  if (type === 'application/cbor' || type === 'application/x-msgpack' || type === 'application/msgpack') {
    if (buf.length === 0) throw weftError('INVALID_JSON');
    let v: unknown;
    try { v = type === 'application/cbor' ? decodeCbor(buf) : unpack(buf); } catch (e) { throw weftError('JSON_PARSE', (e as Error).message); }
    if (valueDepthExceeds(v, maxDepth)) throw weftError('JSON_TOO_DEEP', maxDepth);
    return v;
  }
  if (type === 'text/plain') return buf.toString('utf8'); // a string: fails as Invalid JSON (spec §2.3)
  if (type && type !== 'application/json' && !type.endsWith('+json') && type !== '*/*') {
    throw weftError('UNSUPPORTED_MEDIA_TYPE', contentType ?? '');
  }
  if (buf.length === 0) {
    if (type === 'application/json') throw weftError('EMPTY_JSON_BODY');
    throw weftError('INVALID_JSON');
  }
  const text = buf.toString('utf8');
  if (jsonDepthExceeds(text, maxDepth)) throw weftError('JSON_TOO_DEEP', maxDepth);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw weftError('JSON_PARSE', (e as Error).message);
  }
}
