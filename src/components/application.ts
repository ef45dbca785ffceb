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
  graphqlSchema: string[] | null;
  jsResource: string[] | null;
  /** `graphql: true`: the app's exported tables are queryable at /graphql (spec §4.10). */
  graphql: boolean;
  /** The roles plugin's files (default `roles.yaml`), or null when a config.yaml leaves it out (spec §5.2). */
  roles: string[] | null;
}

export interface Application {
  name: string;
  path: string;
  config: ApplicationConfig;
  tables: TableSpec[];
  /** Files matched by jsResource, absolute (a .ts file is replaced by its transpiled sibling, typescript.ts). */
  resourceFiles: string[];
}

const DEFAULT_CONFIG: ApplicationConfig = { rest: true, graphqlSchema: ['*.graphql'], jsResource: ['resources.js', 'resources.ts'], graphql: false, roles: ['roles.yaml'] };

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
    graphqlSchema: r.graphqlSchema === undefined ? null : filesOption(r.graphqlSchema) ?? null,
    jsResource: r.jsResource === undefined ? null : filesOption(r.jsResource) ?? null,
    graphql: r.graphql !== undefined && r.graphql !== null && r.graphql !== false,
    roles: r.roles === undefined ? null : filesOption(r.roles === true ? { files: 'roles.yaml' } : r.roles) ?? null,
  };
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

/** Application folders under componentsRoot (each subfolder with a config.yaml, schema or resources file). */
export function componentFolders(componentsRoot: string): string[] {
  if (!fs.existsSync(componentsRoot)) return [];
  return fs.readdirSync(componentsRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .map((e) => path.join(componentsRoot, e.name))
    .filter((d) => ['config.yaml', 'schema.graphql', 'resources.js', 'resources.ts'].some((f) => fs.existsSync(path.join(d, f))))
    .sort();
}
