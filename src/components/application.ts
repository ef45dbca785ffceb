/**
 * Reading an application folder (spec §5.2): its config.yaml (or the default plugin set) and the schema files
 * its graphqlSchema plugin matches. Pure file reading: no storage, no module loading.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseSchema, type TableSpec } from './schema.js';
import { importableResourceFile } from './typescript.js';

export interface ApplicationConfig {
  rest: boolean;
  /** `rest: {lastModified: true}`: REST responses with a record version carry Last-Modified (spec §4.1). */
  lastModified: boolean;
  graphqlSchema: string[] | null;
  jsResource: string[] | null;
  /** `graphql: true`: the app's exported tables are queryable at /graphql (spec §4.10). */
  graphql: boolean;
  /** The roles plugin's files (default `roles.yaml`), or null when a config.yaml leaves it out (spec §5.2). */
  roles: string[] | null;
  /** The static plugin's entries (spec §5.2): files served relative to their glob's base directory. */
  static: StaticSpec[];
}

export interface StaticSpec {
  files: string[];
  /** URL prefix without leading or trailing slash ('' = the root). */
  urlPath: string;
}

/** One file the static plugin serves: `url` has no leading slash; `base` is the glob's base directory. */
export interface StaticFile {
  url: string;
  file: string;
  base: string;
}

export interface Application {
  name: string;
  path: string;
  config: ApplicationConfig;
  tables: TableSpec[];
  /** Files matched by jsResource, absolute (a .ts file is replaced by its transpiled sibling, typescript.ts). */
  resourceFiles: string[];
}

const DEFAULT_CONFIG: ApplicationConfig = { rest: true, lastModified: false, graphqlSchema: ['*.graphql'], jsResource: ['resources.js', 'resources.ts'], graphql: false, roles: ['roles.yaml'],
  static: [{ files: ['web/**'], urlPath: '' }],
};

function filesOption(v: unknown): string[] | null {
  if (v === undefined || v === null || v === false) return null;
  if (v === true) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'object') return filesOption((v as Record<string, unknown>).files ?? true);
  return null;
}

export function readApplicationConfig(dir: string): ApplicationConfig {
  const file = path.join(dir, 'config.yaml');
  if (!fs.existsSync(file)) return DEFAULT_CONFIG;
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8')) ?? {};
  } catch (e) {
    throw new Error(`Error parsing ${file}: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file} must be a YAML mapping of plugin names to options`);
  const r = raw as Record<string, unknown>;
  // A present config.yaml replaces the default entirely (spec §5.2).
  return {
    rest: r.rest !== undefined && r.rest !== null && r.rest !== false,
    lastModified: typeof r.rest === 'object' && r.rest !== null && (r.rest as Record<string, unknown>).lastModified === true,
    graphqlSchema: r.graphqlSchema === undefined ? null : filesOption(r.graphqlSchema) ?? null,
    jsResource: r.jsResource === undefined ? null : filesOption(r.jsResource) ?? null,
    graphql: r.graphql !== undefined && r.graphql !== null && r.graphql !== false,
    roles: r.roles === undefined ? null : filesOption(r.roles === true ? { files: 'roles.yaml' } : r.roles) ?? null,
    static: staticOption(r.static, path.basename(dir), file),
  };
}

/**
 * `static: {files, urlPath?}` (or a list of such). A `urlPath` starting with `.` is relative to the application's
 * name (`.` = `/<app>`, `./x` = `/<app>/x`), as in Harper.
 */
function staticOption(v: unknown, appName: string, file: string): StaticSpec[] {
  if (v === undefined || v === null || v === false) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((entry) => {
    const o = (typeof entry === 'string' ? { files: entry } : entry) as Record<string, unknown>;
    const files = filesOption(o?.files);
    if (!o || typeof o !== 'object' || !files?.length) throw new Error(`${file}: static needs files (a glob or a list of globs)`);
    if (o.urlPath !== undefined && typeof o.urlPath !== 'string') throw new Error(`${file}: static.urlPath must be a string`);
    let url = (o.urlPath as string | undefined) ?? '';
    if (url === '.' || url.startsWith('./')) url = appName + url.slice(1);
    url = url.split('/').filter((s) => s).join('/');
    if (url.split('/').some((s) => s === '..' || s === '.')) throw new Error(`${file}: static.urlPath may not contain . or .. segments`);
    return { files, urlPath: url };
  });
}

/** The directory part of a glob before its first wildcard segment (`web/**` -> `web`, `*.html` -> ''). */
export function globBase(glob: string): string {
  const parts = glob.replace(/^\.\//, '').split('/');
  const out: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (/[*?[{]/.test(p)) break;
    out.push(p);
  }
  return out.join('/');
}

/**
 * The files the static plugin serves, by URL path. A glob without wildcards naming a directory serves that
 * directory's tree. The first entry (and first application) to claim a URL keeps it.
 */
export function staticFiles(app: Application): StaticFile[] {
  const out: StaticFile[] = [];
  for (const spec of app.config.static) {
    for (let glob of spec.files) {
      glob = glob.replace(/^\.\//, '').replace(/\/+$/, '');
      if (!/[*?]/.test(glob) && fs.statSync(path.join(app.path, glob), { throwIfNoEntry: false })?.isDirectory()) glob += '/**';
      const base = globBase(glob);
      const baseAbs = path.join(app.path, base);
      for (const file of matchFiles(app.path, [glob])) {
        const rel = path.relative(baseAbs, file).split(path.sep).join('/');
        if (rel.startsWith('..')) continue;
        out.push({ url: spec.urlPath ? `${spec.urlPath}/${rel}` : rel, file, base: baseAbs });
      }
    }
  }
  return out;
}

/** Glob -> RegExp for paths relative to the app folder: `**` any depth, `*` and `?` within a segment. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  const g = glob.replace(/^\.\//, '');
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*' && g[i + 1] === '*') {
      i++;
      if (g[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

export function matchFiles(dir: string, globs: string[]): string[] {
  if (!globs.length) return [];
  const res = globs.map(globToRegExp);
  return walk(dir).filter((f) => res.some((re) => re.test(f))).sort().map((f) => path.join(dir, f));
}

/** Read an application folder. Throws with a readable message when its config or schema is broken. */
export function readApplication(dir: string, warn: (msg: string) => void = () => {}): Application {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new Error(`The application folder ${dir} does not exist`);
  const config = readApplicationConfig(abs);
  const tables: TableSpec[] = [];
  for (const file of matchFiles(abs, config.graphqlSchema ?? [])) {
    tables.push(...parseSchema(fs.readFileSync(file, 'utf8'), path.relative(abs, file), warn));
  }
  const seen = new Map<string, TableSpec>();
  for (const t of tables) {
    const key = `${t.database}.${t.table}`;
    if (seen.has(key)) throw new Error(`Table ${key} is declared twice (${seen.get(key)!.typeName} and ${t.typeName})`);
    seen.set(key, t);
  }
  return { name: path.basename(abs), path: abs, config, tables, resourceFiles: matchFiles(abs, config.jsResource ?? []).map(importableResourceFile) };
}

/** Application folders under componentsRoot (each subfolder with a config.yaml, schema, resources file or web/ folder). */
export function componentFolders(componentsRoot: string): string[] {
  if (!fs.existsSync(componentsRoot)) return [];
  return fs.readdirSync(componentsRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .map((e) => path.join(componentsRoot, e.name))
    .filter((d) => ['config.yaml', 'schema.graphql', 'resources.js', 'resources.ts', 'web'].some((f) => fs.existsSync(path.join(d, f))))
    .sort();
}
