/**
 * `transaction(context?, fn)` (spec §5.3): writes made through the table classes while a transaction is active are
 * queued and applied together in one storage transaction per database when `fn` resolves; a throw discards them.
 * Storage transactions are synchronous (LMDB), so an application transaction that awaits in between cannot hold
 * one open: queuing the writes is what makes `await`s inside `fn` possible while keeping all-or-nothing commit.
 * Reads by id through the table classes see the queued writes (read-your-writes).
 *
 * The active transaction is found from the context passed to a static call (`context.transaction`) or, failing
 * that, from async-local storage, so nested calls and calls without a context join the enclosing transaction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Key, LmdbStorage, Rec, WriteTxn } from '../storage/index.js';
import { weftError } from '../errors/index.js';
import { Resource } from './resource.js';

type Op = (txn: WriteTxn) => unknown;

export class Transaction {
  readonly timestamp = Date.now();
  #open = true;
  readonly #ops = new Map<string, Op[]>();
  /** `db\0table` -> JSON key -> the record as written (null = deleted). */
  readonly #overlay = new Map<string, Map<string, Rec | null>>();
  readonly #storage: LmdbStorage;
  readonly #user: string | undefined;

  constructor(storage: LmdbStorage, user?: string) {
    this.#storage = storage;
    this.#user = user;
  }

  get open(): boolean { return this.#open; }

  /** Queue a write; `written` is what reads in this transaction see afterwards. */
  queue(database: string, table: string, id: Key, written: Rec | null, op: Op): void {
    if (!this.#open) throw weftError('VALIDATION', 'The transaction is already committed or aborted');
    const list = this.#ops.get(database) ?? [];
    list.push(op);
    this.#ops.set(database, list);
    const k = `${database}\0${table}`;
    const m = this.#overlay.get(k) ?? new Map<string, Rec | null>();
    m.set(JSON.stringify(id), written);
    this.#overlay.set(k, m);
  }

  /** The record as written in this transaction: a Rec, null (deleted) or undefined (not touched). */
  written(database: string, table: string, id: Key): Rec | null | undefined {
    return this.#overlay.get(`${database}\0${table}`)?.get(JSON.stringify(id));
  }

  /**
   * Apply every queued write, one storage transaction per database (all-or-nothing within a database; writes
   * to several databases commit one database after the other).
   */
  async commit(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    for (const [database, ops] of this.#ops) {
      const db = this.#storage.database(database);
      if (!db) throw weftError('DATABASE_NOT_FOUND', database);
      await db.transact((txn) => { for (const op of ops) op(txn); }, this.#user);
    }
    this.#ops.clear();
  }

  abort(): void {
    this.#open = false;
    this.#ops.clear();
    this.#overlay.clear();
  }

  /** Reads are not snapshotted (each read sees the latest committed state), so there is nothing to reset. */
  resetReadSnapshot(): void {}
}

const als = new AsyncLocalStorage<Transaction>();
/** Runs of `fn` inside `als` not yet settled on this thread. */
let running = 0;

/**
 * `fn` with `txn` as the async flow's transaction. On Node 20 an AsyncLocalStorage turns on async_hooks for the
 * whole thread at its first run and leaves them on: every later request paid for them (a table GET took ~25% more
 * CPU after the worker's first custom-resource request). So the storage is switched off again whenever no run is
 * in flight; nothing reads it then (a finished transaction is closed), and the next run switches it back on.
 */
async function within<T>(txn: Transaction, fn: (txn: Transaction) => T | Promise<T>): Promise<T> {
  running++;
  try {
    return await als.run(txn, () => fn(txn));
  } finally {
    if (--running === 0) als.disable();
  }
}

let storageRef: LmdbStorage | undefined;

export function setTransactionStorage(storage: LmdbStorage): void {
  storageRef = storage;
}

/** The transaction a call joins: the context's, else the one active in this async flow. */
export function activeTransaction(context?: unknown): Transaction | undefined {
  const c = context instanceof Resource ? context.getContext() : context;
  const t = (c as { transaction?: unknown } | undefined)?.transaction;
  if (t instanceof Transaction && t.open) return t;
  const s = als.getStore();
  return s?.open ? s : undefined;
}

/**
 * Run `fn(txn)` in a transaction: committed when it resolves, aborted when it throws. With a context that already
 * has an open transaction (or inside another transaction), `fn` joins it and the outer one commits.
 */
export async function transaction<T>(contextOrFn: unknown, maybeFn?: (txn: Transaction) => T | Promise<T>): Promise<T> {
  const fn = (typeof contextOrFn === 'function' ? contextOrFn : maybeFn) as (txn: Transaction) => T | Promise<T>;
  if (typeof fn !== 'function') throw new TypeError('transaction needs a function');
  // a resource instance (`transaction(this, fn)`) stands for its request's context
  const given = typeof contextOrFn === 'function' ? undefined : contextOrFn instanceof Resource ? contextOrFn.getContext() : contextOrFn;
  const context = given as Record<string, unknown> | undefined;
  const existing = activeTransaction(context);
  if (existing) return within(existing, fn);
  if (!storageRef) throw new Error('transaction() is only available in a running server');
  const user = (context?.user as { username?: string } | undefined)?.username;
  const txn = new Transaction(storageRef, user);
  if (context && typeof context === 'object') context.transaction = txn;
  try {
    const result = await within(txn, fn);
    await txn.commit();
    return result;
  } catch (err) {
    txn.abort();
    throw err;
  } finally {
    if (context && context.transaction === txn) delete context.transaction;
  }
}
