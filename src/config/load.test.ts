import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { castValue, flatKeyToPath, setPath } from './flat.js';
import { defaultThreadCount, loadConfig, setConfiguration, validateConfig, CONFIG_FILE_NAME } from './load.js';

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'weft-config-'));
}

function fileOf(root: string): Record<string, any> {
  return YAML.parse(fs.readFileSync(path.join(root, CONFIG_FILE_NAME), 'utf8'));
}

function backups(root: string): string[] {
  const dir = path.join(root, 'backup');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.bak')) : [];
}

test('flat keys map to dotted paths case-insensitively, including legacy aliases', () => {
  assert.equal(flatKeyToPath('HTTP_PORT'), 'http.port');
  assert.equal(flatKeyToPath('OPERATIONSAPI_NETWORK_PORT'), 'operationsApi.network.port');
  assert.equal(flatKeyToPath('operationsApi_network_port'), 'operationsApi.network.port');
  assert.equal(flatKeyToPath('logging_level'), 'logging.level');
  assert.equal(flatKeyToPath('THREADS_COUNT'), 'threads.count');
  assert.equal(flatKeyToPath('threads'), 'threads.count');
  assert.equal(flatKeyToPath('AUTHENTICATION_AUTHORIZELOCAL'), 'authentication.authorizeLocal');
  assert.equal(flatKeyToPath('LOGGING_ROTATION_ENABLED'), 'logging.rotation.enabled');
  assert.equal(flatKeyToPath('LOGGING_AUDITAUTHEVENTS_LOGFAILED'), 'logging.auditAuthEvents.logFailed');
  assert.equal(flatKeyToPath('THREADS_DEBUG_PORT'), 'threads.debug.port');
  assert.equal(flatKeyToPath('STORAGE_WRITEASYNC'), 'storage.writeAsync');
  assert.equal(flatKeyToPath('REPLICATION_HOSTNAME'), 'replication.hostname');
  assert.equal(flatKeyToPath('NODE_HOSTNAME'), 'node.hostname');
  // legacy aliases
  assert.equal(flatKeyToPath('HDB_ROOT'), 'rootPath');
  assert.equal(flatKeyToPath('SERVER_PORT'), 'operationsApi.network.port');
  assert.equal(flatKeyToPath('LOG_LEVEL'), 'logging.level');
  assert.equal(flatKeyToPath('MAX_HDB_PROCESSES'), 'threads.count');
  assert.equal(flatKeyToPath('HTTP_THREADS'), 'threads.count');
  assert.equal(flatKeyToPath('CUSTOM_FUNCTIONS_PORT'), 'http.port');
  assert.equal(flatKeyToPath('SERVER_KEEP_ALIVE_TIMEOUT'), 'operationsApi.network.keepAliveTimeout');
  assert.equal(flatKeyToPath('CORS_ACCESSLIST'), 'operationsApi.network.corsAccessList');
  // unknown and non-config variables
  assert.equal(flatKeyToPath('PATH'), undefined);
  assert.equal(flatKeyToPath('HOME'), undefined);
  assert.equal(flatKeyToPath('HTTP'), undefined);
  assert.equal(flatKeyToPath('nope_nothing'), undefined);
});

test('string values are cast by the type of the key, with JSON for arrays and objects', () => {
  assert.equal(castValue('authentication.authorizeLocal', 'true'), true);
  assert.equal(castValue('authentication.authorizeLocal', 'FALSE'), false);
  assert.equal(castValue('http.port', '9926'), 9926);
  assert.equal(castValue('http.port', '127.0.0.2:9926'), '127.0.0.2:9926');
  assert.equal(castValue('threads.count', '3'), 3);
  assert.equal(castValue('authentication.cacheTTL', '1.5'), 1.5);
  assert.equal(castValue('logging.level', 'debug'), 'debug');
  assert.equal(castValue('http.securePort', 'null'), null);
  assert.deepEqual(castValue('http.corsAccessList', '["*"]'), ['*']);
  assert.deepEqual(castValue('databases', '[{"db":{"path":"/x"}}]'), [{ db: { path: '/x' } }]);
  assert.equal(castValue('logging.auditRetention', '3d'), '3d');
  assert.equal(castValue('http.port', 8080), 8080, 'non-strings are kept as they are');
  assert.equal(castValue('node.hostname', '[not json'), '[not json');
});

