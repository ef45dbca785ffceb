/**
 * The static plugin (spec §5.2): serves the files an application's `static: {files, urlPath}` matched, by the URL
 * path fixed at load (relative to the glob's base directory). Only files in that table are reachable, so `..` or
 * encoded `%2e%2e` in a URL can never name anything else; a symlink is followed only when its target stays inside
 * the glob's base directory. Files are streamed, never read whole. Exported resources take precedence: this is
 * called only for paths no resource matches.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { StaticFile } from '../components/index.js';

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

/**
 * A request handler serving `files`, falling back to `next` for everything else. `/dir` and `/dir/` serve
 * `dir/index.html`.
 */
export function createStaticHandler(files: StaticFile[], next: Handler): Handler {
  if (!files.length) return next;
  const byUrl = new Map<string, StaticFile>();
  for (const f of files) if (!byUrl.has(f.url)) byUrl.set(f.url, f);
  return (req, res) => {
    const key = urlKey(req.url ?? '/');
    const hit = key === null ? undefined : byUrl.get(key) ?? byUrl.get(key ? `${key}/index.html` : 'index.html');
    if (!hit) return next(req, res);
    serve(req, res, hit).catch(() => {
      if (!res.headersSent) next(req, res);
      else res.destroy();
    });
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, hit: StaticFile): Promise<void> {
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
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeOf(hit.file), ETag: etag, 'Last-Modified': st.mtime.toUTCString(),
    };
    if (notModified(req, etag, st.mtime)) {
      res.writeHead(304, headers).end();
      return;
    }
    headers['Content-Length'] = st.size;
    if (method === 'HEAD') {
      res.writeHead(200, headers).end();
      return;
    }
    res.writeHead(200, headers);
    if (st.size === 0) { res.end(); return; }
    // bounded to the stat'ed size: a file growing while it is sent must not overrun Content-Length
    const stream = fh.createReadStream({ autoClose: false, start: 0, end: st.size - 1 });
    await pipeline(stream, res);
  } finally {
    await fh.close().catch(() => {});
  }
}
