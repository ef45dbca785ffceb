/** All databases under `storage.path`, opened lazily, one Database per name per thread. */
import fs from 'node:fs';
import path from 'node:path';
import { Database } from './database.js';
import { TxnClock } from './clock.js';

export interface StorageOptions {
  path: string;
  clock?: TxnClock;
  writeAsync?: boolean;
  overlappingSync?: boolean;
}

export class LmdbStorage {
  readonly dir: string;
  readonly clock: TxnClock;
  private readonly dbs = new Map<string, Database>();
  private readonly writeAsync: boolean;
  private readonly overlappingSync: boolean;

  constructor(opts: StorageOptions) {
    this.dir = opts.path;
    this.clock = opts.clock ?? new TxnClock();
    this.writeAsync = opts.writeAsync ?? false;
    this.overlappingSync = opts.overlappingSync ?? true;
    fs.mkdirSync(this.dir, { recursive: true });
  }

  fileFor(name: string): string {
    return path.join(this.dir, `${name}.mdb`);
  }

  databaseNames(): string[] {
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.mdb')).map((f) => f.slice(0, -4)).sort();
  }

  hasDatabase(name: string): boolean {
    return this.dbs.has(name) || fs.existsSync(this.fileFor(name));
  }

  database(name: string): Database | undefined {
    const open = this.dbs.get(name);
    if (open) {
      if (fs.existsSync(open.path)) return open;
      // dropped by another thread: forget our handle
      this.dbs.delete(name);
      void open.close();
    }
    if (!fs.existsSync(this.fileFor(name))) return undefined;
    return this.openDatabase(name);
  }

  /** Open (creating the file when needed). */
  openDatabase(name: string): Database {
    let db = this.dbs.get(name);
    if (!db) {
      db = new Database(name, this.fileFor(name), { clock: this.clock, writeAsync: this.writeAsync, overlappingSync: this.overlappingSync });
      this.dbs.set(name, db);
      this.clock.advanceTo(db.lastAuditTime());
    }
    return db;
  }

  async closeDatabase(name: string): Promise<void> {
    const db = this.dbs.get(name);
    this.dbs.delete(name);
    if (db) await db.close();
  }

  /** Delete the files of a database every thread has closed. */
  removeDatabaseFiles(name: string): void {
    for (const f of [this.fileFor(name), `${this.fileFor(name)}-lock`]) fs.rmSync(f, { force: true });
  }

  async close(): Promise<void> {
    const all = [...this.dbs.values()];
    this.dbs.clear();
    await Promise.all(all.map((d) => d.close()));
  }
}