test('setting a threads_* key when threads is a bare number turns it into {count}', () => {
  const raw: Record<string, any> = { threads: 4 };
  setPath(raw, 'threads.maxHeapMemory', 512);
  assert.deepEqual(raw.threads, { count: 4, maxHeapMemory: 512 });
});

test('validateConfig names the bad key in the Harper message', () => {
  assert.throws(() => validateConfig({ logging: { level: 'loud' } }), /HarperDB config file validation error: 'logging.level' must be one of/);
  assert.throws(() => validateConfig({ http: { port: 'abc' } }), /'http.port' must be a port number or host:port/);
  assert.throws(() => validateConfig({ threads: { count: -1 } }), /'threads.count' must be an integer/);
  assert.throws(() => validateConfig({ authentication: { authorizeLocal: 'yes' } }), /'authentication.authorizeLocal' must be a boolean/);
  validateConfig({ http: { port: '127.0.0.1:9926' }, threads: { count: 0 }, logging: { level: 'notify' } });
});

test('the first load writes every default and leaves threads.count out, computing it instead', () => {
  const root = tempRoot();
  try {
    const { config, created, configFile } = loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    assert.equal(created, true);
    assert.equal(configFile, path.join(root, CONFIG_FILE_NAME));
    const file = fileOf(root);
    assert.equal(file.http.port, 9926);
    assert.equal(file.operationsApi.network.port, 9925);
    assert.equal(file.operationsApi.network.domainSocket, path.join(root, 'operations-server'));
    assert.equal(file.logging.level, 'warn');
    assert.equal(file.storage.path, path.join(root, 'database'));
    assert.equal(file.rootPath, root);
    assert.equal(file.threads?.count, undefined, 'threads.count is not frozen into the file');
    assert.equal(config.threads.count, defaultThreadCount());
    assert.ok(Object.isFrozen(config.http), 'the config is deep-frozen');
    assert.deepEqual(backups(root), [], 'nothing to back up on first write');
    // a second load with nothing new writes nothing
    const mtime = fs.statSync(configFile).mtimeMs;
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    assert.equal(fs.statSync(configFile).mtimeMs, mtime);
    assert.deepEqual(backups(root), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('env vars and flags are persisted with a backup; flags beat env; HARPER_SET_CONFIG beats both', () => {
  const root = tempRoot();
  try {
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    const { config } = loadConfig({
      argv: [`--ROOTPATH=${root}`, '--LOGGING_LEVEL=debug', '--HTTP_PORT=127.0.0.3:9999', '--THREADS_COUNT', '3'],
      env: { LOGGING_LEVEL: 'error', AUTHENTICATION_CACHETTL: '1234', SERVER_TIMEOUT_MS: '99000', OPERATIONSAPI_NETWORK_PORT: '9000', PATH: '/bin' },
    });
    assert.equal(config.logging.level, 'debug');
    assert.equal(config.http.port, '127.0.0.3:9999');
    assert.equal(config.threads.count, 3);
    assert.equal(config.authentication.cacheTTL, 1234);
    assert.equal(config.operationsApi.network.timeout, 99000);
    assert.equal(config.operationsApi.network.port, 9000);
    const file = fileOf(root);
    assert.equal(file.logging.level, 'debug');
    assert.equal(file.http.port, '127.0.0.3:9999');
    assert.equal(file.threads.count, 3);
    assert.equal(file.authentication.cacheTTL, 1234);
    assert.equal(file.PATH, undefined);
    assert.equal(backups(root).length, 1);

    const set = loadConfig({
      argv: [`--ROOTPATH=${root}`, '--LOGGING_LEVEL=debug'],
      env: { HARPER_SET_CONFIG: JSON.stringify({ logging: { level: 'fatal' }, http: { cors: false } }) },
    });
    assert.equal(set.config.logging.level, 'fatal');
    assert.equal(fileOf(root).http.cors, false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a key removed from HARPER_SET_CONFIG is deleted from the file, falling back to the default', () => {
  const root = tempRoot();
  try {
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: { HARPER_SET_CONFIG: JSON.stringify({ logging: { level: 'error', auditRetention: '9d' } }) } });
    assert.equal(fileOf(root).logging.level, 'error');
    const { config } = loadConfig({ argv: [`--ROOTPATH=${root}`], env: { HARPER_SET_CONFIG: JSON.stringify({ logging: { auditRetention: '9d' } }) } });
    assert.equal(fileOf(root).logging.level, undefined);
    assert.equal(fileOf(root).logging.auditRetention, '9d');
    assert.equal(config.logging.level, 'warn');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('HARPER_DEFAULT_CONFIG sets unedited keys, keeps user drift and restores what it replaced when removed', () => {
  const root = tempRoot();
  const file = path.join(root, CONFIG_FILE_NAME);
  try {
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    const hdc = (v: unknown) => ({ HARPER_DEFAULT_CONFIG: JSON.stringify(v) });
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: hdc({ logging: { auditRetention: '7d' }, authentication: { cacheTTL: 5000 } }) });
    assert.equal(fileOf(root).logging.auditRetention, '7d');
    assert.equal(fileOf(root).authentication.cacheTTL, 5000);
    // the user edits one of those keys by hand
    const edited = fileOf(root);
    edited.authentication.cacheTTL = 6000;
    fs.writeFileSync(file, YAML.stringify(edited));
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: hdc({ logging: { auditRetention: '8d' }, authentication: { cacheTTL: 7000 } }) });
    assert.equal(fileOf(root).logging.auditRetention, '8d', 'an unedited key follows the variable');
    assert.equal(fileOf(root).authentication.cacheTTL, 6000, 'the manual edit is kept');
    // HARPER_SET_CONFIG still wins over it
    const both = loadConfig({ argv: [`--ROOTPATH=${root}`], env: { ...hdc({ logging: { auditRetention: '8d' } }), HARPER_SET_CONFIG: '{"logging":{"auditRetention":"1d"}}' } });
    assert.equal(both.config.logging.auditRetention, '1d');
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    assert.equal(fileOf(root).authentication.cacheTTL, 6000);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('HARPER_DEFAULT_CONFIG restores the replaced value once the key leaves the variable', () => {
  const root = tempRoot();
  try {
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: { HARPER_DEFAULT_CONFIG: '{"logging":{"auditRetention":"7d"},"http":{"cors":false}}' } });
    assert.equal(fileOf(root).logging.auditRetention, '7d');
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: { HARPER_DEFAULT_CONFIG: '{"http":{"cors":false}}' } });
    assert.equal(fileOf(root).logging.auditRetention, '3d');
    assert.equal(fileOf(root).http.cors, false);
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    assert.equal(fileOf(root).http.cors, true);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('invalid HARPER_SET_CONFIG JSON or values abort the load without touching the file', () => {
  const root = tempRoot();
  try {
    loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    const before = fs.readFileSync(path.join(root, CONFIG_FILE_NAME), 'utf8');
    assert.throws(() => loadConfig({ argv: [`--ROOTPATH=${root}`], env: { HARPER_SET_CONFIG: '{bad' } }),
      /HarperDB config file validation error: HARPER_SET_CONFIG is not valid JSON/);
    assert.throws(() => loadConfig({ argv: [`--ROOTPATH=${root}`], env: { HARPER_SET_CONFIG: '[1]' } }), /HARPER_SET_CONFIG must be a JSON object/);
    assert.throws(() => loadConfig({ argv: [`--ROOTPATH=${root}`], env: { HARPER_SET_CONFIG: '{"logging":{"level":"loud"}}' } }), /'logging.level'/);
    assert.equal(fs.readFileSync(path.join(root, CONFIG_FILE_NAME), 'utf8'), before);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('setConfiguration takes flat keys in any case, ignores unknown keys and backs the file up', () => {
  const root = tempRoot();
  try {
    const { configFile } = loadConfig({ argv: [`--ROOTPATH=${root}`], env: {} });
    const applied = setConfiguration(root, configFile, { operation: 'set_configuration', LOGGING_LEVEL: 'error', operationsApi_network_timeout: '5000', bogus_key: 1 });
    assert.deepEqual(applied.sort(), ['logging.level', 'operationsApi.network.timeout']);
    assert.equal(fileOf(root).logging.level, 'error');
    assert.equal(fileOf(root).operationsApi.network.timeout, 5000);
    assert.equal(fileOf(root).bogus_key, undefined);
    assert.equal(backups(root).length, 1);
    const before = fs.readFileSync(configFile, 'utf8');
    assert.throws(() => setConfiguration(root, configFile, { logging_level: 'loud' }), /HarperDB config file validation error/);
    assert.equal(fs.readFileSync(configFile, 'utf8'), before, 'an invalid value writes nothing');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
