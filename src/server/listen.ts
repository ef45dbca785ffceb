/**
 * Listening sockets and descriptors for the serving threads. The main thread binds and listens once per address
 * (reservePort) and keeps the socket for the life of the process, restarts included, so ports stay the same. It
 * accepts without reading (the supervisor) and hands each worker its own dup of an accepted connection (dupFd);
 * listenShared serves a listening fd directly (threads.count 0, tests). Node cannot dup a descriptor, hence the tiny
 * native addon (native/sockets.c).
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:net';

interface SocketAddon {
  bindSocket(host: string, port: number): [number, number];
  closeFd(fd: number): void;
  listenFd(fd: number, backlog: number): void;
  dupFd(fd: number): number;
}

const require = createRequire(import.meta.url);
let addon: SocketAddon | undefined;
function loadAddon(): SocketAddon {
  addon ??= require('../../build/Release/sockets.node') as SocketAddon;
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

/** Bind (exclusively: a port someone holds is EADDRINUSE) and listen; returns the listening fd and the real port. */
export async function reservePort(host: string, port: number): Promise<{ host: string; port: number; fd: number }> {
  let lastErr: unknown;
  for (const h of defaultHosts(host)) {
    try {
      const [fd, actual] = loadAddon().bindSocket(h, port);
      try { loadAddon().listenFd(fd, 511); } catch (e) { loadAddon().closeFd(fd); throw e; }
      return { host: h, port: actual, fd };
    } catch (e) {
      lastErr = e;
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') break;
    }
  }
  throw lastErr;
}

/** Close a descriptor that no Node handle owns: a reserved listening socket, or a handed-over connection nobody adopted. */
export function closeFd(fd: number): void {
  loadAddon().closeFd(fd);
}

/** A private descriptor of the same socket: closing either leaves the other (and the connection) open. */
export function dupFd(fd: number): number {
  return loadAddon().dupFd(fd);
}

/** Make `server` accept from the shared listening socket `fd` (from reservePort) alongside the other workers. */
export function listenShared(server: Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const own = loadAddon().dupFd(fd);
    const fail = (err: Error) => { loadAddon().closeFd(own); reject(err); };
    server.once('error', fail);
    server.listen({ fd: own }, () => { server.off('error', fail); resolve(); });
  });
}
