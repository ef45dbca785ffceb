/**
 * The dataLoader plugin (spec §5.2): JSON or YAML files `{database, table, records: [...]}`, one table per file,
 * upserted on start and deploy. Runs on the main thread only (once per process, not once per worker). The content
 * hash of each loaded file is kept in the target database (`__dataloader__` store), so a restart with the same file
 * does not write again and an edited file is loaded once more. A bad file is reported and skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import type { LmdbStorage, Rec } from '../storage/index.js';
import type { Application } from './application.js';
import { pluginFiles } from './env.js';

export type Upsert = (database: string, table: string, records: Rec[]) => Promise<number>;

export interface DataLoadResult {
  loaded: Array<{ file: string; database: string; table: string; records: number }>;
  unchanged: string[];
  errors: string[];
}

const STORE = '__dataloader__';

function parseDataFile(file: string, text: string): { database: string; table: string; records: Rec[] } {
  const ext = path.extname(file).toLowerCase();
  let v: unknown;
  try {
    if (ext === '.json') v = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') v = YAML.parse(text);
    else throw new Error('a data file must be .json, .yaml or .yml');
  } catch (err) {
    throw new Error(`it can not be parsed: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('it must hold an object {database, table, records}');
  const o = v as Record<string, unknown>;
  if (o.database !== undefined && (typeof o.database !== 'string' || !o.database)) throw new Error("'database' must be a non-empty string");
  if (typeof o.table !== 'string' || !o.table) throw new Error("'table' is required and must be a non-empty string");
  if (!Array.isArray(o.records)) throw new Error("'records' is required and must be an array");
  const bad = o.records.findIndex((r) => !r || typeof r !== 'object' || Array.isArray(r));
  if (bad >= 0) throw new Error(`record ${bad} is not an object`);
  return { database: (o.database as string | undefined) ?? 'data', table: o.table, records: o.records as Rec[] };
}

export async function loadData(app: Application, storage: LmdbStorage, upsert: Upsert): Promise<DataLoadResult> {
  const result: DataLoadResult = { loaded: [], unchanged: [], errors: [] };
  if (!app.config.dataLoader) return result;
  for (const file of pluginFiles(app, app.config.dataLoader.files)) {
    const rel = path.relative(app.path, file).split(path.sep).join('/');
    try {
      const text = fs.readFileSync(file, 'utf8');
      const { database, table, records } = parseDataFile(file, text);
      const db = storage.database(database);
      if (!db?.table(table)) throw new Error(`the table ${database}.${table} does not exist (declare it in the schema)`);
      const hash = createHash('sha256').update(text).digest('hex');
      const store = db.env.openDB<{ hash: string }, string>({ name: STORE, encoding: 'msgpack' });
      const key = `${app.name}/${rel}:${table}`;
      if (store.get(key)?.hash === hash) { result.unchanged.push(rel); continue; }
      const n = records.length ? await upsert(database, table, records) : 0;
      // after the records committed: a crash in between loads the (idempotent) upsert once more
      await store.put(key, { hash });
      result.loaded.push({ file: rel, database, table, records: n });
    } catch (err) {
      result.errors.push(`Error loading data file ${rel} of ${app.name}: ${(err as Error).message}`);
    }
  }
  return result;
}
