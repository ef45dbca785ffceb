/**
 * Binding listeners so that every worker thread owns its own socket on the same port (SO_REUSEPORT): the kernel
 * spreads connections across workers and the main thread never touches request bytes. Node 22.12+ does this with
 * `listen({reusePort})`; on Node 20 a tiny native addon (native/reuseport.c) creates the socket.
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import type { Server } from 'node:net';

interface ReusePortAddon {
  bindReusePort(host: string, port: number): [number, number];
  closeFd(fd: number): void;
}

const require = createRequire(import.meta.url);
let addon: ReusePortAddon | undefined;
function loadAddon(): ReusePortAddon {
  addon ??= require('../../build/Release/reuseport.node') as ReusePortAddon;
  return addon;
}

/** Parse `9925`, `"9925"` or `"127.0.0.2:9925"`; null/undefined = disabled. */
export function parsePort(value: unknown): { host: string; port: number } | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return { host: '', port: value };
  const s = String(value).trim();
  const m = /^(?:\[?(.+?)\]?:)?(\d+)$/.exec(s);
  if (!m) throw new Error(`Invalid port: ${s}`);
  return { host: m[1] ?? '', port: Number(m[2]) };
}

function defaultHosts(host: string): string[] {
  return host ? [host] : ['::', '0.0.0.0'];
}

/** Check nobody else (outside this process) holds the port, then reserve it; returns the fd and real port. */
export async function reservePort(host: string, port: number): Promise<{ host: string; port: number; fd: number }> {
  let lastErr: unknown;
  for (const h of defaultHosts(host)) {
    try {
      if (port !== 0) await exclusiveProbe(h, port);
      const [fd, actual] = loadAddon().bindReusePort(h, port);
      return { host: h, port: actual, fd };
    } catch (e) {
      lastErr = e;
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') break;
    }
  }
  throw lastErr;
}

function exclusiveProbe(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve()));
  });
}

export function releasePort(fd: number): void {
  loadAddon().closeFd(fd);
}

/** Make `server` listen on host:port alongside the other workers. */
export function listenShared(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => { server.off('error', reject); resolve(); };
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    if (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)) {
      server.listen({ host, port, reusePort: true } as net.ListenOptions, done);
    } else {
      const [fd] = loadAddon().bindReusePort(host, port);
      server.listen({ fd }, done);
    }
  });
}
