// REST interface scenarios (spec §4, §5.1): an application folder generated here, served by `weft run <app>`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decode as decodeCbor, encode as encodeCbor } from 'cbor-x';
import { pack, unpack, unpackMultiple } from 'msgpackr';
import { startServer, ADMIN } from './harness.js';
import { makeApp, addUser, rawRequest } from './rest-app.js';
import fs from 'node:fs';

describe('REST interface on an application started with weft run <app>', () => {
  let server;
  let app;
  before(async () => {
    app = makeApp();
    server = await startServer({ app, threads: 2 });
  });
  after(async () => {
    if (server) { await server.stop(); server.cleanup(); }
    fs.rmSync(app, { recursive: true, force: true });
  });

  it('ensures the declared tables as schema-defined tables with their attributes and indexes', async () => {
    const res = await server.op({ operation: 'describe_table', table: 'Dog' });
    assert.equal(res.status, 200);
    assert.equal(res.body.schema_defined, true);
    assert.equal(res.body.hash_attribute, 'id');
    const attrs = Object.fromEntries(res.body.attributes.map((a) => [a.attribute, a]));
    assert.equal(attrs.name.indexed, true);
    assert.equal(attrs.age.type, 'Int');
    assert.equal(attrs.tags.type, 'Array');
    assert.equal(attrs.tags.elements, 'String');
    assert.equal(attrs.created.assigned_created_time, true);
    const owner = await server.op({ operation: 'describe_table', database: 'people', table: 'Owner' });
    assert.equal(owner.status, 200);
    assert.equal(owner.body.hash_attribute, 'ownerId');
  });

  it('describes a table at GET /T', async () => {
    const res = await server.rest('GET', '/Dog');
    assert.equal(res.status, 200);
    assert.equal(res.json.records, './');
    assert.equal(res.json.name, 'Dog');
    assert.equal(res.json.database, 'data');
    assert.ok(res.json.attributes.some((a) => a.name === 'id' && a.isPrimaryKey === true));
    assert.equal(res.headers.get('server'), 'HarperDB');
    assert.match(res.headers.get('server-timing'), /^hdb;dur=\d+\.\d\d$/);
  });

  it('serves only exported tables with REST enabled: others are 404 Not found', async () => {
    assert.equal((await server.rest('GET', '/Internal/')).status, 404);
    assert.equal((await server.rest('GET', '/Quiet/')).status, 404);
    assert.equal((await server.rest('GET', '/nothing-here')).status, 404);
    assert.equal((await server.rest('GET', '/dog/')).status, 404, 'matching is case-sensitive');
  });

  it('creates with PUT (204), reads it back with an ETag, and answers 304 to If-None-Match', async () => {
    const put = await server.rest('PUT', '/Dog/rex', { body: { name: 'Rex', age: 3, tags: ['good', 'big'] } });
    assert.equal(put.status, 204);
    assert.equal(put.text, '');
    const get = await server.rest('GET', '/Dog/rex');
    assert.equal(get.status, 200);
    assert.equal(get.json.id, 'rex');
    assert.equal(get.json.name, 'Rex');
    assert.ok(get.json.created, '@createdTime is stamped');
    assert.equal(typeof get.json.updated, 'number');
    const etag = get.headers.get('etag');
    assert.match(etag, /^"[^"]{10}"$/);
    const again = await server.rest('GET', '/Dog/rex', { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    // the ETag follows the record's version: a write makes the old one stale (a record of its own: others read rex)
    await server.rest('PUT', '/Dog/etag-dog', { body: { name: 'Etag', age: 1 } });
    const v1 = (await server.rest('GET', '/Dog/etag-dog')).headers.get('etag');
    assert.equal((await server.rest('PATCH', '/Dog/etag-dog', { body: { age: 2 } })).status, 204);
    const changed = await server.rest('GET', '/Dog/etag-dog', { headers: { 'If-None-Match': v1 } });
    assert.equal(changed.status, 200);
    assert.equal(changed.json.age, 2);
    assert.notEqual(changed.headers.get('etag'), v1);
    assert.match(changed.headers.get('etag'), /^"[^"]{10}"$/);
    assert.equal((await server.rest('DELETE', '/Dog/etag-dog')).status, 200);
  });

  it('replaces the whole record with PUT and keeps @createdTime', async () => {
    await server.rest('PUT', '/Dog/r2', { body: { name: 'Two', age: 2, breed: 'lab' } });
    const first = (await server.rest('GET', '/Dog/r2')).json;
    assert.equal((await server.rest('PUT', '/Dog/r2', { body: { name: 'Two again', id: 'ignored' } })).status, 204);
    const after = (await server.rest('GET', '/Dog/r2')).json;
    assert.equal(after.name, 'Two again');
    assert.equal(after.id, 'r2', 'the pk is forced to the URL id');
    assert.equal(after.breed, undefined, 'properties not in the body are removed');
    assert.equal(after.created, first.created);
    assert.ok(after.updated > first.updated);
  });

  it('merges with PATCH (204) and creates a missing record from the patch', async () => {
    await server.rest('PUT', '/Dog/p1', { body: { name: 'Patchy', age: 4, breed: 'pug' } });
    assert.equal((await server.rest('PATCH', '/Dog/p1', { body: { age: 5 } })).status, 204);
    const rec = (await server.rest('GET', '/Dog/p1')).json;
    assert.equal(rec.age, 5);
    assert.equal(rec.breed, 'pug');
    assert.equal((await server.rest('PATCH', '/Dog/p2', { body: { name: 'New' } })).status, 204);
    assert.equal((await server.rest('GET', '/Dog/p2')).json.name, 'New');
  });

  it('creates with POST to the collection: 201, Location and body are the new key; an existing key is 409', async () => {
    const res = await server.rest('POST', '/Dog/', { body: { name: 'Generated', age: 1 } });
    assert.equal(res.status, 201);
    assert.match(res.json, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('location'), res.json);
    assert.equal((await server.rest('GET', `/Dog/${res.json}`)).json.name, 'Generated');
    const dup = await server.rest('POST', '/Dog/', { body: { id: 'rex', name: 'Dup' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.json, 'ClientError: Record already exists');
    assert.equal((await server.rest('GET', '/Dog/rex')).json.name, 'Rex', 'the existing record is unchanged');
    const own = await server.rest('POST', '/owners/', { body: { ownerId: 7, name: 'Ann' } });
    assert.equal(own.status, 201);
    assert.equal(own.json, 7);
    assert.equal(own.headers.get('location'), '7');
  });

  it('answers 404 with an empty body for a missing record, and coerces path ids by the key type', async () => {
    const miss = await server.rest('GET', '/Dog/nope');
    assert.equal(miss.status, 404);
    assert.equal(miss.text, '');
    await server.rest('PUT', '/owners/42', { body: { name: 'Forty-two' } });
    const owner = await server.rest('GET', '/owners/42');
    assert.equal(owner.json.ownerId, 42, 'Int key from the path is a number');
    const bad = await server.rest('GET', '/owners/abc');
    assert.equal(bad.status, 400);
    assert.equal(bad.json, 'ClientError: Invalid value for attribute ownerId: "abc", expecting Int');
    // untyped (Any) keys are auto-cast: /Item/42 is the number 42, /Item/abc a string
    await server.rest('PUT', '/Item/42', { body: { label: 'number' } });
    await server.rest('PUT', '/Item/abc', { body: { label: 'string' } });
    const all = await server.op({ operation: 'search_by_value', table: 'Item', search_attribute: 'id', search_value: '*', get_attributes: ['id'] });
    assert.deepEqual(all.body.map((r) => r.id).sort(), [42, 'abc'].sort());
  });

  it('reads one declared property with /T/<id>.<attr>', async () => {
    const res = await server.rest('GET', '/Dog/rex.name');
    assert.equal(res.status, 200);
    assert.equal(res.json, 'Rex');
  });

  it('deletes by id (200 true) and by query', async () => {
    await server.rest('PUT', '/Dog/gone', { body: { name: 'Gone', age: 99 } });
    const del = await server.rest('DELETE', '/Dog/gone');
    assert.equal(del.status, 200);
    assert.equal(del.json, true);
    assert.equal((await server.rest('GET', '/Dog/gone')).status, 404);
    assert.equal((await server.rest('DELETE', '/Dog/never-existed')).status, 200);
    for (const id of ['q1', 'q2', 'q3']) await server.rest('PUT', `/Dog/${id}`, { body: { name: id, age: 77 } });
    const byQuery = await server.rest('DELETE', '/Dog/?age=77');
    assert.equal(byQuery.status, 200);
    assert.equal(byQuery.json, true);
    const left = await server.rest('GET', '/Dog/?age=77');
    assert.deepEqual(left.json, []);
    assert.equal((await server.rest('GET', '/Dog/rex')).status, 200, 'other records stay');
  });

  it('validates declared types and @sealed with 400 and writes nothing', async () => {
    const bad = await server.rest('PUT', '/Dog/typed', { body: { name: 5, age: 'old' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json, 'ClientError: Value 5 in property name must be a string. Value "old" in property age must be an integer (from -2147483648 to 2147483647)');
    assert.equal((await server.rest('GET', '/Dog/typed')).status, 404);
    const sealed = await server.rest('PUT', '/owners/9', { body: { name: 'Sue', extra: 1 } });
    assert.equal(sealed.status, 400);
    assert.equal(sealed.json, 'ClientError: Property extra is not allowed');
    const required = await server.rest('PUT', '/owners/10', { body: { active: true } });
    assert.equal(required.status, 400);
    assert.equal(required.json, 'ClientError: Property name is required (and not does not allow null values)');
    const patch = await server.rest('PATCH', '/Dog/rex', { body: { age: 1.5 } });
    assert.equal(patch.status, 400);
    assert.equal((await server.rest('GET', '/Dog/rex')).json.age, 3, 'a refused PATCH leaves the record alone');
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await server.rest('HEAD', '/Dog/rex');
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.ok(res.headers.get('etag'));
    assert.equal((await server.rest('HEAD', '/Dog/none')).status, 404);
  });

  it('answers OPTIONS 204 with Allow, TRACE, BREW 418 and unknown methods 501', async () => {
    const opt = await server.rest('OPTIONS', '/Dog/rex');
    assert.equal(opt.status, 204);
    assert.equal(opt.headers.get('allow'), 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, QUERY, COPY, MOVE');
    const trace = await rawRequest(server.httpPort, 'TRACE', '/Dog/rex');
    assert.equal(trace.status, 200);
    assert.equal(JSON.parse(trace.text), 'HarperDB is the terminating server');
    const brew = await server.rest('BREW', '/Dog/');
    assert.equal(brew.status, 418);
    assert.equal(brew.json, "HarperDB is short and stout and can't brew coffee");
    const other = await server.rest('PROPFIND', '/Dog/rex');
    assert.equal(other.status, 501);
    assert.equal(other.json, 'ServerError: Method PROPFIND is not recognized');
  });

  it('answers 405 with Allow for methods a target does not take', async () => {
    const res = await server.rest('POST', '/Dog/rex', { body: { a: 1 } });
    assert.equal(res.status, 405);
    assert.equal(res.json, 'ClientError: The Dog does not have a post method implemented to handle HTTP method POST');
    assert.match(res.headers.get('allow'), /GET/);
  });

  it('negotiates JSON, CBOR, MessagePack and CSV responses, also by URL extension', async () => {
    const cbor = await server.rest('GET', '/Dog/rex', { headers: { Accept: 'application/cbor' } });
    assert.equal(cbor.headers.get('content-type'), 'application/cbor');
    assert.equal(decodeCbor(cbor.bytes).name, 'Rex');
    const mp = await server.rest('GET', '/Dog/rex', { headers: { Accept: 'application/x-msgpack' } });
    assert.equal(mp.headers.get('content-type'), 'application/x-msgpack');
    assert.equal(unpack(mp.bytes).name, 'Rex');
    const ext = await server.rest('GET', '/Dog/rex.cbor');
    assert.equal(decodeCbor(ext.bytes).name, 'Rex');
    assert.equal(unpack((await server.rest('GET', '/Dog/rex.msgpack')).bytes).name, 'Rex');
    assert.equal((await server.rest('GET', '/Dog/rex.json', { headers: { Accept: 'application/cbor' } })).json.name, 'Rex');
    const csv = await server.rest('GET', '/Dog/.csv?name=Rex&select(id,name,age)');
    assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(csv.headers.get('content-disposition'), 'attachment; filename="data.csv"');
    assert.equal(csv.text, 'id,name,age\nrex,Rex,3\n');
    const csvAll = await server.rest('GET', '/Dog/?name=Rex', { headers: { Accept: 'text/csv' } });
    assert.equal(csvAll.text.split('\n')[0], 'id,name,breed,age,weight,tags,born,created,updated', 'columns are the declared attributes');
    const cborList = await server.rest('GET', '/Dog/?name=Rex', { headers: { Accept: 'application/cbor' } });
    assert.equal(decodeCbor(cborList.bytes)[0].id, 'rex');
    const mpList = await server.rest('GET', '/Dog/?age=gt=0&sort(id)', { headers: { Accept: 'application/x-msgpack' } });
    assert.ok(unpackMultiple(mpList.bytes).length >= 2, 'MessagePack collections are a sequence of values');
    const none = await server.rest('GET', '/Dog/rex', { headers: { Accept: 'image/png' } });
    assert.equal(none.status, 406);
  });

  it('accepts CBOR, MessagePack and form bodies; refuses bad content types and bodies with 4xx', async () => {
    const c = await server.rest('PUT', '/Dog/cb', { raw: encodeCbor({ name: 'Cbor', age: 2 }), headers: { 'Content-Type': 'application/cbor' } });
    assert.equal(c.status, 204);
    assert.equal((await server.rest('GET', '/Dog/cb')).json.name, 'Cbor');
    const m = await server.rest('PUT', '/Dog/mp', { raw: pack({ name: 'Pack' }), headers: { 'Content-Type': 'application/x-msgpack' } });
    assert.equal(m.status, 204);
    assert.equal((await server.rest('GET', '/Dog/mp')).json.name, 'Pack');
    const f = await server.rest('POST', '/Dog/', { raw: 'id=form&name=Form', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(f.status, 201);
    assert.equal((await server.rest('GET', '/Dog/form')).json.name, 'Form');
    const cases = [
      { raw: '{"name":', headers: { 'Content-Type': 'application/json' } },
      { raw: '[1,2]', headers: { 'Content-Type': 'application/json' } },
      { raw: '"str"', headers: { 'Content-Type': 'application/json' } },
      { raw: '', headers: { 'Content-Type': 'application/json' } },
      { raw: 'hello', headers: { 'Content-Type': 'text/plain' } },
      { raw: 'xx', headers: { 'Content-Type': 'image/png' } },
      { raw: Buffer.from([0xff, 0xfe, 0x00]), headers: { 'Content-Type': 'application/cbor' } },
      { raw: Buffer.from([0xc1]), headers: { 'Content-Type': 'application/x-msgpack' } },
    ];
    for (const c2 of cases) {
      const res = await server.rest('PUT', '/Dog/badbody', c2);
      assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(c2.headers)} ${c2.raw} -> ${res.status}`);
      assert.match(res.json, /^ClientError: /);
    }
    assert.equal((await server.rest('PUT', '/Dog/badbody', { raw: 'x', headers: { 'Content-Type': 'image/png' } })).status, 415);
    assert.equal((await server.rest('GET', '/Dog/badbody')).status, 404);
  });

  it('requires credentials (401 Must login with WWW-Authenticate) and refuses bad ones', async () => {
    const anon = await server.rest('GET', '/Dog/rex', { auth: null });
    assert.equal(anon.status, 401);
    assert.equal(anon.json, 'AccessViolation: Must login');
    assert.equal(anon.headers.get('www-authenticate'), 'Basic');
    const wrong = await server.rest('GET', '/Dog/rex', { auth: { username: ADMIN.username, password: 'nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json, 'AccessViolation: Login failed');
  });

  it('checks the role table permissions of a non-super user per method', async () => {
    const reader = await addUser(server, 'reader', 'pw1', {
      super_user: false, data: { tables: { Dog: { read: true, insert: false, update: false, delete: false } } },
    });
    const writer = await addUser(server, 'writer', 'pw2', {
      super_user: false, Dog: { read: false, insert: true, update: true, delete: true },
    });
    assert.equal((await server.rest('GET', '/Dog/rex', { auth: reader })).status, 200);
    assert.equal((await server.rest('GET', '/Dog/?name=Rex', { auth: reader })).status, 200);
    const denied = await server.rest('PUT', '/Dog/rex', { auth: reader, body: { name: 'Hacked' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json, 'AccessViolation: Unauthorized access to resource');
    assert.equal((await server.rest('DELETE', '/Dog/rex', { auth: reader })).status, 403);
    assert.equal((await server.rest('GET', '/owners/42', { auth: reader })).status, 403, 'no permission on another table');
    assert.equal((await server.rest('GET', '/Dog/rex', { auth: writer })).status, 403);
    assert.equal((await server.rest('POST', '/Dog/', { auth: writer, body: { id: 'w1', name: 'W' } })).status, 201);
    assert.equal((await server.rest('PATCH', '/Dog/w1', { auth: writer, body: { age: 2 } })).status, 204);
    assert.equal((await server.rest('DELETE', '/Dog/w1', { auth: writer })).status, 200);
    assert.equal((await server.rest('GET', '/Dog/rex')).json.name, 'Rex', 'the refused write changed nothing');
  });

  it('streams a large collection as one JSON array', async () => {
    const records = Array.from({ length: 3000 }, (_, i) => ({ id: `bulk${String(i).padStart(5, '0')}`, name: 'bulk', age: i % 50 }));
    const ins = await server.op({ operation: 'insert', table: 'Dog', records });
    assert.equal(ins.status, 200);
    const res = await server.rest('GET', '/Dog/?name=bulk');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    assert.equal(res.json.length, 3000);
  });
});
