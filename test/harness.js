// Black-box test harness: starts a real `weft run` process in a temp root on free ports and talks HTTP to it.
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = path.resolve(here, '../bin/weft.js');
export const ADMIN = { username: 'admin', password: 'test-pass' };

export function tempRoot(prefix = 'weft-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Start a server. Resolves once it printed `successfully started`.
 * `app` is an application folder passed right after `run` (`weft run <app>`); `command: 'dev'` runs `weft dev`.
 * `threads: null` leaves THREADS_COUNT unset (the server computes it); a flag in `args` replaces the default one.
 * @param {{threads?: number|null, env?: Record<string,string>, args?: string[], root?: string, fresh?: boolean, app?: string, command?: string}} [opts]
 */
export async function startServer(opts = {}) {
  const root = opts.root ?? tempRoot();
  // Defaults for flags the caller did not give (a flag given twice would reach the server as an array).
  const given = new Set((opts.args ?? []).map((a) => /^--([^=]+)/.exec(a)?.[1]?.toUpperCase()).filter(Boolean));
  const defaults = [
    ...(opts.threads === null ? [] : [`--THREADS_COUNT=${opts.threads ?? 1}`]),
    '--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0', '--HTTP_PORT=127.0.0.1:0', '--LOGGING_LEVEL=warn',
  ].filter((a) => !given.has(/^--([^=]+)/.exec(a)[1]));
  const args = [BIN, opts.command ?? 'run', ...(opts.app ? [opts.app] : []), `--ROOTPATH=${root}`, ...defaults, ...(opts.args ?? [])];
  const env = {
    ...process.env, HDB_ADMIN_USERNAME: ADMIN.username, HDB_ADMIN_PASSWORD: ADMIN.password, WEFT_TEST_HOOKS: '1',
    ...(opts.env ?? {}),
  };
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (c) => { output += c; });
  proc.stderr.on('data', (c) => { output += c; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${output}`)), 30_000);
    const check = () => {
      if (output.includes('successfully started')) { clearTimeout(timer); resolve(); }
    };
    proc.stdout.on('data', check);
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  const listening = /Listening:\s+(.*)/.exec(output)?.[1] ?? '';
  const portOf = (name) => Number(new RegExp(`${name}: (?:[^,]*:)?(\\d+)`).exec(listening)?.[1]);
  const server = {
    pid: proc.pid,
    root, proc,
    get output() { return output; },
    opsPort: portOf('operations'),
    httpPort: portOf('http'),
    get opsUrl() { return `http://127.0.0.1:${server.opsPort}/`; },
    get httpUrl() { return `http://127.0.0.1:${server.httpPort}/`; },
    /** POST an operation. Returns {status, body, headers}. */
    async op(body, { auth = ADMIN, headers = {}, raw } = {}) {
      const h = { 'Content-Type': 'application/json', ...headers };
      if (auth) h.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      const res = await fetch(server.opsUrl, { method: 'POST', headers: h, body: raw ?? JSON.stringify(body) });
      const text = await res.text();
      let parsed = text;
      try { parsed = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    /** Stop with SIGTERM and wait for exit; returns the exit code. */
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill9() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
    /** A request to the application (REST) port. Returns {status, headers, text, json, bytes}. */
    async rest(method, urlPath, { body, headers = {}, auth = ADMIN, raw } = {}) {
      const h = { ...headers };
      if (auth) h.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      let payload = raw;
      if (body !== undefined && raw === undefined) {
        payload = JSON.stringify(body);
        h['Content-Type'] ??= 'application/json';
      }
      const res = await fetch(`http://127.0.0.1:${server.httpPort}${urlPath}`, { method, headers: h, body: payload });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      let json;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, headers: res.headers, text, json, bytes };
    },
    cleanup() { fs.rmSync(root, { recursive: true, force: true }); },
  };
  return server;
}

/**
 * POST an operation on a brand-new TCP connection (no keep-alive pool), so each request shows whether a *new*
 * connection is served. Never rejects: network failures come back as {status: 0, error}.
 * @returns {Promise<{status: number, body: any, headers?: import('node:http').IncomingHttpHeaders, error?: string}>}
 */
export function freshOp(port, body, { auth = ADMIN, host = '127.0.0.1', timeoutMs = 10_000 } = {}) {
  const payload = JSON.stringify(body);
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Connection: 'close' };
  if (auth) headers.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  return new Promise((resolve) => {
    const req = http.request({ host, port, method: 'POST', path: '/', agent: false, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (err) => resolve({ status: 0, body: null, error: err.code ?? err.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, body: parsed, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: null, error: err.code ?? err.message }));
    req.end(payload);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes; returns the value or undefined. */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 25 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await sleep(intervalMs);
  }
  return undefined;
}

/** A table permission with the four CRUD flags and no attribute restrictions (role fixtures). */
export const crud = (read, insert, update, del) => ({ read, insert, update, delete: del, attribute_permissions: [] });
