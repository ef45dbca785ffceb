// Component operations (spec §2.14, §9 items 17-18): files, deploy of a tar payload staged and switched
// atomically, package, path-traversal refusal, rolling restart without a failed request, and `weft dev` reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { startServer, tempRoot } from './harness.js';

/** A gzipped tar (base64) of `files` (name -> text). */
async function tarOf(files) {
  const dir = tempRoot('weft-tar-');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  const chunks = [];
  for await (const c of tar.create({ cwd: dir, gzip: true, portable: true }, Object.keys(files))) chunks.push(c);
  return Buffer.concat(chunks).toString('base64');
}

/** A raw (ustar) tar with one file entry whose name is taken as is: node-tar would not write `../` names. */
function rawTar(name, text) {
  const body = Buffer.from(text);
  const h = Buffer.alloc(512);
  const put = (s, off, len) => h.write(s, off, len, 'latin1');
  put(name, 0, 100);
  put('0000644\0', 100, 8); put('0000000\0', 108, 8); put('0000000\0', 116, 8);
  put(body.length.toString(8).padStart(11, '0') + '\0', 124, 12);
  put(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6); put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([h, body, pad, Buffer.alloc(1024)]).toString('base64');
}

const SCHEMA_V1 = 'type Counter @table @export { id: ID @primaryKey  n: Int }\n';
const RESOURCES_V1 = `import { Resource } from 'weftdb';
export class Version extends Resource { allowRead() { return true; } get() { return { version: 1 }; } }
`;
const RESOURCES_V2 = `import { Resource } from 'weftdb';
export class Version extends Resource { allowRead() { return true; } get() { return { version: 2 }; } }
export class Extra extends Resource { allowRead() { return true; } get() { return 'extra'; } }
`;

