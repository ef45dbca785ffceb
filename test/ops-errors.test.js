// Request framing, negotiation and error bodies of the Operations API (spec §2.1, §2.3). After every bad input the
// server must still answer and nothing may have been written.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { encode as encodeCbor, decode as decodeCbor } from 'cbor-x';
import { pack, unpack, unpackMultiple } from 'msgpackr';
import { startServer, ADMIN } from './harness.js';

const AUTH = 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');
const NOT_ACCEPTABLE = 'No supported content types found in Accept header, supported types include: application/json, application/cbor, application/x-msgpack, text/csv, text/plain, text/yaml, text/event-stream, application/x-www-form-urlencoded, */*, ';
const SEED = [{ id: 1, name: 'one', tags: ['a', 'b'] }, { id: 2, name: 'two', tags: [] }];

/** POST raw bytes with the given headers; returns status, headers and the raw body. */
async function post(server, body, headers = {}) {
  const res = await fetch(server.opsUrl, { method: 'POST', headers: { Authorization: AUTH, ...headers }, body });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
const json = (r) => JSON.parse(r.bytes.toString('utf8'));

describe('operations API errors and content types', () => {
  let server; // default limits
  let small; // --OPERATIONSAPI_NETWORK_MAXBODYSIZE=1000

  const insertBody = (id) => JSON.stringify({ operation: 'insert', database: 'err', table: 't', records: [{ id, name: 'bad' }] });

  /** The server answers and the table holds exactly what it held before (plus `extra` ids). */
  async function assertIntact(s = server, extra = []) {
    const res = await s.op({ operation: 'search_by_value', database: 'err', table: 't', attribute: 'id', value: '*', get_attributes: ['id', 'name', 'tags'] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.filter((r) => !extra.includes(r.id)), SEED);
    const d = await s.op({ operation: 'describe_table', database: 'err', table: 't' });
    assert.deepEqual(d.body.attributes.map((a) => a.attribute), ['id', '__createdtime__', '__updatedtime__', 'name', 'tags']);
  }

  before(async () => {
    [server, small] = await Promise.all([startServer(), startServer({ args: ['--OPERATIONSAPI_NETWORK_MAXBODYSIZE=1000'] })]);
    for (const s of [server, small]) {
      assert.equal((await s.op({ operation: 'create_table', database: 'err', table: 't', primary_key: 'id' })).status, 200);
      assert.equal((await s.op({ operation: 'insert', database: 'err', table: 't', records: SEED })).status, 200);
    }
  });
  after(async () => {
    for (const s of [server, small]) {
      if (!s) continue;
      assert.equal(await s.stop(), 0);
      s.cleanup();
    }
  });

  test('unparseable JSON answers 400 with the parser message', async () => {
    const raw = insertBody(50).slice(0, -3);
    let message;
    try { JSON.parse(raw); } catch (e) { message = e.message; }
    const res = await server.op(null, { raw });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: message });
    await assertIntact();
  });

  test('an empty body with Content-Type application/json answers 400 with the spec message', async () => {
    const res = await server.op(null, { raw: '' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: "Body cannot be empty when content-type is set to 'application/json'" });
    await assertIntact();
  });

  test('a body that is not an object, or an empty object or array, answers Invalid JSON.', async () => {
    for (const raw of ['"insert"', '[]', '[{"operation":"insert"}]', '{}', '42', 'null', 'true']) {
      const res = await server.op(null, { raw });
      assert.equal(res.status, 400, raw);
      assert.deepEqual(res.body, { error: 'Invalid JSON.' }, raw);
    }
    const text = await post(server, insertBody(51), { 'Content-Type': 'text/plain' });
    assert.equal(text.status, 400);
    assert.deepEqual(json(text), { error: 'Invalid JSON.' });
    await assertIntact();
  });

  test('a missing or empty operation and an unknown operation answer 400', async () => {
    for (const body of [{ table: 't', records: [{ id: 52 }] }, { operation: '', table: 't' }]) {
      const res = await server.op(body);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { error: "Request body must include an 'operation' property." });
    }
    const unknown = await server.op({ operation: 'insert_everything', database: 'err', table: 't', records: [{ id: 53 }] });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body, { error: "Operation 'insert_everything' not found" });
    const nats = await server.op({ operation: 'cluster_network' });
    assert.equal(nats.status, 400);
    assert.deepEqual(nats.body, { error: "Operation 'cluster_network' not found" });
    await assertIntact();
  });

  test('an unsupported request content type answers 415 and writes nothing', async () => {
    const res = await post(server, insertBody(54), { 'Content-Type': 'application/xml' });
    assert.equal(res.status, 415);
    assert.deepEqual(json(res), { error: 'Unsupported Media Type: application/xml' });
    await assertIntact();
  });

  test('an Accept header with no supported type answers 406 and the operation does not run', async () => {
    const res = await post(server, insertBody(55), { 'Content-Type': 'application/json', Accept: 'image/png' });
    assert.equal(res.status, 406);
    assert.deepEqual(json(res), { error: NOT_ACCEPTABLE });
    await assertIntact();
  });

  test('CBOR and MessagePack request bodies are decoded like JSON', async () => {
    const cbor = await post(server, encodeCbor({ operation: 'insert', database: 'err', table: 'bin', records: [{ id: 1, v: 'cbor' }] }), { 'Content-Type': 'application/cbor' });
    assert.equal(cbor.status, 400); // the table does not exist yet: proves the body was decoded and executed
    assert.deepEqual(json(cbor), { error: "Table 'err.bin' does not exist" });
    assert.equal((await server.op({ operation: 'create_table', database: 'err', table: 'bin', primary_key: 'id' })).status, 200);
    const c = await post(server, encodeCbor({ operation: 'insert', database: 'err', table: 'bin', records: [{ id: 1, v: 'cbor', list: [1, 2] }] }), { 'Content-Type': 'application/cbor' });
    assert.equal(c.status, 200);
    assert.equal(json(c).message, 'inserted 1 of 1 records');
    for (const type of ['application/x-msgpack', 'application/msgpack']) {
      const m = await post(server, pack({ operation: 'upsert', database: 'err', table: 'bin', records: [{ id: type, v: 'msgpack' }] }), { 'Content-Type': type });
      assert.equal(m.status, 200, type);
      assert.deepEqual(json(m).upserted_hashes, [type]);
    }
    const rows = await server.op({ operation: 'search_by_id', database: 'err', table: 'bin', ids: [1, 'application/x-msgpack', 'application/msgpack'], get_attributes: ['id', 'v', 'list'] });
    assert.deepEqual(rows.body, [
      { id: 1, v: 'cbor', list: [1, 2] },
      { id: 'application/x-msgpack', v: 'msgpack', list: null },
      { id: 'application/msgpack', v: 'msgpack', list: null },
    ]);
    const garbage = await post(server, Buffer.from([0xc1, 0xc1, 0xc1]), { 'Content-Type': 'application/x-msgpack' });
    assert.equal(garbage.status, 400);
    await assertIntact();
  });

  test('responses are encoded as MessagePack, CBOR or CSV when Accept asks for them', async () => {
    const search = JSON.stringify({ operation: 'search_by_value', database: 'err', table: 't', attribute: 'id', value: '*', get_attributes: ['id', 'name', 'tags'] });
    const mp = await post(server, search, { 'Content-Type': 'application/json', Accept: 'application/x-msgpack' });
    assert.equal(mp.status, 200);
    assert.equal(mp.headers.get('content-type'), 'application/x-msgpack');
    assert.deepEqual(unpackMultiple(mp.bytes), SEED);
    const cb = await post(server, search, { 'Content-Type': 'application/json', Accept: 'application/cbor' });
    assert.equal(cb.status, 200);
    assert.equal(cb.headers.get('content-type'), 'application/cbor');
    assert.deepEqual(decodeCbor(cb.bytes), SEED);
    const objMp = await post(server, JSON.stringify({ operation: 'describe_table', database: 'err', table: 't' }), { 'Content-Type': 'application/json', Accept: 'application/msgpack' });
    assert.equal(unpack(objMp.bytes).hash_attribute, 'id');
    const csv = await post(server, search, { 'Content-Type': 'application/json', Accept: 'text/csv' });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    assert.equal(csv.headers.get('content-disposition'), 'attachment; filename="data.csv"');
    assert.deepEqual(csv.bytes.toString('utf8').trim().split('\n'), ['id,name,tags', '1,one,"[""a"",""b""]"', '2,two,[]']);
    const any = await post(server, search, { 'Content-Type': 'application/json', Accept: '*/*' });
    assert.match(any.headers.get('content-type'), /^application\/json/);
    assert.equal(any.headers.get('server'), 'HarperDB');
    assert.deepEqual(json(any), SEED);
  });

  test('a body over operationsApi.network.maxBodySize is refused, writes nothing and the server goes on', async () => {
    const big = JSON.stringify({ operation: 'insert', database: 'err', table: 't', records: [{ id: 60, name: 'x'.repeat(2000) }] });
    const res = await small.op(null, { raw: big });
    assert.equal(res.status, 413);
    assert.ok(typeof res.body.error === 'string' && res.body.error.length > 0);
    // without Content-Length (chunked): the limit is enforced while streaming
    const chunked = await fetch(small.opsUrl, {
      method: 'POST', duplex: 'half',
      headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } }),
    });
    assert.equal(chunked.status, 413);
    await chunked.arrayBuffer();
    const okSmall = await small.op({ operation: 'insert', database: 'err', table: 't', records: [{ id: 61, name: 'fits' }] });
    assert.equal(okSmall.status, 200);
    await assertIntact(small, [61]);
  });

  test('deeply nested JSON and CBOR (10000 levels) answer 400 and the server still answers', async () => {
    const deepArray = '{"operation":"insert","database":"err","table":"t","records":[{"id":70,"x":' + '['.repeat(10000) + ']'.repeat(10000) + '}]}';
    const a = await server.op(null, { raw: deepArray });
    assert.equal(a.status, 400);
    const deepObject = '{"a":'.repeat(10000) + '1' + '}'.repeat(10000);
    const o = await server.op(null, { raw: deepObject });
    assert.equal(o.status, 400);
    const cbor = Buffer.concat([Buffer.alloc(10000, 0x81), Buffer.from([0x01])]);
    const c = await post(server, cbor, { 'Content-Type': 'application/cbor' });
    assert.equal(c.status, 400);
    const mp = Buffer.concat([Buffer.alloc(10000, 0x91), Buffer.from([0x01])]);
    const m = await post(server, mp, { 'Content-Type': 'application/x-msgpack' });
    assert.equal(m.status, 400);
    await assertIntact();
  });

  test('bad field values never become a 500 or a dropped connection', async () => {
    const bodies = [
      { operation: 'insert', database: 'err', table: 't', records: 'nope' },
      { operation: 'insert', database: 'err', table: 't', records: [null] },
      { operation: 'insert', database: 'err', table: 't' },
      { operation: 'insert', database: 5, table: 't', records: [{ id: 80 }] },
      { operation: 'insert', database: 'err', table: ['t'], records: [{ id: 81 }] },
      { operation: 'insert', database: 'err', table: 't', records: [{ id: true }] },
      { operation: 'insert', database: 'err', table: 't', records: [{ id: 'k'.repeat(3000) }] },
      { operation: 'delete', database: 'err', table: 't', ids: 'x' },
      { operation: 'search_by_id', database: 'err', table: 't', ids: [1], get_attributes: 'id' },
      { operation: 'search_by_id', database: 'err', table: 't', ids: [1], get_attributes: [] },
      { operation: 'search_by_value', database: 'err', table: 't', value: 1 },
      { operation: 'search_by_value', database: 'err', table: 't', attribute: 'id' },
      { operation: 'search_by_value', database: 'err', table: 't', attribute: 'id', value: '*', offset: -1 },
      { operation: 'search_by_conditions', database: 'err', table: 't', conditions: 'x' },
      { operation: 'search_by_conditions', database: 'err', table: 't', conditions: [5] },
      { operation: 'search_by_conditions', database: 'err', table: 't', conditions: [{ attribute: 'id', comparator: 'between', value: 3 }] },
      { operation: 'search_by_conditions', database: 'err', table: 't', conditions: [{ attribute: 'id', comparator: 'greater_than', value: { a: 1 } }] },
      { operation: 'search_by_conditions', database: 'err', table: 't', conditions: [], sort: 'id' },
      { operation: 'create_table', database: 'err', table: 'z', primary_key: 5 },
      { operation: 'create_table', database: 'err', table: 'z', primary_key: 'id', attributes: 'x' },
      { operation: 'describe_table', database: 'err', table: 't', exact_count: 'yes' },
    ];
    for (const body of bodies) {
      const res = await server.op(body);
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 120)} -> ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body.error, 'string');
    }
    await assertIntact();
  });
});
