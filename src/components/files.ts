/**
 * The files of components under componentsRoot (spec §2.14): listing, reading and writing single files, dropping,
 * packaging (tar, never following symlinks or entering node_modules) and deploying a tar payload. A deploy is
 * extracted into a hidden staging folder, checked (config and schema must load), and only then switched into
 * place by rename, so a broken or half-extracted payload never replaces a working component. Every project and
 * file name is checked to stay inside componentsRoot: `..`, absolute paths and links in payloads are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as Tar from 'tar';

/** tar is only needed to package or deploy a component: loaded then, not at every thread's start. */
let tarModule: Promise<typeof Tar> | undefined;
const loadTar = () => (tarModule ??= import('tar'));
import { weftError } from '../errors/index.js';
import { readApplication } from './application.js';

const PROJECT = /^[A-Za-z0-9_-]+$/;
const MAX_ENTRIES = 100_000;

export function checkProject(project: unknown): string {
  if (typeof project !== 'string' || !project) throw weftError('FIELD_REQUIRED', 'project');
  if (!PROJECT.test(project)) throw weftError('COMPONENT_PROJECT_NAME');
  return project;
}

/** `<root>/<project>/<file>`, refusing anything that would leave the project folder. */
export function projectPath(root: string, project: string, file?: unknown): string {
  const dir = path.join(path.resolve(root), checkProject(project));
  if (file === undefined || file === null || file === '') return dir;
  if (typeof file !== 'string') throw weftError('FIELD_TYPE', 'file', 'a string');
  const parts = file.split(/[\\/]+/);
  if (path.isAbsolute(file) || parts.some((p) => p === '..') || file.includes('\0')) throw weftError('COMPONENT_BAD_PATH', file);
  const full = path.resolve(dir, file);
  if (full !== dir && !full.startsWith(dir + path.sep)) throw weftError('COMPONENT_BAD_PATH', file);
  return full;
}

interface Entry { name: string; mtime?: string; size?: number; entries?: Entry[] }

function listDir(dir: string): Entry[] {
  const out: Entry[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push({ name: e.name, entries: listDir(full) });
    else if (e.isFile()) {
      const st = fs.statSync(full);
      out.push({ name: e.name, mtime: st.mtime.toISOString(), size: st.size });
    }
  }
  return out;
}

export function listComponents(root: string, status: (project: string) => Record<string, unknown>): Record<string, unknown> {
  const entries: Array<Record<string, unknown>> = [];
  if (fs.existsSync(root)) {
    for (const e of fs.readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'node_modules') continue;
      entries.push({ name: e.name, status: status(e.name), entries: listDir(path.join(root, e.name)) });
    }
  }
  return { name: 'components', entries };
}

export function readComponentFile(root: string, project: string, file: string, encoding: BufferEncoding) {
  const full = projectPath(root, project, file);
  const st = fs.statSync(full, { throwIfNoEntry: false });
  if (!st?.isFile()) throw weftError('COMPONENT_FILE_NOT_FOUND', project, file);
  return { message: fs.readFileSync(full).toString(encoding), size: st.size, birthtime: st.birthtime.toISOString(), mtime: st.mtime.toISOString() };
}

export function writeComponentFile(root: string, project: string, file: string, payload: string | Uint8Array | undefined, encoding: BufferEncoding): void {
  const full = projectPath(root, project, file);
  if (full === projectPath(root, project)) throw weftError('FIELD_REQUIRED', 'file');
  if (payload === undefined) { fs.mkdirSync(full, { recursive: true }); return; }
  fs.mkdirSync(path.dirname(full), { recursive: true });
  // written beside and renamed, so a reader (or a restarting worker) never sees half a file
  const tmp = path.join(path.dirname(full), `.${path.basename(full)}.${randomUUID()}.tmp`);
  fs.writeFileSync(tmp, typeof payload === 'string' ? Buffer.from(payload, encoding) : payload);
  fs.renameSync(tmp, full);
}

export function dropComponent(root: string, project: string, file?: string): void {
  const full = projectPath(root, project, file);
  if (!fs.existsSync(full)) throw weftError(file ? 'COMPONENT_FILE_NOT_FOUND' : 'COMPONENT_NOT_FOUND', project, file ?? '');
  fs.rmSync(full, { recursive: true, force: true });
}

/**
 * A base64 gzipped tar of the project, without dot-files or symlinks, and never with node_modules (spec §9 item
 * 18: its packages are installed, and the weftdb link points into the server), whatever skip_node_modules says.
 */
export async function packageComponent(root: string, project: string): Promise<string> {
  const dir = projectPath(root, project);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw weftError('COMPONENT_NOT_LOCATED', project);
  const chunks: Buffer[] = [];
  const tar = await loadTar();
  const stream = tar.create({
    cwd: dir, gzip: true, portable: true, follow: false,
    filter: (p, st) => {
      const parts = p.split('/').filter((x) => x && x !== '.');
      if ((st as fs.Stats).isSymbolicLink?.()) return false;
      return !parts.some((x) => x === 'node_modules' || x.startsWith('.'));
    },
  }, ['.']) as unknown as NodeJS.ReadableStream;
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('base64');
}

/**
 * Extract `payload` into a staging folder, check it loads, then switch it in for `<root>/<project>`. Returns the
 * project folder. The old version is removed only after the switch.
 */
export async function deployComponent(root: string, project: string, payload: Buffer): Promise<string> {
  const dir = projectPath(root, project);
  fs.mkdirSync(root, { recursive: true });
  const staging = path.join(path.resolve(root), `.deploy-${project}-${randomUUID()}`);
  fs.mkdirSync(staging);
  try {
    let bad: string | undefined;
    let count = 0;
    const tar = await loadTar();
    const extract = tar.extract({
      cwd: staging, strict: true, preservePaths: false,
      filter: (p, entry) => {
        const type = (entry as Tar.ReadEntry).type;
        const parts = p.split(/[\\/]+/);
        if (++count > MAX_ENTRIES) bad ??= `more than ${MAX_ENTRIES} entries`;
        if (path.isAbsolute(p) || parts.includes('..') || type === 'SymbolicLink' || type === 'Link') bad ??= p;
        return bad === undefined;
      },
    });
    try {
      await pipeline(Readable.from([payload]), extract);
    } catch (e) {
      if (bad) throw weftError('COMPONENT_BAD_PATH', bad);
      throw weftError('COMPONENT_BAD_PAYLOAD', (e as Error).message);
    }
    if (bad) throw weftError('COMPONENT_BAD_PATH', bad);
    // `npm pack` puts everything under package/
    const top = fs.readdirSync(staging);
    let content = staging;
    if (top.length === 1 && top[0] === 'package' && fs.statSync(path.join(staging, 'package')).isDirectory()) content = path.join(staging, 'package');
    try {
      readApplication(content);
    } catch (e) {
      throw weftError('COMPONENT_LOAD', project, (e as Error).message);
    }
    const old = fs.existsSync(dir) ? path.join(path.resolve(root), `.old-${project}-${randomUUID()}`) : undefined;
    if (old) fs.renameSync(dir, old);
    try {
      fs.renameSync(content, dir);
    } catch (e) {
      if (old) fs.renameSync(old, dir);
      throw e;
    }
    if (old) fs.rmSync(old, { recursive: true, force: true });
    return dir;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
