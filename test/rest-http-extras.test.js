// Byte ranges and live folders for static files, Brotli on the application port (spec §4.4), @splitSegments ids
// (spec §4.2), the strict "not indexed" mode (spec §4.5) and the OpenAPI query parameters (spec §4.9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, ADMIN } from './harness.js';
import { makeApp } from './rest-app.js';

const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

/** A request with node:http (no transparent decompression). Body as a Buffer. */
function request(port, method, urlPath, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('static files answer single byte ranges with 206, unsatisfiable ones with 416, and serve files added after start', async () => {
  const digits = '0123456789'.repeat(10);
  const app = makeApp({ 'web/digits.txt': digits, 'web/keep.txt': 'keep' });
  const server = await startServer({ app });
  try {
    const port = server.httpPort;
    const whole = await request(port, 'GET', '/digits.txt');
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    for (const [range, text, contentRange] of [
      ['bytes=0-9', '0123456789', 'bytes 0-9/100'],
      ['bytes=95-', '56789', 'bytes 95-99/100'],
      ['bytes=-3', '789', 'bytes 97-99/100'],
      ['bytes=90-500', '0123456789', 'bytes 90-99/100'],
    ]) {
      const r = await request(port, 'GET', '/digits.txt', { Range: range });
      assert.equal(r.status, 206, range);
      assert.equal(r.body.toString(), text, range);
      assert.equal(r.headers['content-range'], contentRange, range);
      assert.equal(Number(r.headers['content-length']), text.length, range);
    }
    for (const range of ['bytes=100-', 'bytes=500-600', 'bytes=-0']) {
      const r = await request(port, 'GET', '/digits.txt', { Range: range });
      assert.equal(r.status, 416, range);
      assert.equal(r.headers['content-range'], 'bytes */100', range);
      assert.equal(r.body.length, 0, range);
    }
    // several ranges are refused by sending the whole file; a malformed Range is ignored (RFC 9110)
    for (const range of ['bytes=0-1,5-6', 'bytes=abc', 'lines=1-2', 'bytes=9-2', 'bytes=-', '']) {
      const r = await request(port, 'GET', '/digits.txt', { Range: range });
      assert.equal(r.status, 200, range);
      assert.equal(r.body.toString(), digits, range);
      assert.equal(r.headers['content-range'], undefined, range);
    }
    // If-Range with the current date honours the range, a stale validator gets the whole file
    const fresh = await request(port, 'GET', '/digits.txt', { Range: 'bytes=0-0', 'If-Range': whole.headers['last-modified'] });
    assert.equal(fresh.status, 206);
    const stale = await request(port, 'GET', '/digits.txt', { Range: 'bytes=0-0', 'If-Range': 'Mon, 01 Jan 2001 00:00:00 GMT' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.toString(), digits);
    const head = await request(port, 'HEAD', '/digits.txt', { Range: 'bytes=0-4' });
    assert.equal(head.status, 206);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body.length, 0);

    // files added or removed after start, without a restart
    assert.equal((await request(port, 'GET', '/later.txt')).status, 404);
    fs.writeFileSync(path.join(app, 'web/later.txt'), 'added later');
    fs.mkdirSync(path.join(app, 'web/newdir'));
    fs.writeFileSync(path.join(app, 'web/newdir/index.html'), '<p>new</p>');
    assert.equal((await request(port, 'GET', '/later.txt')).body.toString(), 'added later');
    assert.equal((await request(port, 'GET', '/newdir/')).body.toString(), '<p>new</p>');
    fs.rmSync(path.join(app, 'web/keep.txt'));
    assert.equal((await request(port, 'GET', '/keep.txt')).status, 404);
    // a dot-file or a file outside the base appearing later is still not served
    fs.writeFileSync(path.join(app, 'web/.hidden'), 'secret');
    fs.writeFileSync(path.join(app, 'outside.txt'), 'secret');
    for (const url of ['/.hidden', '/../outside.txt', '/%2e%2e/outside.txt']) assert.equal((await request(port, 'GET', url)).status, 404, url);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('Brotli: bodies over http.compressionThreshold and every streamed body go out as br to clients accepting it, never for HEAD or 304', async () => {
  const app = makeApp({ 'web/big.json': JSON.stringify({ filler: 'x'.repeat(5000) }), 'web/small.txt': 'tiny' });
  const server = await startServer({ app });
  try {
    const port = server.httpPort;
    const put = (id, rec) => request(port, 'PUT', `/Dog/${id}`, { Authorization: AUTH, 'Content-Type': 'application/json' }, JSON.stringify(rec));
    assert.equal((await put('big', { name: 'Big', breed: 'b'.repeat(3000) })).status, 204);
    assert.equal((await put('small', { name: 'Small' })).status, 204);
    const br = { Authorization: AUTH, 'Accept-Encoding': 'gzip, deflate, br' };

    const big = await request(port, 'GET', '/Dog/big', br);
    assert.equal(big.status, 200);
    assert.equal(big.headers['content-encoding'], 'br');
    assert.equal(big.headers.vary, 'Accept, Accept-Encoding');
    assert.equal(Number(big.headers['content-length']), big.body.length);
    assert.ok(big.body.length < 1000, 'compressed');
    assert.equal(JSON.parse(zlib.brotliDecompressSync(big.body)).breed, 'b'.repeat(3000));

    const small = await request(port, 'GET', '/Dog/small', br);
    assert.equal(small.headers['content-encoding'], undefined, 'under the threshold');
    assert.equal(JSON.parse(small.body).name, 'Small');
    for (const ae of [undefined, 'gzip, deflate', 'br;q=0']) {
      const r = await request(port, 'GET', '/Dog/big', ae ? { Authorization: AUTH, 'Accept-Encoding': ae } : { Authorization: AUTH });
      assert.equal(r.headers['content-encoding'], undefined, String(ae));
      assert.equal(JSON.parse(r.body).name, 'Big', String(ae));
    }
    // a streamed search is compressed however small it is
    const search = await request(port, 'GET', '/Dog/?name=Small', br);
    assert.equal(search.headers['content-encoding'], 'br');
    assert.deepEqual(JSON.parse(zlib.brotliDecompressSync(search.body)).map((d) => d.id), ['small']);
    const head = await request(port, 'HEAD', '/Dog/big', br);
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.body.length, 0);
    const headSearch = await request(port, 'HEAD', '/Dog/?name=Small', br);
    assert.equal(headSearch.headers['content-encoding'], undefined);
    const notModified = await request(port, 'GET', '/Dog/big', { ...br, 'If-None-Match': big.headers.etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers['content-encoding'], undefined);
    assert.equal(notModified.body.length, 0);

    // static files of text types too (not ranges, not small ones)
    const file = await request(port, 'GET', '/big.json', { 'Accept-Encoding': 'br' });
    assert.equal(file.headers['content-encoding'], 'br');
    assert.equal(file.headers.vary, 'Accept-Encoding');
    assert.equal(JSON.parse(zlib.brotliDecompressSync(file.body)).filler.length, 5000);
    const ranged = await request(port, 'GET', '/big.json', { 'Accept-Encoding': 'br', Range: 'bytes=0-9' });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers['content-encoding'], undefined);
    assert.equal(ranged.body.toString(), '{"filler":');
    assert.equal((await request(port, 'GET', '/small.txt', { 'Accept-Encoding': 'br' })).headers['content-encoding'], undefined);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

const SPLIT_SCHEMA = `
type Part @table @export @splitSegments {
  id: Any @primaryKey
  name: String
}
`;

test('@splitSegments makes /T/a/b the multi-part id [a, b] with each part coerced; other tables keep a/b as one string id', async () => {
  const app = makeApp({ 'split.graphql': SPLIT_SCHEMA });
  const server = await startServer({ app });
  try {
    assert.equal((await server.rest('PUT', '/Part/shelf/42', { body: { name: 'bolt' } })).status, 204);
    const got = await server.rest('GET', '/Part/shelf/42');
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json, { id: ['shelf', 42], name: 'bolt' });
    assert.equal((await server.rest('GET', '/Part/shelf/42.name')).json, 'bolt');
    assert.equal((await server.rest('GET', '/Part/shelf/43')).status, 404);
    const byOps = await server.op({ operation: 'search_by_id', table: 'Part', ids: [['shelf', 42]], get_attributes: ['*'] });
    assert.deepEqual(byOps.body.map((r) => r.name), ['bolt'], 'stored under the array key');
    // an encoded slash stays inside its part
    assert.equal((await server.rest('PUT', '/Part/a%2Fb/c', { body: { name: 'slashed' } })).status, 204);
    assert.deepEqual((await server.rest('GET', '/Part/a%2Fb/c')).json.id, ['a/b', 'c']);
    assert.equal((await server.rest('DELETE', '/Part/shelf/42')).status, 200);
    assert.equal((await server.rest('GET', '/Part/shelf/42')).status, 404);

    assert.equal((await server.rest('PUT', '/Dog/a/b', { body: { name: 'joined' } })).status, 204);
    assert.deepEqual((await server.rest('GET', '/Dog/a/b')).json.id, 'a/b');
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('rest: {strictIndexing: true} refuses searches no index can drive with Harper\'s messages; the default scans', async () => {
  const config = "rest: {strictIndexing: true}\ngraphqlSchema: {files: '*.graphql'}\n";
  const app = makeApp({ 'config.yaml': config });
  const server = await startServer({ app });
  try {
    assert.equal((await server.rest('PUT', '/Dog/1', { body: { name: 'Rex', breed: 'lab', age: 3 } })).status, 204);
    const refused = [
      ['/Dog/?breed=lab', 404, 'ClientError: "breed" is not indexed, can not search for this attribute'],
      ['/Dog/?breed=lab|name=Rex', 404, 'ClientError: "breed" is not indexed, can not search for this attribute'],
      ['/Dog/?name!=Rex', 403, 'ClientError: Can not use not_equal operator without combining with a condition that uses an index, can not search for attribute name'],
      ['/Dog/?name=ct=e', 403, 'ClientError: Can not use contains operator without combining with a condition that uses an index, can not search for attribute name'],
      ['/Dog/?sort(breed)', 404, 'ClientError: breed is not indexed and not combined with any other conditions'],
    ];
    for (const [url, status, message] of refused) {
      const r = await server.rest('GET', url);
      assert.equal(r.status, status, url);
      assert.equal(r.json, message, url);
    }
    assert.equal((await server.rest('DELETE', '/Dog/?breed=lab')).status, 404, 'delete by query follows the same rule');
    assert.equal((await server.rest('GET', '/Dog/1')).status, 200, 'nothing was deleted');
    for (const url of ['/Dog/', '/Dog/?name=Rex&breed=lab', '/Dog/?age=gt=1&name!=Bob', '/Dog/?sort(name)', '/Dog/?breed=lab&sort(age)&id=1', '/Dog/?name=sw=R']) {
      const r = await server.rest('GET', url);
      assert.equal(r.status, 200, `${url}: ${r.text}`);
      assert.deepEqual(r.json.map((d) => d.id), ['1'], url);
    }
  } finally {
    await server.stop();
    server.cleanup();
  }
  const lax = await startServer({ app: makeApp() });
  try {
    await lax.rest('PUT', '/Dog/1', { body: { name: 'Rex', breed: 'lab' } });
    const r = await lax.rest('GET', '/Dog/?breed=lab');
    assert.equal(r.status, 200, 'the default allows full scans');
    assert.equal(r.json.length, 1);
  } finally {
    await lax.stop();
    lax.cleanup();
  }
});

test('OpenAPI describes a table search with one query parameter per attribute plus select, sort and limit', async () => {
  const server = await startServer({ app: makeApp() });
  try {
    const doc = (await server.rest('GET', '/openapi')).json;
    const params = doc.paths['/Dog/'].get.parameters;
    const names = params.map((p) => p.name);
    for (const a of ['id', 'name', 'breed', 'age', 'weight', 'tags', 'born']) assert.ok(names.includes(a), a);
    assert.ok(!names.includes('query'), 'no opaque query parameter for tables');
    assert.deepEqual(names.slice(-3), ['select(<attributes>)', 'sort(<attributes>)', 'limit(<start>,<end>)']);
    assert.deepEqual(params.find((p) => p.name === 'age'), {
      name: 'age', in: 'query', required: false, schema: { type: 'integer', format: 'int32' },
      description: 'Records whose age equals the value (indexed); FIQL comparators such as `age=gt=<value>` also apply',
    });
    assert.deepEqual(params.find((p) => p.name === 'tags').schema, { type: 'string' }, 'an array attribute matches by element');
    const del = doc.paths['/Dog/'].delete.parameters.map((p) => p.name);
    assert.ok(del.includes('breed') && del.includes('limit(<start>,<end>)') && !del.includes('select(<attributes>)'));
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('a small search answer comes whole with Content-Length, one over 64 KB of JSON streams chunked; both carry every row (REST and Operations API)', async () => {
  const server = await startServer({ app: makeApp() });
  try {
    const port = server.httpPort;
    const records = Array.from({ length: 600 }, (_, i) => ({ id: `i${String(i).padStart(4, '0')}`, label: 'x'.repeat(300), n: i % 2 ? 'odd' : 'even' }));
    assert.equal((await server.op({ operation: 'insert', database: 'data', table: 'Item', records })).status, 200);
    const get = (q) => request(port, 'GET', `/Item/?${q}`, { Authorization: AUTH });

    const small = await get('n=even&limit(3)');
    assert.equal(small.status, 200);
    assert.equal(small.headers['transfer-encoding'], undefined);
    assert.equal(Number(small.headers['content-length']), small.body.length);
    assert.deepEqual(JSON.parse(small.body).map((r) => r.id), ['i0000', 'i0002', 'i0004']);

    const large = await get('n=odd');
    assert.equal(large.status, 200);
    assert.equal(large.headers['transfer-encoding'], 'chunked');
    assert.equal(large.headers['content-length'], undefined);
    const rows = JSON.parse(large.body);
    assert.ok(large.body.length > 65_536, `large enough to stream (${large.body.length} bytes)`);
    assert.deepEqual(rows.map((r) => r.id), records.filter((r) => r.n === 'odd').map((r) => r.id));
    assert.deepEqual(JSON.parse((await get('n=none')).body), []);

    const opSearch = (value) => request(server.opsPort, 'POST', '/', { Authorization: AUTH, 'Content-Type': 'application/json' },
      JSON.stringify({ operation: 'search_by_value', database: 'data', table: 'Item', search_attribute: 'n', search_value: value, get_attributes: ['id', 'label'] }));
    const whole = await opSearch('none');
    assert.equal(Number(whole.headers['content-length']), whole.body.length);
    assert.deepEqual(JSON.parse(whole.body), []);
    const streamed = await opSearch('even');
    assert.equal(streamed.headers['transfer-encoding'], 'chunked');
    assert.equal(JSON.parse(streamed.body).length, 300);
    assert.equal(streamed.headers.server, 'HarperDB');
  } finally {
    await server.stop();
    server.cleanup();
  }
});
