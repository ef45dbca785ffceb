import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../config/index.js';
import { ensureSystemDatabase } from '../auth/index.js';
import type { ClusterBridge } from '../operations/index.js';
import { WeftRuntime } from './runtime.js';
import { closeFd, reservePort } from './listen.js';

interface Instance { root: string; runtime: WeftRuntime; port: number; fd: number; schemaChanges: string[] }

/** One runtime on its own root and port, wired to a ClusterBridge made of plain functions (no supervisor). */
async function instance(): Promise<Instance> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-runtime-'));
  const config = resolveConfig({ logging: { file: false }, threads: { count: 0 } }, root);
  const socket = await reservePort('127.0.0.1', 0);
  const schemaChanges: string[] = [];
  let runtime: WeftRuntime;
  const cluster: ClusterBridge = {
    schemaChanged: (database) => { schemaChanges.push(database); },
    dropDatabase: async (database) => {
      await runtime.storage.closeDatabase(database);
      runtime.storage.removeDatabaseFiles(database);
    },
    restartProcess: () => {},
    restartWorkers: async () => {},
    threadInfo: async () => [{ threadId: 0, slot: -1, name: 'main' }],
    authChanged: () => { runtime.users.invalidate(); },
    runTask: async () => { throw new Error('no background pool in this test'); },
  };
  runtime = new WeftRuntime({
    config, configFile: path.join(root, 'weft-config.yaml'), rootPath: root, version: 'test', startedAt: Date.now(),
    listeners: [{ name: 'operations', host: socket.host, port: socket.port, fd: socket.fd }], domainSocket: null, cluster,
  });
  await ensureSystemDatabase(runtime.storage, { username: 'admin', password: `pass-${path.basename(root)}`, hashFunction: 'sha256', version: 'test' });
  return { root, runtime, port: socket.port, fd: socket.fd, schemaChanges };
}

async function op(inst: Instance, body: unknown, password = `pass-${path.basename(inst.root)}`): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${inst.port}/`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + Buffer.from(`admin:${password}`).toString('base64') },
  });
  return { status: res.status, body: await res.json() };
}

test('two runtimes on two roots serve side by side in one process without sharing data or users', async () => {
  const a = await instance();
  const b = await instance();
  try {
    await Promise.all([a.runtime.start(), b.runtime.start(), a.runtime.start()]);
    assert.equal((await op(a, { operation: 'create_table', table: 'dog', primary_key: 'id' })).status, 200);
    assert.equal((await op(b, { operation: 'create_table', table: 'cat', primary_key: 'id' })).status, 200);
    assert.equal((await op(a, { operation: 'insert', table: 'dog', records: [{ id: 1, name: 'Penny' }] })).status, 200);
    assert.equal((await op(b, { operation: 'insert', table: 'cat', records: [{ id: 1, name: 'Tom' }, { id: 2 }] })).status, 200);

    assert.deepEqual(Object.keys((await op(a, { operation: 'describe_all' })).body.data), ['dog']);
    assert.deepEqual(Object.keys((await op(b, { operation: 'describe_all' })).body.data), ['cat']);
    assert.deepEqual((await op(a, { operation: 'search_by_id', table: 'dog', ids: [1], get_attributes: ['name'] })).body, [{ name: 'Penny' }]);
    assert.equal((await op(b, { operation: 'search_by_id', table: 'dog', ids: [1] })).status, 404);
    assert.equal((await op(b, { operation: 'describe_table', table: 'cat' })).body.record_count, 2);
    assert.ok(fs.existsSync(path.join(a.root, 'database', 'data.mdb')));
    assert.ok(fs.existsSync(path.join(b.root, 'database', 'data.mdb')));

    // each root has its own admin password; each bridge hears only its own runtime
    assert.equal((await op(a, { operation: 'describe_all' }, `pass-${path.basename(b.root)}`)).status, 401);
    assert.ok(a.schemaChanges.length > 0 && b.schemaChanges.length > 0);
    const bBefore = b.schemaChanges.length;
    assert.equal((await op(a, { operation: 'drop_database', database: 'data' })).status, 200);
    assert.equal(b.schemaChanges.length, bBefore);
    assert.equal(fs.existsSync(path.join(a.root, 'database', 'data.mdb')), false);
    assert.deepEqual((await op(b, { operation: 'search_by_id', table: 'cat', ids: [1], get_attributes: ['name'] })).body, [{ name: 'Tom' }]);

    // closing one leaves the other serving; close is idempotent
    await Promise.all([a.runtime.close(), a.runtime.close()]);
    await a.runtime.close();
    closeFd(a.fd);
    a.fd = -1;
    await assert.rejects(fetch(`http://127.0.0.1:${a.port}/health`), 'nothing listens on the closed runtime\'s port');
    assert.equal((await op(b, { operation: 'describe_all' })).status, 200);
  } finally {
    for (const inst of [a, b]) {
      await inst.runtime.close();
      if (inst.fd >= 0) closeFd(inst.fd);
      fs.rmSync(inst.root, { recursive: true, force: true });
    }
  }
});