async function waitFor(fn, what, ms = 60_000, detail = () => '') {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('component files: add, set, list, read, package, drop, with names that can not leave the project', async () => {
  const server = await startServer();
  try {
    const added = await server.op({ operation: 'add_component', project: 'notes' });
    assert.deepEqual(added.body, { message: 'Successfully added project: notes' });
    const set = await server.op({ operation: 'set_component_file', project: 'notes', file: 'schema.graphql', payload: SCHEMA_V1 });
    assert.deepEqual(set.body, { message: 'Successfully set component: schema.graphql' });
    assert.equal((await server.op({ operation: 'set_component_file', project: 'notes', file: 'web' })).status, 200, 'no payload makes a folder');
    await server.op({ operation: 'set_component_file', project: 'notes', file: 'web/index.html', payload: '<p>hi</p>' });
    const componentsDir = path.join(server.root, 'components', 'notes');
    assert.equal(fs.readFileSync(path.join(componentsDir, 'web/index.html'), 'utf8'), '<p>hi</p>', 'the file is on disk');

    const list = await server.op({ operation: 'get_components' });
    assert.equal(list.body.name, 'components');
    const notes = list.body.entries.find((e) => e.name === 'notes');
    assert.deepEqual(notes.entries.map((e) => e.name), ['config.yaml', 'schema.graphql', 'web']);
    const schemaEntry = notes.entries.find((e) => e.name === 'schema.graphql');
    assert.equal(schemaEntry.size, Buffer.byteLength(SCHEMA_V1));
    assert.ok(!Number.isNaN(Date.parse(schemaEntry.mtime)));
    assert.deepEqual(notes.entries.find((e) => e.name === 'web').entries.map((e) => e.name), ['index.html']);

    const file = await server.op({ operation: 'get_component_file', project: 'notes', file: 'schema.graphql' });
    assert.equal(file.body.message, SCHEMA_V1);
    assert.equal(file.body.size, Buffer.byteLength(SCHEMA_V1));
    const missing = await server.op({ operation: 'get_component_file', project: 'notes', file: 'nope.js' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { error: "Component file not found 'notes/nope.js'" });

    // path traversal, in file names and project names, for every operation that takes them
    const outside = path.join(server.root, 'components', 'escaped.txt');
    for (const body of [
      { operation: 'set_component_file', project: 'notes', file: '../escaped.txt', payload: 'x' },
      { operation: 'set_component_file', project: 'notes', file: 'web/../../escaped.txt', payload: 'x' },
      { operation: 'set_component_file', project: 'notes', file: '/tmp/escaped.txt', payload: 'x' },
      { operation: 'get_component_file', project: 'notes', file: '../../weft-config.yaml' },
      { operation: 'drop_component', project: 'notes', file: '../notes' },
    ]) {
      const r = await server.op(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.error, /^Invalid path '.*': component paths must stay inside the project folder$/);
    }
    for (const project of ['../evil', 'a/b', '..', 'x y']) {
      const r = await server.op({ operation: 'set_component_file', project, file: 'f.txt', payload: 'x' });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { error: 'Project name can only contain alphanumeric, dash and underscores characters' });
    }
    assert.equal(fs.existsSync(outside), false, 'nothing was written outside the project');
    assert.ok(fs.existsSync(path.join(server.root, 'weft-config.yaml')), 'nothing outside was dropped');

    // package_component: a tar without node_modules (or the weftdb link in it), deployable elsewhere
    fs.mkdirSync(path.join(componentsDir, 'node_modules', 'dep'), { recursive: true });
    fs.writeFileSync(path.join(componentsDir, 'node_modules', 'dep', 'index.js'), 'x');
    fs.symlinkSync('/etc', path.join(componentsDir, 'etc-link'));
    const packed = await server.op({ operation: 'package_component', project: 'notes' });
    assert.equal(packed.body.project, 'notes');
    const names = [];
    const unpack = tempRoot('weft-unpack-');
    fs.writeFileSync(path.join(unpack, 'p.tgz'), Buffer.from(packed.body.payload, 'base64'));
    await tar.list({ file: path.join(unpack, 'p.tgz'), onReadEntry: (e) => names.push(e.path) });
    assert.ok(names.some((n) => n.endsWith('schema.graphql')), names.join(','));
    assert.ok(!names.some((n) => n.includes('node_modules') || n.includes('etc-link')), 'no node_modules, no symlinks');
    const unknown = await server.op({ operation: 'package_component', project: 'ghost' });
    assert.deepEqual(unknown.body, { error: "Unable to locate project 'ghost'" });

    const copy = await server.op({ operation: 'deploy_component', project: 'notes2', payload: packed.body.payload });
    assert.deepEqual(copy.body, { message: 'Successfully deployed: notes2' });
    assert.equal(fs.readFileSync(path.join(server.root, 'components', 'notes2', 'schema.graphql'), 'utf8'), SCHEMA_V1);

    const dropFile = await server.op({ operation: 'drop_component', project: 'notes', file: 'web/index.html' });
    assert.deepEqual(dropFile.body, { message: 'Successfully dropped: notes/web/index.html' });
    assert.equal(fs.existsSync(path.join(componentsDir, 'web', 'index.html')), false);
    const dropped = await server.op({ operation: 'drop_component', project: 'notes2' });
    assert.deepEqual(dropped.body, { message: 'Successfully dropped: notes2' });
    assert.equal(fs.existsSync(path.join(server.root, 'components', 'notes2')), false);
  } finally {
    await server.stop();
  }
});

test('deploy_component refuses payloads that escape, do not load, or are not tar, and keeps the old version', async () => {
  const server = await startServer();
  try {
    const ok = await server.op({ operation: 'deploy_component', project: 'shop', payload: await tarOf({ 'schema.graphql': SCHEMA_V1 }) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const projectDir = path.join(server.root, 'components', 'shop');

    const evil = await server.op({ operation: 'deploy_component', project: 'shop', payload: rawTar('../evil.js', 'boom') });
    assert.equal(evil.status, 400, JSON.stringify(evil.body));
    assert.match(evil.body.error, /^Invalid path '\.\.\/evil\.js'/);
    assert.equal(fs.existsSync(path.join(server.root, 'components', 'evil.js')), false, 'nothing escaped');

    const broken = await server.op({ operation: 'deploy_component', project: 'shop', payload: await tarOf({ 'schema.graphql': 'type X @table {' }) });
    assert.equal(broken.status, 400);
    assert.match(broken.body.error, /^Component shop failed to load: Error parsing schema.graphql/);

    const notTar = await server.op({ operation: 'deploy_component', project: 'shop', payload: Buffer.from('not a tar at all').toString('base64') });
    assert.equal(notTar.status, 400, JSON.stringify(notTar.body));

    assert.equal(fs.readFileSync(path.join(projectDir, 'schema.graphql'), 'utf8'), SCHEMA_V1, 'failed deploys left the old version in place');
    const leftovers = fs.readdirSync(path.join(server.root, 'components')).filter((n) => n.startsWith('.'));
    assert.deepEqual(leftovers, [], 'no staging folders are left behind');

    const badName = await server.op({ operation: 'deploy_component', project: '../shop', payload: await tarOf({ 'a.txt': 'a' }) });
    assert.equal(badName.status, 400);
  } finally {
    await server.stop();
  }
});

test('deploy_component with a rolling restart switches versions on every worker without a failed request', async () => {
  const server = await startServer({ threads: 2 });
  try {
    const v1 = await server.op({ operation: 'deploy_component', project: 'shop', payload: await tarOf({ 'schema.graphql': SCHEMA_V1, 'resources.js': RESOURCES_V1 }), restart: true });
    assert.deepEqual(v1.body, { message: 'Successfully deployed: shop, restarting HarperDB' });
    let streak = 0;
    await waitFor(async () => {
      const r = await server.rest('GET', '/Version/', { auth: null });
      streak = r.status === 200 && r.json?.version === 1 ? streak + 1 : 0;
      return streak >= 10;
    }, 'version 1 on every worker');
    assert.equal((await server.rest('PUT', '/Counter/c', { body: { n: 1 } })).status, 204, 'the deployed table was created');

    // load on the table while version 2 rolls out
    let stop = false;
    const failures = [];
    let done = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const r = await server.rest('GET', '/Counter/c');
          if (r.status !== 200 || r.json?.n !== 1) failures.push(`${r.status} ${r.text}`);
        } catch (e) { failures.push(String(e)); }
        done++;
      }
    });
    try {
    const v2 = await server.op({ operation: 'deploy_component', project: 'shop', payload: await tarOf({ 'schema.graphql': SCHEMA_V1, 'resources.js': RESOURCES_V2 }), restart: 'rolling' });
    assert.equal(v2.body.message, 'Successfully deployed: shop, restarting HarperDB');
    assert.match(v2.body.restartJobId, /^[0-9a-f-]{36}$/);
    streak = 0;
    let last;
    await waitFor(async () => {
      const r = await server.rest('GET', '/Version/', { auth: null });
      last = `${r.status} ${r.text}`;
      streak = r.status === 200 && r.json?.version === 2 ? streak + 1 : 0;
      return streak >= 10;
    }, 'version 2 on every worker', 60_000, () => `${last}\n${server.output}`);
    await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    assert.ok(done > 20, `the load ran (${done} requests)`);
    assert.deepEqual(failures, [], 'no request failed during the rolling restart');
    assert.equal((await server.rest('GET', '/Extra/', { auth: null })).json, 'extra');
  } finally {
    await server.stop();
  }
});

test('weft dev reloads the workers when a file of the application changes', async () => {
  const app = tempRoot('weft-dev-app-');
  fs.writeFileSync(path.join(app, 'schema.graphql'), SCHEMA_V1);
  fs.writeFileSync(path.join(app, 'resources.js'), RESOURCES_V1);
  const server = await startServer({ app, command: 'dev' });
  try {
    assert.deepEqual((await server.rest('GET', '/Version/', { auth: null })).json, { version: 1 });
    fs.writeFileSync(path.join(app, 'resources.js'), RESOURCES_V2);
    // until the old worker has drained, a kept-alive connection may still reach it: wait for a steady answer
    let streak = 0;
    await waitFor(async () => {
      const [extra, version] = await Promise.all([server.rest('GET', '/Extra/', { auth: null }), server.rest('GET', '/Version/', { auth: null })]);
      streak = extra.json === 'extra' && version.json?.version === 2 ? streak + 1 : 0;
      return streak >= 10;
    }, 'the reload');
    assert.match(server.output, /resources\.js changed, reloading the application/);
  } finally {
    await server.stop();
  }
});
