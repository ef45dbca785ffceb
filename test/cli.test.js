// The `weft` command: background start/stop/restart/status, operations over the unix socket, install of the first user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import YAML from 'yaml';
import { BIN, tempRoot, startServer, freshOp, waitFor } from './harness.js';

const VERSION = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const PORT_FLAGS = ['--OPERATIONSAPI_NETWORK_PORT=127.0.0.1:0', '--HTTP_PORT=127.0.0.1:0', '--THREADS_COUNT=1', '--LOGGING_LEVEL=warn'];

/** Run `weft ...args` to completion. */
function weft(args, { env = {}, root } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, HDB_ADMIN_USERNAME: 'admin', HDB_ADMIN_PASSWORD: 'test-pass', ...(root ? { ROOTPATH: root } : {}), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const readPid = (root) => (fs.existsSync(path.join(root, 'hdb.pid')) ? Number(fs.readFileSync(path.join(root, 'hdb.pid'), 'utf8')) : undefined);
function alive(pid) {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}
/** The ports of the background server from the last `Listening:` line of its stdout log. */
function portsOf(root) {
  const lines = fs.readFileSync(path.join(root, 'log', 'stdout.log'), 'utf8').split('\n').filter((l) => l.startsWith('Listening:'));
  const last = lines.at(-1) ?? '';
  return { ops: Number(/operations: (?:[^,]*:)?(\d+)/.exec(last)?.[1]) };
}
/** Stop a background server left running by a failed test. */
async function killBackground(root) {
  const pid = readPid(root);
  if (alive(pid)) {
    process.kill(pid, 'SIGTERM');
    if (!(await waitFor(() => !alive(pid), { timeoutMs: 10_000 }))) process.kill(pid, 'SIGKILL');
  }
}

test('start runs the server in the background; status, operations, restart and stop drive it', async () => {
  const root = tempRoot();
  try {
    const started = await weft(['start', ...PORT_FLAGS], { root });
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /successfully started/);
    const pid = readPid(root);
    assert.ok(alive(pid), 'the background server runs');
    assert.notEqual(pid, undefined);

    const status = await weft(['status'], { root });
    assert.equal(status.code, 0);
    assert.deepEqual(YAML.parse(status.stdout).harperdb, { status: 'running', pid });

    const again = await weft(['start', ...PORT_FLAGS], { root });
    assert.equal(again.code, 4);
    assert.match(again.stderr, new RegExp(`Error: HarperDB is already running \\(pid: ${pid}\\)`));

    const created = await weft(['create_table', 'table=dog', 'primary_key=id'], { root });
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(YAML.parse(created.stdout), { message: "table 'data.dog' successfully created." });
    const inserted = await weft(['insert', 'table=dog', 'records=[{"id":1,"name":"Penny"}]'], { root });
    assert.equal(YAML.parse(inserted.stdout).message, 'inserted 1 of 1 records');
    const found = await weft(['search_by_id', 'table=dog', 'ids=[1]', 'get_attributes=["name"]', 'json=true'], { root });
    assert.equal(found.code, 0);
    assert.equal(found.stdout.trim(), JSON.stringify([{ name: 'Penny' }], null, 2), 'json=true prints pretty JSON');
    const described = await weft(['describe_all'], { root });
    assert.equal(YAML.parse(described.stdout).data.dog.hash_attribute, 'id');
    const refused = await weft(['drop_table', 'table=nope'], { root });
    assert.equal(refused.code, 1, 'an error answer sets the exit code');
    assert.match(YAML.parse(refused.stdout).error, /does not exist/);

    const restarted = await weft(['restart'], { root });
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /^Restarting Harper\.\.\.$/m);
    assert.match(restarted.stdout, /Restarting HarperDB\. This may take up to 60 seconds\./);
    assert.ok(await waitFor(() => fs.readFileSync(path.join(root, 'log', 'stdout.log'), 'utf8').includes('successfully restarted'), { timeoutMs: 30_000 }));
    assert.equal(readPid(root), pid, 'same process after restart');
    const afterRestart = await freshOp(portsOf(root).ops, { operation: 'search_by_id', table: 'dog', ids: [1], get_attributes: ['name'] });
    assert.deepEqual(afterRestart.body, [{ name: 'Penny' }]);

    const stopped = await weft(['stop'], { root });
    assert.equal(stopped.code, 0);
    assert.equal(stopped.stdout.trim(), 'Stopping HarperDB.');
    assert.equal(alive(pid), false, 'the process is gone');
    assert.equal(fs.existsSync(path.join(root, 'hdb.pid')), false, 'the pid file is removed');

    const statusStopped = await weft(['status'], { root });
    assert.equal(YAML.parse(statusStopped.stdout).harperdb.status, 'stopped');
    const notRunning = await weft(['describe_all'], { root });
    assert.equal(notRunning.code, 1);
    assert.equal(notRunning.stderr.trim(), 'HarperDB must be running to perform this operation');

    // restart with nothing running starts it
    const cold = await weft(['restart', ...PORT_FLAGS], { root });
    assert.equal(cold.code, 0, cold.stderr);
    assert.match(cold.stdout, /^Starting Harper\.\.\.$/m);
    assert.match(cold.stdout, /successfully started/);
    assert.ok(alive(readPid(root)));
    assert.equal((await weft(['stop'], { root })).code, 0);
  } finally {
    await killBackground(root);
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('version, help and unknown commands print what the spec says', async () => {
  const root = tempRoot();
  try {
    const version = await weft(['version'], { root });
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), VERSION);
    const help = await weft(['help'], { root });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: weft/);
    const unknown = await weft(['frobnicate'], { root });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stdout, /^The "frobnicate" command is not understood\.\nUsage: weft/);
    const status = await weft(['status'], { root: path.join(root, 'none') });
    assert.equal(YAML.parse(status.stdout).harperdb.status, 'not installed');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('HDB_ADMIN_USERNAME and HDB_ADMIN_PASSWORD create the first super user of a new root', async () => {
  const server = await startServer({ env: { HDB_ADMIN_USERNAME: 'boss', HDB_ADMIN_PASSWORD: 'b0ss-pass' } });
  try {
    const auth = { username: 'boss', password: 'b0ss-pass' };
    const me = await server.op({ operation: 'user_info' }, { auth });
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'boss');
    assert.equal(me.body.password, undefined);
    assert.equal(me.body.role.permission.super_user, true);
    const users = await server.op({ operation: 'search_by_value', database: 'system', table: 'hdb_user', attribute: 'username', value: '*', get_attributes: ['username'] }, { auth });
    assert.equal(users.status, 200, JSON.stringify(users.body));
    assert.deepEqual(users.body, [{ username: 'boss' }], 'the only user');
    assert.doesNotMatch(server.output, /password/i, 'a given password is never printed');
    assert.equal((await server.op({ operation: 'describe_all' }, { auth: { username: 'boss', password: 'wrong' } })).status, 401);
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('without admin credentials a user admin with a random password is created and printed once', async () => {
  let server = await startServer({ env: { HDB_ADMIN_USERNAME: '', HDB_ADMIN_PASSWORD: '' } });
  const root = server.root;
  try {
    const m = /Created super user 'admin' with password: (\S+)/.exec(server.output);
    assert.ok(m, server.output);
    const auth = { username: 'admin', password: m[1] };
    assert.ok(m[1].length >= 12);
    const res = await server.op({ operation: 'search_by_value', database: 'system', table: 'hdb_user', attribute: 'username', value: '*', get_attributes: ['username'] }, { auth });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, [{ username: 'admin' }]);
    assert.equal(await server.stop(), 0);

    server = await startServer({ root, env: { HDB_ADMIN_USERNAME: '', HDB_ADMIN_PASSWORD: '' } });
    assert.doesNotMatch(server.output, /Created super user/, 'the password is shown only on the first start');
    assert.equal((await server.op({ operation: 'describe_all' }, { auth })).status, 200, 'the printed password keeps working');
  } finally {
    await server.stop();
    server.cleanup();
  }
});
