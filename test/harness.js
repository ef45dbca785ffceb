// Black-box test harness: starts a real `weft run` process in a temp root on free ports and talks HTTP to it.
import { spawn } from 'node:child_process';
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
 * `app` is an application folder passed right after `run` (`weft run <app>`).
 * @param {{threads?: number, env?: Record<string,string>, args?: string[], root?: string, fresh?: boolean, app?: string}} [opts]
 */
export async function startServer(opts = {}) {
  const root = opts.root ?? tempRoot();
  const args = [
    BIN, 'run', ...(opts.app ? [opts.app] : []), `--ROOTPATH=${root}`, `--THREADS_COUNT=${opts.threads ?? 1}`,
    '--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0', '--HTTP_PORT=127.0.0.1:0', '--LOGGING_LEVEL=warn',
    ...(opts.args ?? []),
  ];
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
