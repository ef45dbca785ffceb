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
  /** Options of the rest plugin beyond on/off (`rest: {strictIndexing: true}`). */
  restOptions: { strictIndexing: boolean };
  /** loadEnv (spec §5.2): `.env` files loaded into process.env before the application's modules. */
  loadEnv: { files: string[]; override: boolean } | null;
  /** dataLoader (spec §5.2): JSON/YAML files of records upserted into their table on start and deploy. */
  dataLoader: { files: string[] } | null;
  /** fastifyRoutes (spec §5.2): legacy custom-function route modules, mounted under `urlPath`. */
  fastifyRoutes: { files: string[]; urlPath: string } | null;
}

export interface StaticSpec {
  files: string[];
  /** URL prefix without leading or trailing slash ('' = the root). */
  urlPath: string;
}

/**
 * One static glob of an application, resolved per request (files added or removed after start are served or not
 * without a restart): a URL under `urlPath` names `<base>/<rest>`, served when that path matches `pattern`.
 */
export interface StaticMount {
  /** URL prefix without leading or trailing slash ('' = the root). */
  urlPath: string;
  /** The application folder (the glob is relative to it). */
  appPath: string;
  /** The glob's base directory, relative to the application folder ('' = the folder itself). */
  base: string;
  /** The glob as a RegExp over paths relative to the application folder. */
  pattern: RegExp;
}

export interface Application {
  name: string;
  path: string;
  config: ApplicationConfig;
  tables: TableSpec[];
  /** Files matched by jsResource, absolute (a .ts file is replaced by its transpiled sibling, typescript.ts). */
  resourceFiles: string[];
}

function defaultConfig(appName: string): ApplicationConfig {
  return {
    rest: true, lastModified: false, graphqlSchema: ['*.graphql'], jsResource: ['resources.js', 'resources.ts'], graphql: false, roles: ['roles.yaml'],
    static: [{ files: ['web/**'], urlPath: '' }], restOptions: { strictIndexing: false }, loadEnv: null, dataLoader: null,
    fastifyRoutes: { files: ['routes/*.js'], urlPath: appName },
  };
}

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
  if (!fs.existsSync(file)) return defaultConfig(path.basename(dir));
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
    restOptions: { strictIndexing: typeof r.rest === 'object' && r.rest !== null && (r.rest as Record<string, unknown>).strictIndexing === true },
    loadEnv: r.loadEnv === undefined || r.loadEnv === null || r.loadEnv === false ? null : {
      files: filesOption(r.loadEnv === true ? { files: '.env' } : r.loadEnv) ?? ['.env'],
      override: typeof r.loadEnv === 'object' && (r.loadEnv as Record<string, unknown>).override === true,
    },
    dataLoader: r.dataLoader === undefined || r.dataLoader === null || r.dataLoader === false ? null : { files: filesOption(r.dataLoader) ?? [] },
    fastifyRoutes: r.fastifyRoutes === undefined || r.fastifyRoutes === null || r.fastifyRoutes === false ? null : {
      files: filesOption(r.fastifyRoutes === true ? { files: 'routes/*.js' } : r.fastifyRoutes) ?? [],
      urlPath: urlPathOption((r.fastifyRoutes as Record<string, unknown>).urlPath, path.basename(dir), file, 'fastifyRoutes', path.basename(dir)),
    },
  };
}

/** A plugin's `urlPath` without leading or trailing slash; `.` and `./x` are relative to the application's name. */
function urlPathOption(v: unknown, appName: string, file: string, plugin: string, dflt = ''): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw new Error(`${file}: ${plugin}.urlPath must be a string`);
  let url = v;
  if (url === '.' || url.startsWith('./')) url = appName + url.slice(1);
  url = url.split('/').filter((s) => s).join('/');
  if (url.split('/').some((s) => s === '..' || s === '.')) throw new Error(`${file}: ${plugin}.urlPath may not contain . or .. segments`);
  return url;
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
    return { files, urlPath: urlPathOption(o.urlPath, appName, file, 'static') };
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
 * The static plugin's mounts, in claim order (the first entry, and first application, to have a file for a URL
 * serves it). A glob without wildcards naming a directory serves that directory's tree.
 */
export function staticMounts(app: Application): StaticMount[] {
  const out: StaticMount[] = [];
  for (const spec of app.config.static) {
    for (let glob of spec.files) {
      glob = glob.replace(/^\.\//, '').replace(/\/+$/, '');
      if (!/[*?]/.test(glob) && fs.statSync(path.join(app.path, glob), { throwIfNoEntry: false })?.isDirectory()) glob += '/**';
      out.push({ urlPath: spec.urlPath, appPath: app.path, base: globBase(glob), pattern: globToRegExp(glob) });
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

function walk(dir: string, rel = '', dotFiles = false): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if ((e.name.startsWith('.') && !(dotFiles && e.isFile())) || e.name === 'node_modules') continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r, dotFiles));
    else out.push(r);
  }
  return out;
}

export function matchFiles(dir: string, globs: string[], dotFiles = false): string[] {
  if (!globs.length) return [];
  const res = globs.map(globToRegExp);
  return walk(dir, '', dotFiles).filter((f) => res.some((re) => re.test(f))).sort().map((f) => path.join(dir, f));
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
