// Configuration end to end: the file a start writes, env/flag/HARPER_*_CONFIG precedence, get/set_configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { startServer, tempRoot, freshOp, waitFor } from './harness.js';
import { DEFAULT_CONFIG, defaultThreadCount } from '../dist/config/index.js';

const configOf = (root) => YAML.parse(fs.readFileSync(path.join(root, 'weft-config.yaml'), 'utf8'));
const backupsOf = (root) => fs.readdirSync(path.join(root, 'backup')).filter((f) => f.endsWith('.bak'));

function leafPaths(obj, prefix = '') {
  return Object.entries(obj).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' && !Array.isArray(v) ? leafPaths(v, p) : [p];
  });
}
const getPath = (obj, p) => p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

test('the first start writes weft-config.yaml with every default and computes threads.count without storing it', async () => {
  const server = await startServer({ threads: null });
  try {
    const file = configOf(server.root);
    for (const p of leafPaths(DEFAULT_CONFIG)) assert.ok(getPath(file, p) !== undefined, `${p} is in the file`);
    assert.equal(file.rootPath, server.root);
    assert.equal(file.storage.path, path.join(server.root, 'database'));
    assert.equal(file.operationsApi.network.port, '127.0.0.1:0', 'flags are persisted, host:port kept as given');
    assert.equal(file.http.port, '127.0.0.1:0');
    assert.equal(file.threads.count, undefined, 'threads.count is not frozen into the file');
    const expected = defaultThreadCount();
    assert.match(server.output, new RegExp(`Worker Threads:\\s+${expected}\\n`));
    const info = await server.op({ operation: 'system_information', attributes: ['threads'] });
    assert.equal(info.body.threads.filter((t) => t.slot >= 0).length, expected);

    const got = await server.op({ operation: 'get_configuration' });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, configOf(server.root));
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});

