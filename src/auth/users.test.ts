// The user cache across threads: a change committed by another thread is seen by the next authentication on this
// one, even within the same event-loop turn (lmdb-js renews a thread's read snapshot only on a timer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LmdbStorage } from '../storage/index.js';
import { ensureSystemDatabase } from './install.js';
import { hashPassword } from './passwords.js';
import { UserStore } from './users.js';

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

test('a user dropped by another thread no longer authenticates on this one, also in the same turn', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-users-'));
  const storage = new LmdbStorage({ path: dir });
  try {
    await ensureSystemDatabase(storage, { username: 'admin', password: 'admin-pw', hashFunction: 'sha256', version: 'test' });
    const users = new UserStore(storage, { cacheTTL: 60_000, rootPath: dir });
    const password = await hashPassword('bob-pw', 'sha256');
    await users.transact((txn, t) => {
      txn.put(t.users, 'bob', { username: 'bob', password, hash_function: 'sha256', role: users.rolesNamed('super_user')[0]!.id, active: true }, 'insert', null);
    });
    assert.equal((await users.authenticateBasic(basic('bob', 'bob-pw')))?.username, 'bob'); // cached from here on
    const script = `
      import { workerData } from 'node:worker_threads';
      const { LmdbStorage } = await import(workerData.storageUrl);
      const { UserStore } = await import(workerData.usersUrl);
      const storage = new LmdbStorage({ path: workerData.dir });
      const users = new UserStore(storage, { cacheTTL: 60000, rootPath: workerData.dir });
      await users.transact((txn, t) => { txn.remove(t.users, 'bob'); });
      const flag = new Int32Array(workerData.flag);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    `;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(script)}`), {
      workerData: {
        dir, flag: flag.buffer,
        storageUrl: new URL('../storage/index.js', import.meta.url).href, usersUrl: new URL('./users.js', import.meta.url).href,
      },
    });
    const exited = new Promise((resolve, reject) => { w.once('exit', resolve); w.once('error', reject); });
    // no event-loop turn on this thread between the other thread's commit and the next authentication
    assert.equal(Atomics.wait(flag, 0, 0, 10_000), 'ok', 'the other thread dropped bob');
    await assert.rejects(users.authenticateBasic(basic('bob', 'bob-pw')), { message: 'Login failed' });
    await exited;
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
