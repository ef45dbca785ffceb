// The static plugin (spec §5.2): an application's web/** (default config) or `static: {files, urlPath}` files served
// on the HTTP port relative to the glob's base directory, with index.html for directories, content types,
// validators and 304, HEAD, streaming of large files, refusal of traversal and of links leaving the base, 405 for
// other methods, and exported resources taking precedence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, ADMIN } from './harness.js';
import { makeApp } from './rest-app.js';

/** A request sent with the path exactly as given (fetch would normalise `/../`). Body as a Buffer. */
function request(port, method, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', (e) => reject(new Error(`${method} ${urlPath}: ${e.message}`)));
    req.end();
  });
}

const basic = { Authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}` };

test('the default config serves web/** at the root with index.html, content types, validators, HEAD and a streamed 1 MB file', async () => {
  const big = randomBytes(1024 * 1024);
  const app = makeApp({
    'web/index.html': '<h1>home</h1>',
    'web/app.js': 'console.log(1);',
    'web/css/site.css': 'body { color: red }',
    'web/docs/index.html': '<h1>docs</h1>',
    'web/data.json': '{"a":1}',
    'web/logo.png': 'not really a png',
    'web/blob.unknownext': 'x',
    'web/empty.txt': '',
  });
  fs.writeFileSync(path.join(app, 'web/big.bin'), big);
  const server = await startServer({ app });
  try {
    const port = server.httpPort;
    for (const [url, type, text] of [
      ['/', 'text/html; charset=utf-8', '<h1>home</h1>'],
      ['/index.html', 'text/html; charset=utf-8', '<h1>home</h1>'],
      ['/app.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['/css/site.css', 'text/css; charset=utf-8', 'body { color: red }'],
      ['/docs', 'text/html; charset=utf-8', '<h1>docs</h1>'],
      ['/docs/', 'text/html; charset=utf-8', '<h1>docs</h1>'],
      ['/data.json?x=1', 'application/json; charset=utf-8', '{"a":1}'],
      ['/logo.png', 'image/png', 'not really a png'],
      ['/blob.unknownext', 'application/octet-stream', 'x'],
      ['/empty.txt', 'text/plain; charset=utf-8', ''],
    ]) {
      const r = await request(port, 'GET', url);
      assert.equal(r.status, 200, url);
      assert.equal(r.headers['content-type'], type, url);
      assert.equal(r.text, text, url);
      assert.equal(Number(r.headers['content-length']), Buffer.byteLength(text), url);
    }

    const r = await request(port, 'GET', '/big.bin');
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), big.length);
    assert.ok(r.body.equals(big), 'the 1 MB file arrives byte for byte');

    const head = await request(port, 'HEAD', '/big.bin');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), big.length);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers.etag, r.headers.etag);

    const first = await request(port, 'GET', '/index.html');
    assert.match(first.headers.etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    const mtime = fs.statSync(path.join(app, 'web/index.html')).mtime;
    assert.equal(first.headers['last-modified'], mtime.toUTCString());
    const byEtag = await request(port, 'GET', '/index.html', { 'If-None-Match': first.headers.etag });
    assert.equal(byEtag.status, 304);
    assert.equal(byEtag.body.length, 0);
    const byDate = await request(port, 'GET', '/index.html', { 'If-Modified-Since': first.headers['last-modified'] });
    assert.equal(byDate.status, 304);
    const stale = await request(port, 'GET', '/index.html', { 'If-None-Match': 'W/"0-0"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.text, '<h1>home</h1>');

    // a changed file gets a new validator
    fs.writeFileSync(path.join(app, 'web/index.html'), '<h1>home, changed</h1>');
    fs.utimesSync(path.join(app, 'web/index.html'), new Date(), new Date(Date.now() + 5000));
    const changed = await request(port, 'GET', '/index.html', { 'If-None-Match': first.headers.etag });
    assert.equal(changed.status, 200);
    assert.equal(changed.text, '<h1>home, changed</h1>');
    assert.notEqual(changed.headers.etag, first.headers.etag);
  } finally {
    await server.stop();
  }
});

test('static files refuse traversal, links leaving the base and methods other than GET and HEAD; unmatched paths stay 404', async () => {
  const app = makeApp({
    'web/index.html': 'home',
    'web/sub/page.txt': 'page',
    'web/Dog': 'a file shadowed by the exported Dog table',
    'secret.txt': 'top secret',
  });
  fs.symlinkSync(path.join(app, 'secret.txt'), path.join(app, 'web/leak.txt'));
  fs.symlinkSync(path.join(app, 'web/sub/page.txt'), path.join(app, 'web/alias.txt'));
  const server = await startServer({ app });
  try {
    const port = server.httpPort;
    for (const url of [
      '/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/sub/../../secret.txt', '/sub/%2e%2e/%2e%2e/secret.txt',
      '/sub/..%2f..%2fsecret.txt', '/./index.html', '/secret.txt', '/web/index.html', '/leak.txt', '/%00', '/%zz', '/sub/..\\..\\secret.txt',
    ]) {
      const r = await request(port, 'GET', url);
      assert.equal(r.status, 404, url);
      assert.deepEqual(JSON.parse(r.text), { error: 'Not found' }, url);
      assert.ok(!r.text.includes('top secret'), url);
    }
    const alias = await request(port, 'GET', '/alias.txt');
    assert.equal(alias.status, 200, 'a link that stays inside the base is served');
    assert.equal(alias.text, 'page');

    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await request(port, method, '/sub/page.txt');
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    assert.equal(fs.readFileSync(path.join(app, 'web/sub/page.txt'), 'utf8'), 'page', 'the file is untouched');

    const missing = await request(port, 'GET', '/nope.html');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.text), { error: 'Not found' });

    // the exported table wins over web/Dog
    const list = await request(port, "GET", "/Dog/", basic);
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(JSON.parse(list.text)));
    const dog = await request(port, 'GET', '/Dog', basic);
    assert.notEqual(dog.text, 'a file shadowed by the exported Dog table');
  } finally {
    await server.stop();
  }
});

test('a config.yaml static entry serves its glob under urlPath, and only what the glob matches', async () => {
  const app = makeApp({
    'config.yaml': "rest: true\ngraphqlSchema: {files: '*.graphql'}\nstatic: {files: 'site/**/*.html', urlPath: '/app/'}\n",
    'site/index.html': 'site home',
    'site/a/b.html': 'deep',
    'site/style.css': 'not matched',
    'web/index.html': 'not configured',
  });
  const server = await startServer({ app });
  try {
    const port = server.httpPort;
    assert.equal((await request(port, 'GET', '/app/')).text, 'site home');
    assert.equal((await request(port, 'GET', '/app')).text, 'site home');
    const deep = await request(port, 'GET', '/app/a/b.html');
    assert.equal(deep.status, 200);
    assert.equal(deep.text, 'deep');
    for (const url of ['/app/style.css', '/index.html', '/', '/a/b.html', '/app/../web/index.html']) {
      const r = await request(port, 'GET', url);
      assert.equal(r.status, 404, url);
    }
    // REST is still served beside the static files
    const dogs = await request(port, 'GET', '/Dog/', basic);
    assert.equal(dogs.status, 200);
  } finally {
    await server.stop();
  }
});
