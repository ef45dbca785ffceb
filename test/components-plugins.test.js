// The loadEnv, dataLoader and fastifyRoutes plugins of an application's config.yaml (spec §5.2), over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, tempRoot, waitFor } from './harness.js';
import { makeApp } from './rest-app.js';

const BASE_CONFIG = `rest: true
graphqlSchema: {files: '*.graphql'}
jsResource: {files: 'resources.js'}
`;

function logText(root) {
  try { return fs.readFileSync(path.join(root, 'log', 'hdb.log'), 'utf8'); } catch { return ''; }
}

test('loadEnv loads .env into process.env before resources.js runs, keeps existing variables unless override, and skips malformed lines', async () => {
  const resources = `
import { Resource } from 'weftdb';
const atLoad = process.env.GREETING;
export class Env extends Resource {
  allowRead() { return true; }
  get() { return { atLoad, greeting: process.env.GREETING, preset: process.env.WEFT_TEST_PRESET, quoted: process.env.QUOTED, after: process.env.AFTER_BAD }; }
}
`;
  const env = 'GREETING=hello from env\nWEFT_TEST_PRESET=from the file\n# a comment\nthis line is not an assignment\nQUOTED="a b  c"\nAFTER_BAD=still read\n';
  const app = makeApp({ 'config.yaml': `loadEnv: {files: '.env'}\n${BASE_CONFIG}`, '.env': env, 'resources.js': resources });
  const server = await startServer({ app, env: { WEFT_TEST_PRESET: 'from the server' } });
  try {
    const r = await server.rest('GET', '/Env/x', { auth: null });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { atLoad: 'hello from env', greeting: 'hello from env', preset: 'from the server', quoted: 'a b  c', after: 'still read' });
    assert.ok(await waitFor(() => logText(server.root).includes('loadEnv ignored line 4 of .env')), 'the malformed line is named in the log');
  } finally {
    await server.stop();
    server.cleanup();
  }

  const app2 = makeApp({ 'config.yaml': `loadEnv: {files: ['.env'], override: true}\n${BASE_CONFIG}`, '.env': env, 'resources.js': resources });
  const server2 = await startServer({ app: app2, env: { WEFT_TEST_PRESET: 'from the server' }, threads: 2 });
  try {
    for (let i = 0; i < 4; i++) {
      const r = await server2.rest('GET', '/Env/x', { auth: null });
      assert.equal(r.json.preset, 'from the file', 'override: true lets the file win, on every worker');
    }
  } finally {
    await server2.stop();
    server2.cleanup();
  }
});

const DOG_DATA = { database: 'data', table: 'Dog', records: [{ id: 'rex', name: 'Rex', age: 3 }, { id: 'fido', name: 'Fido', age: 5 }] };

test('dataLoader upserts JSON and YAML files once per process, again only when a file changes, and reports a bad file while the app still starts', async () => {
  const root = tempRoot();
  const app = makeApp({
    'config.yaml': `${BASE_CONFIG}dataLoader: {files: 'data/*'}\n`,
    'data/dogs.json': JSON.stringify(DOG_DATA),
    'data/owners.yaml': 'database: people\ntable: Owner\nrecords:\n  - {ownerId: 1, name: Ann}\n  - {ownerId: 2, name: Bob, active: true}\n',
    'data/broken.json': '{"table": "Dog", "records": [',
    'data/shapeless.yaml': 'table: Dog\nrecords: not a list\n',
    'data/missing.json': JSON.stringify({ table: 'NoSuchTable', records: [{ id: 1 }] }),
  });
  let server = await startServer({ app, root, threads: 2 });
  try {
    const dogs = await server.rest('GET', '/Dog/?sort(id)');
    assert.equal(dogs.status, 200, dogs.text);
    assert.deepEqual(dogs.json.map((d) => [d.id, d.name, d.age]), [['fido', 'Fido', 5], ['rex', 'Rex', 3]]);
    const owners = await server.rest('GET', '/owners/?sort(ownerId)');
    assert.deepEqual(owners.json.map((o) => o.name), ['Ann', 'Bob']);
    assert.match(server.output, /Error loading data file data\/broken\.json of weft-app-\w+: it can not be parsed: /);
    assert.match(server.output, /Error loading data file data\/shapeless\.yaml of weft-app-\w+: 'records' is required and must be an array/);
    assert.match(server.output, /Error loading data file data\/missing\.json of weft-app-\w+: the table data\.NoSuchTable does not exist/);
    // loaded once for the process, not once per worker: one upsert transaction in the audit log
    const audit = await server.op({ operation: 'read_audit_log', database: 'data', table: 'Dog' });
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    assert.deepEqual(audit.body.map((e) => [e.operation, e.user_name, e.hash_values]), [['upsert', 'dataLoader', ['rex', 'fido']]]);
    // a change made since must survive a restart with the same file
    assert.equal((await server.rest('PATCH', '/Dog/rex', { body: { name: 'Rex II' } })).status, 204);
  } finally {
    await server.stop();
  }
  server = await startServer({ app, root });
  try {
    assert.equal((await server.rest('GET', '/Dog/rex')).json.name, 'Rex II', 'an unchanged file is not loaded again');
  } finally {
    await server.stop();
  }
  fs.writeFileSync(path.join(app, 'data/dogs.json'), JSON.stringify({ ...DOG_DATA, records: [{ id: 'rex', name: 'Rex III', age: 4 }] }));
  server = await startServer({ app, root });
  try {
    const rex = (await server.rest('GET', '/Dog/rex')).json;
    assert.equal(rex.name, 'Rex III', 'a changed file is loaded again');
    assert.equal(rex.age, 4);
    assert.equal((await server.rest('GET', '/Dog/fido')).json.name, 'Fido', 'upsert: records not in the file stay');
  } finally {
    await server.stop();
    server.cleanup();
  }
});