test('env vars and flags override and are persisted with a backup; flags beat env; HARPER_SET_CONFIG beats both', async () => {
  const root = tempRoot();
  let server = await startServer({ root });
  try {
    assert.equal(await server.stop(), 0);
    const opsPort = await freePort();
    server = await startServer({
      root, threads: null,
      args: [`--OPERATIONSAPI_NETWORK_PORT=${opsPort}`, '--MAX_HTTP_THREADS=2', '--LOGGING_LEVEL=info'],
      env: {
        LOGGING_LEVEL: 'error', SERVER_TIMEOUT_MS: '99000', AUTHENTICATION_CACHETTL: '4321',
        HARPER_SET_CONFIG: JSON.stringify({ logging: { auditRetention: '2d' }, authentication: { cacheTTL: 1111 } }),
      },
    });
    assert.equal(server.opsPort, opsPort, 'a bare port number works');
    const file = configOf(root);
    assert.equal(file.operationsApi.network.port, opsPort);
    assert.equal(file.threads.count, 2, 'legacy MAX_HTTP_THREADS sets threads.count');
    assert.equal(file.logging.level, 'info', 'the flag beats the env var');
    assert.equal(file.operationsApi.network.timeout, 99000, 'legacy SERVER_TIMEOUT_MS');
    assert.equal(file.logging.auditRetention, '2d');
    assert.equal(file.authentication.cacheTTL, 1111, 'HARPER_SET_CONFIG beats the env var');
    assert.equal(backupsOf(root).length, 1, 'the previous file was backed up');
    const info = await server.op({ operation: 'system_information', attributes: ['threads'] });
    assert.equal(info.body.threads.filter((t) => t.slot >= 0).length, 2);
    assert.deepEqual((await server.op({ operation: 'get_configuration' })).body, file);

    // the same values again: nothing to write, no new backup
    assert.equal(await server.stop(), 0);
    server = await startServer({
      root, threads: null,
      args: [`--OPERATIONSAPI_NETWORK_PORT=${opsPort}`, '--MAX_HTTP_THREADS=2', '--LOGGING_LEVEL=info'],
      env: { SERVER_TIMEOUT_MS: '99000', HARPER_SET_CONFIG: JSON.stringify({ logging: { auditRetention: '2d' }, authentication: { cacheTTL: 1111 } }) },
    });
    assert.equal(backupsOf(root).length, 1);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('HARPER_DEFAULT_CONFIG fills unedited keys, keeps a manual edit and restores the old value when removed', async () => {
  const root = tempRoot();
  let server = await startServer({ root, env: { HARPER_DEFAULT_CONFIG: '{"logging":{"auditRetention":"7d"},"authentication":{"cacheTTL":5000}}' } });
  try {
    assert.equal(configOf(root).logging.auditRetention, '7d');
    assert.equal(configOf(root).authentication.cacheTTL, 5000);
    assert.equal(await server.stop(), 0);
    const edited = configOf(root);
    edited.authentication.cacheTTL = 6000;
    fs.writeFileSync(path.join(root, 'weft-config.yaml'), YAML.stringify(edited));

    server = await startServer({ root, env: { HARPER_DEFAULT_CONFIG: '{"logging":{"auditRetention":"8d"},"authentication":{"cacheTTL":7000}}' } });
    assert.equal(configOf(root).logging.auditRetention, '8d');
    assert.equal(configOf(root).authentication.cacheTTL, 6000, 'user drift is kept');
    assert.equal(await server.stop(), 0);

    server = await startServer({ root });
    assert.equal(configOf(root).logging.auditRetention, '3d', 'restored once removed from the variable');
    assert.equal(configOf(root).authentication.cacheTTL, 6000);
    const state = JSON.parse(fs.readFileSync(path.join(root, 'backup', '.harper-config-state.json'), 'utf8'));
    assert.equal(state.version, '1.0');
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('invalid HARPER_SET_CONFIG aborts the start with a clear error and exit code 1', async () => {
  const root = tempRoot();
  try {
    await assert.rejects(startServer({ root, env: { HARPER_SET_CONFIG: '{"http": ' } }),
      (err) => /server exited with 1/.test(err.message) && /HarperDB config file validation error: HARPER_SET_CONFIG is not valid JSON/.test(err.message));
    await assert.rejects(startServer({ root, env: { HARPER_SET_CONFIG: '{"threads":{"count":"many"}}' } }),
      (err) => /server exited with 1/.test(err.message) && /'threads.count' must be an integer/.test(err.message));
    assert.equal(fs.existsSync(path.join(root, 'hdb.pid')), false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('set_configuration writes flat keys in any case with a backup, refuses bad values and applies after restart', async () => {
  const server = await startServer({ threads: 1 });
  try {
    const backups = backupsOf(server.root).length;
    const unauthenticated = () => freshOp(server.opsPort, { operation: 'describe_all' }, { auth: null });
    assert.equal((await unauthenticated()).status, 401);

    const res = await server.op({ operation: 'set_configuration', authentication_authorizeLocal: true, LOGGING_AUDITRETENTION: '4d', Http_Cors: 'false', no_such_key: 1 });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: 'Configuration successfully set. You must restart HarperDB for new config settings to take effect.' });
    const file = configOf(server.root);
    assert.equal(file.authentication.authorizeLocal, true);
    assert.equal(file.logging.auditRetention, '4d');
    assert.equal(file.http.cors, false);
    assert.equal(file.no_such_key, undefined, 'unknown keys are ignored');
    assert.equal(backupsOf(server.root).length, backups + 1);
    assert.deepEqual((await server.op({ operation: 'get_configuration' })).body, file);

    const bad = await server.op({ operation: 'set_configuration', logging_level: 'loud' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^HarperDB config file validation error: 'logging.level' must be one of/);
    const badPort = await server.op({ operation: 'set_configuration', http_port: 'nowhere' });
    assert.equal(badPort.status, 400);
    assert.match(badPort.body.error, /^HarperDB config file validation error: /);
    assert.deepEqual(configOf(server.root), file, 'a refused change writes nothing');

    assert.equal((await unauthenticated()).status, 401, 'not in effect before the restart');
    assert.equal((await server.op({ operation: 'restart' })).status, 200);
    assert.ok(await waitFor(() => server.output.includes('successfully restarted'), { timeoutMs: 30_000 }));
    const after = await unauthenticated();
    assert.equal(after.status, 200, 'authorizeLocal is in effect after the restart');
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});
