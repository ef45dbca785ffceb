/** All databases under `storage.path`, opened lazily, one Database per name per thread. */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Database } from './database.js';
import { TxnClock } from './clock.js';

/**
 * Names may have 250 characters, but LMDB's lock file `<file>-lock` must fit the 255-byte file-name limit (a longer
 * path made the native open abort the whole process). Longer names get a shortened file name with a hash, and the
 * real name in a `.name` file beside it. Short stems stay <= this length, so the two kinds never collide.
 */
const MAX_PLAIN_STEM = 200;

function fileStem(name: string): string {
  if (Buffer.byteLength(name) <= MAX_PLAIN_STEM) return name;
  return `${name.slice(0, MAX_PLAIN_STEM)}~${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
}

export interface StorageOptions {
  path: string;
  clock?: TxnClock;
  writeAsync?: boolean;
  overlappingSync?: boolean;
  /**
   * The owner calls closeDatabase on this instance before any thread deletes a database's files (the supervisor's
   * close-database message to every worker and the main thread), so an open handle can be trusted without
   * checking the file on every access. Left false where no such message arrives (the background pool).
   */
  closeNotified?: boolean;
}

export class LmdbStorage {
  readonly dir: string;
  readonly clock: TxnClock;
  private readonly dbs = new Map<string, Database>();
  private readonly writeAsync: boolean;
  private readonly overlappingSync: boolean;
  private readonly closeNotified: boolean;

  constructor(opts: StorageOptions) {
    this.dir = opts.path;
    this.clock = opts.clock ?? new TxnClock();
    this.writeAsync = opts.writeAsync ?? false;
    this.overlappingSync = opts.overlappingSync ?? true;
    this.closeNotified = opts.closeNotified ?? false;
    fs.mkdirSync(this.dir, { recursive: true });
  }

  fileFor(name: string): string {
    return path.join(this.dir, `${fileStem(name)}.mdb`);
  }

  private nameFileFor(name: string): string {
    return path.join(this.dir, `${fileStem(name)}.name`);
  }

  databaseNames(): string[] {
    const names: string[] = [];
    for (const f of fs.readdirSync(this.dir)) {
      if (!f.endsWith('.mdb')) continue;
      const stem = f.slice(0, -4);
      if (stem.length <= MAX_PLAIN_STEM) { names.push(stem); continue; }
      try { names.push(fs.readFileSync(path.join(this.dir, `${stem}.name`), 'utf8')); } catch { /* being dropped */ }
    }
    return names.sort();
  }

  hasDatabase(name: string): boolean {
    return this.dbs.has(name) || fs.existsSync(this.fileFor(name));
  }

  database(name: string): Database | undefined {
    const open = this.dbs.get(name);
    if (open) {
      // a stat per request was a visible share of a REST GET; see closeNotified
      if (this.closeNotified || fs.existsSync(open.path)) return open;
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
      if (fileStem(name) !== name && !fs.existsSync(this.nameFileFor(name))) fs.writeFileSync(this.nameFileFor(name), name);
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
    for (const f of [this.fileFor(name), `${this.fileFor(name)}-lock`, this.nameFileFor(name)]) fs.rmSync(f, { force: true });
  }

  async close(): Promise<void> {
    const all = [...this.dbs.values()];
    this.dbs.clear();
    await Promise.all(all.map((d) => d.close()));
  }
}