const ROUTES = `
export default async (server, { hdbCore, logger }) => {
  server.route({ url: '/', method: 'GET', handler: () => ({ hello: 'routes', hasLogger: typeof logger.info === 'function' }) });
  server.route({ url: '/dogs', method: 'POST', preValidation: hdbCore.preValidation, handler: hdbCore.request });
  server.route({ url: '/count', method: 'GET', handler: (request) => {
    request.body = { operation: 'sql', sql: 'SELECT COUNT(*) AS n FROM data.Dog' };
    return hdbCore.requestWithoutAuthentication(request);
  } });
  server.route({ url: '/items/:id', method: 'GET', handler: (request) => ({ id: request.params.id }) });
};
`;

const CJS_ROUTES = `
module.exports = async (server) => {
  server.get('/legacy', async () => 'commonjs');
};
`;

test('fastifyRoutes serves route modules under the application name with hdbCore, after resources and static files, and survives a module that throws', async () => {
  const app = makeApp({
    'config.yaml': `${BASE_CONFIG}static: {files: 'web/**'}\nfastifyRoutes: {files: 'routes/*.*js', urlPath: '.'}\n`,
    'routes/main.js': ROUTES,
    'routes/legacy.cjs': CJS_ROUTES,
    'routes/throws.js': 'export default async (server) => { server.get("/before", () => "x"); throw new Error("route setup exploded"); };',
    'routes/broken.js': 'export default async (server) => { this is not javascript',
    'routes/nothing.js': 'export const notAFunction = 1;',
    'web/page.html': '<p>static</p>',
  });
  const name = path.basename(app);
  const server = await startServer({ app });
  try {
    const hello = await server.rest('GET', `/${name}`, { auth: null });
    assert.equal(hello.status, 200, hello.text);
    assert.deepEqual(hello.json, { hello: 'routes', hasLogger: true });
    assert.deepEqual((await server.rest('GET', `/${name}/items/42?x=1`, { auth: null })).json, { id: '42' });
    const legacy = await server.rest('GET', `/${name}/legacy`, { auth: null });
    assert.equal(legacy.status, 200);
    assert.equal(legacy.text, 'commonjs');

    // hdbCore.request runs the body as an operation with the request's own credentials
    const anon = await server.rest('POST', `/${name}/dogs`, { auth: null, body: { operation: 'insert', table: 'Dog', records: [{ id: 'x' }] } });
    assert.equal(anon.status, 401, anon.text);
    const forged = await server.rest('POST', `/${name}/dogs`, { auth: null, body: { operation: 'insert', table: 'Dog', records: [{ id: 'x' }], hdb_user: { username: 'admin', role: { permission: { super_user: true } } } } });
    assert.equal(forged.status, 401, 'a client-sent hdb_user is never trusted');
    const ins = await server.rest('POST', `/${name}/dogs`, { body: { operation: 'insert', table: 'Dog', records: [{ id: 'r1', name: 'Routed' }] } });
    assert.equal(ins.status, 200, ins.text);
    assert.deepEqual(ins.json.inserted_hashes, ['r1']);
    assert.equal((await server.rest('GET', '/Dog/r1')).json.name, 'Routed');
    const bad = await server.rest('POST', `/${name}/dogs`, { body: { operation: 'no_such_op' } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.message, /Operation 'no_such_op' not found/);
    const count = await server.rest('GET', `/${name}/count`, { auth: null });
    assert.equal(count.status, 200, count.text);
    assert.deepEqual(count.json, [{ n: 1 }]);

    // precedence: exported resources, then static files, then routes, finally 404
    assert.equal((await server.rest('GET', '/page.html')).text, '<p>static</p>');
    assert.equal((await server.rest('GET', '/Dog/r1')).status, 200);
    const missing = await server.rest('GET', `/${name}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { error: 'Not found' });
    assert.equal((await server.rest('GET', '/elsewhere')).status, 404);

    // the module that threw and the unparsable ones are logged; the others keep working
    const log = () => logText(server.root);
    assert.ok(await waitFor(() => log().includes('route setup exploded')), 'the throwing module is logged');
    assert.ok(await waitFor(() => log().includes('routes/broken.js failed to load')), 'the broken module is logged');
    assert.ok(await waitFor(() => log().includes('a route module must export a function')), 'the module without a function is logged');
  } finally {
    await server.stop();
    server.cleanup();
  }
});
