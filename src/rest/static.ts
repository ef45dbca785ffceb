/**
 * The static plugin (spec §5.2): serves the files an application's `static: {files, urlPath}` matches, relative to
 * the glob's base directory, resolved against the folder on every request. A URL with `.`/`..` segments (also
 * encoded), NUL or a backslash is refused before it reaches the file system, a file must match the glob, and a
 * symlink is followed only when its target stays inside the glob's base directory. Files are streamed, never read
 * whole; single byte ranges are honoured (206/416). Exported resources take precedence: this is called only for
 * paths no resource matches.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { StaticMount } from '../components/index.js';
import { acceptsBrotli, brotliStream } from './compress.js';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', htm: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8', mjs: 'text/javascript; charset=utf-8', cjs: 'text/javascript; charset=utf-8',
  json: 'application/json; charset=utf-8', map: 'application/json; charset=utf-8', txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8', csv: 'text/csv; charset=utf-8', xml: 'application/xml; charset=utf-8',
  svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', ico: 'image/x-icon', bmp: 'image/bmp', woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf',
  otf: 'font/otf', eot: 'application/vnd.ms-fontobject', pdf: 'application/pdf', wasm: 'application/wasm',
  mp4: 'video/mp4', webm: 'video/webm', mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg',
  zip: 'application/zip', gz: 'application/gzip', webmanifest: 'application/manifest+json',
};

export function contentTypeOf(file: string): string {
  return TYPES[path.extname(file).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The decoded URL path without its leading slash, or null when it is malformed or has `.`/`..` segments. */
function urlKey(url: string): string | null {
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  let p: string;
  try { p = decodeURIComponent(raw); } catch { return null; }
  if (p.includes('\0') || p.includes('\\')) return null;
  const segs = p.split('/');
  if (segs.some((s) => s === '..' || s === '.')) return null;
  return segs.filter((s) => s).join('/');
}

function etagOf(st: fs.Stats): string {
  return `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

function notModified(req: IncomingMessage, etag: string, mtime: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    return inm.split(',').some((t) => { const v = t.trim(); return v === '*' || v === etag || `W/${v}` === etag; });
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) * 1000 <= since;
}

/** Inside `base` once links are resolved (a link to outside the base directory is refused). */
async function realInside(file: string, base: string): Promise<string | null> {
  try {
    const [real, realBase] = await Promise.all([fs.promises.realpath(file), fs.promises.realpath(base)]);
    return real.startsWith(realBase + path.sep) ? real : null;
  } catch {
    return null;
  }
}

/** Where a URL key names an existing file in one of the mounts, or undefined. */
async function resolve(mounts: StaticMount[], key: string): Promise<{ file: string; base: string } | undefined> {
  for (const m of mounts) {
    let rel: string;
    if (m.urlPath === '') rel = key;
    else if (key === m.urlPath) rel = '';
    else if (key.startsWith(m.urlPath + '/')) rel = key.slice(m.urlPath.length + 1);
    else continue;
    for (const cand of rel ? [rel, `${rel}/index.html`] : ['index.html']) {
      // the same files a listing of the folder would have offered: no dot-files, nothing under node_modules
      if (cand.split('/').some((seg) => seg.startsWith('.') || seg === 'node_modules')) continue;
      const relApp = m.base ? `${m.base}/${cand}` : cand;
      if (!m.pattern.test(relApp)) continue;
      const file = path.join(m.appPath, relApp);
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (st?.isFile()) return { file, base: path.join(m.appPath, m.base) };
    }
  }
  return undefined;
}

export interface StaticOptions {
  /** Bodies of compressible types larger than this are sent with Brotli to clients accepting it (0 = never). */
  compressionThreshold?: number;
}

/**
 * A request handler serving the mounts' files, falling back to `next` for everything else. Each request is resolved
 * against the folder, so files added after start are served and removed ones are not. `/dir` and `/dir/` serve
 * `dir/index.html`.
 */
export function createStaticHandler(mounts: StaticMount[], next: Handler, opts: StaticOptions = {}): Handler {
  if (!mounts.length) return next;
  return (req, res) => {
    const key = urlKey(req.url ?? '/');
    if (key === null) return next(req, res);
    resolve(mounts, key).then((hit) => {
      if (!hit) return next(req, res);
      return serve(req, res, hit, opts);
    }).catch(() => {
      if (!res.headersSent) next(req, res);
      else res.destroy();
    });
  };
}

type Range = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * One `bytes=` range of a file of `size` bytes (RFC 9110 §14.1.2), inclusive. null = serve the whole file: no or a
 * malformed Range header (a syntactically invalid Range is ignored) or several ranges (refused by sending the whole
 * file, which the RFC allows).
 */
export function parseRange(header: string | undefined, size: number): Range {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** If-Range: the range applies only while the client's validator is still current. */
function ifRangeHolds(req: IncomingMessage, etag: string, mtime: Date): boolean {
  const v = req.headers['if-range'];
  if (typeof v !== 'string') return true;
  if (v.startsWith('"') || v.startsWith('W/')) return false; // weak validators never match (RFC 9110 §13.1.5)
  const d = Date.parse(v);
  return !Number.isNaN(d) && Math.floor(mtime.getTime() / 1000) * 1000 === d;
}

const COMPRESSIBLE = /^(text\/|application\/(json|javascript|xml|manifest\+json|wasm)|image\/svg\+xml)/;

async function serve(req: IncomingMessage, res: ServerResponse, hit: { file: string; base: string }, opts: StaticOptions): Promise<void> {
  res.setHeader('Server', 'HarperDB');
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    const body = '{"error":"Method not allowed"}';
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
    req.resume();
    return;
  }
  const real = await realInside(hit.file, hit.base);
  if (!real) throw new Error('outside the static base');
  // the opened descriptor is what is stat'ed and streamed, so a file swapped after the check is not served
  const fh = await fs.promises.open(real, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('not a file');
    const etag = etagOf(st);
    const type = contentTypeOf(hit.file);
    const threshold = opts.compressionThreshold ?? 0;
    const compressible = threshold > 0 && COMPRESSIBLE.test(type);
    const headers: Record<string, string | number> = {
      'Content-Type': type, ETag: etag, 'Last-Modified': st.mtime.toUTCString(), 'Accept-Ranges': 'bytes',
    };
    if (compressible) headers.Vary = 'Accept-Encoding';
    if (notModified(req, etag, st.mtime)) {
      delete headers['Accept-Ranges'];
      res.writeHead(304, headers).end();
      return;
    }
    const range = ifRangeHolds(req, etag, st.mtime) ? parseRange(req.headers.range, st.size) : null;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${st.size}`, 'Content-Length': 0 }).end();
      return;
    }
    let status = 200;
    let start = 0;
    let end = st.size - 1;
    if (range) {
      status = 206;
      ({ start, end } = range);
      headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    }
    const length = end - start + 1;
    const brotli = !range && compressible && length > threshold && method === 'GET' && acceptsBrotli(req);
    if (brotli) headers['Content-Encoding'] = 'br';
    else headers['Content-Length'] = length;
    if (method === 'HEAD') {
      res.writeHead(status, headers).end();
      return;
    }
    res.writeHead(status, headers);
    if (length === 0) { res.end(); return; }
    // bounded to the stat'ed size: a file growing while it is sent must not overrun Content-Length
    const stream = fh.createReadStream({ autoClose: false, start, end });
    if (brotli) await pipeline(stream, brotliStream(), res);
    else await pipeline(stream, res);
  } finally {
    await fh.close().catch(() => {});
  }
}
