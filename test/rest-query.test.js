// The REST query language over real sockets (spec §4.5): every condition form, functions, and the error answers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer } from './harness.js';
import { makeApp } from './rest-app.js';

const DOGS = [
  { id: 'a', name: 'Ace', breed: 'lab', age: 1, weight: 10.5, tags: ['small', 'calm'] },
  { id: 'b', name: 'Bo', breed: 'pug', age: 5, weight: 7, tags: ['small'] },
  { id: 'c', name: 'Cid', breed: 'lab', age: 9, weight: 30, tags: ['big'] },
  { id: 'd', name: 'Dot', breed: null, age: 12, weight: 22.25 },
  { id: 'e', name: 'Eve', breed: 'husky', age: 5, weight: 25, born: '2020-01-02T00:00:00Z' },
];

describe('REST query language', () => {
  let server;
  let app;
  const ids = async (query) => {
    const res = await server.rest('GET', `/Dog/?${query}`);
    assert.equal(res.status, 200, `${query}: ${res.text}`);
    return res.json.map((r) => r.id).sort().join('');
  };
  const error = async (query) => {
    const res = await server.rest('GET', `/Dog/?${query}`);
    return { status: res.status, message: res.json };
  };

  before(async () => {
    app = makeApp();
    server = await startServer({ app });
    for (const d of DOGS) {
      const res = await server.rest('PUT', `/Dog/${d.id}`, { body: d });
      assert.equal(res.status, 204, res.text);
    }
    for (const [id, n] of [[1, 10], [2, 'ten'], [3, true], [4, null]]) await server.rest('PUT', `/Item/${id}`, { body: { label: `i${id}`, n } });
  });
  after(async () => {
    if (server) { await server.stop(); server.cleanup(); }
    fs.rmSync(app, { recursive: true, force: true });
  });

  it('matches attr=value strictly, coerced by the declared type', async () => {
    assert.equal(await ids('breed=lab'), 'ac');
    assert.equal(await ids('age=5'), 'be');
    assert.equal(await ids('name=Ace&age=1'), 'a');
    assert.equal(await ids('name=Nobody'), '');
    assert.equal(await ids('id=c'), 'c', 'the primary key is looked up directly');
    assert.equal(await ids(''), 'abcde');
  });

  it('supports ==, !=, FIQL comparators and < <= > >=', async () => {
    assert.equal(await ids('age==5'), 'be');
    assert.equal(await ids('age!=5'), 'acd');
    assert.equal(await ids('age=ne=5'), 'acd');
    assert.equal(await ids('age=lt=5'), 'a');
    assert.equal(await ids('age=le=5'), 'abe');
    assert.equal(await ids('age=gt=5'), 'cd');
    assert.equal(await ids('age=ge=9'), 'cd');
    assert.equal(await ids('age<5'), 'a');
    assert.equal(await ids('age<=5'), 'abe');
    assert.equal(await ids('age>9'), 'd');
    assert.equal(await ids('age>=9'), 'cd');
    assert.equal(await ids('weight=gt=20.5'), 'cde');
    assert.equal(await ids('name=ct=o'), 'bd');
    assert.equal(await ids('name=sw=C'), 'c');
    assert.equal(await ids('name=ew=e'), 'ae');
    assert.equal(await ids('name==D*'), 'd', 'a trailing * is starts_with');
  });

  it('combines with | and &, with ( ) and [ ] grouping', async () => {
    assert.equal(await ids('breed=lab|breed=pug'), 'abc');
    assert.equal(await ids('(breed=lab|breed=pug)&age=gt=3'), 'bc');
    assert.equal(await ids('[breed=lab|breed=husky]&[age=1|age=5]'), 'ae');
    assert.equal(await ids('age=gt=3&(name=Bo|(name=Cid|name=Dot))'), 'bcd');
  });

  it('chains a range on one attribute: attr=gt=1&lt=9', async () => {
    assert.equal(await ids('age=gt=1&lt=9'), 'be');
    assert.equal(await ids('age=ge=1&le=9'), 'abce');
  });

  it('tests for null and non-null', async () => {
    assert.equal(await ids('breed==null'), 'd');
    assert.equal(await ids('breed=null'), 'd');
    assert.equal(await ids('breed!=null'), 'abce');
    assert.equal(await ids('born==null'), 'abcd', 'a missing property is null');
  });

  it('matches any element of an array attribute', async () => {
    assert.equal(await ids('tags=small'), 'ab');
    assert.equal(await ids('tags==big'), 'c');
  });

  it('decodes typed values (number:, boolean:, string:, date:) and auto-casts untyped attributes', async () => {
    const items = async (query) => (await server.rest('GET', `/Item/?${query}`)).json.map((r) => r.id).sort().join(',');
    assert.equal(await items('n==10'), '1', 'untyped: 10 is auto-cast to a number');
    assert.equal(await items('n==string:10'), '');
    assert.equal(await items('n==number:10'), '1');
    assert.equal(await items('n==ten'), '2');
    assert.equal(await items('n==true'), '3');
    assert.equal(await items('n==boolean:true'), '3');
    assert.equal(await items('n==null'), '4');
    assert.equal(await items('n=10'), '', 'plain = is strict: an untyped value stays a string');
    assert.equal(await ids('born=gt=date:2019-01-01'), 'e');
    assert.equal(await ids('born=lt=date:2019-01-01'), '');
    const unknown = await error('age==money:5');
    assert.deepEqual(unknown, { status: 400, message: 'ClientError: Unknown type money' });
  });

  it('selects properties: select(a,b), select(a), select(a,), select([a,b])', async () => {
    const objs = (await server.rest('GET', '/Dog/?id=a&select(name,age)')).json;
    assert.deepEqual(objs, [{ name: 'Ace', age: 1 }]);
    assert.deepEqual((await server.rest('GET', '/Dog/?id=a&select(name)')).json, ['Ace']);
    assert.deepEqual((await server.rest('GET', '/Dog/?id=a&select(name,)')).json, [{ name: 'Ace' }]);
    assert.deepEqual((await server.rest('GET', '/Dog/?id=a&select([name,age])')).json, [['Ace', 1]]);
  });

  it('sorts with sort(+a,-b) and pages with limit(n) and limit(start,end)', async () => {
    const order = async (q) => (await server.rest('GET', `/Dog/?${q}`)).json.map((r) => r.id).join('');
    assert.equal(await order('sort(age)'), 'abecd');
    assert.equal(await order('sort(-age,+name)'), 'dcbea');
    assert.equal(await order('sort(-age,-name)'), 'dceba');
    assert.equal(await order('sort(age)&limit(2)'), 'ab');
    assert.equal(await order('sort(age)&limit(1,3)'), 'be');
    assert.equal(await order('age=gt=0&sort(name)&limit(2,10)&select(id,)'), 'cde');
  });

  it('answers parse errors with 400 and the spec message', async () => {
    assert.deepEqual(await error('age=xx=3'), { status: 400, message: "ClientError: Unable to parse query, unknown operator xx at position 3 in 'age=xx=3'" });
    assert.deepEqual(await error('(age=1'), { status: 400, message: "ClientError: Unable to parse query, expected ')' at position 6 in '(age=1'" });
    assert.deepEqual(await error('age=1)'), { status: 400, message: "ClientError: Unable to parse query, unexpected character ')' at position 5 in 'age=1)'" });
    assert.deepEqual(await error('age=1|name=a&breed=b'), { status: 400, message: 'ClientError: Can not mix operators within a condition grouping' });
    assert.deepEqual(await error('frobnicate(x)'), { status: 400, message: 'ClientError: unknown query function call frobnicate' });
    assert.deepEqual(await error('group-by(age)'), { status: 400, message: 'ClientError: group by is not implemented yet' });
    assert.deepEqual(await error('name==a*b'), { status: 400, message: 'ClientError: wildcard can only be used at the end of a string' });
    assert.deepEqual(await error('age=gt=1&ct=9'), { status: 400, message: 'ClientError: Invalid chained condition, only less than and greater than conditions can be chained together' });
    assert.deepEqual(await error('age=gt=1&lt=9&le=8'), { status: 400, message: 'ClientError: Multiple chained conditions are not currently supported' });
    assert.deepEqual(await error('age==old'), { status: 400, message: 'ClientError: Invalid value for attribute age: "old", expecting Int' });
    assert.equal((await error('limit(x)')).status, 400);
    assert.equal((await error('sort()')).status, 400);
    assert.equal((await error('select()')).status, 400);
  });

  it('answers 404 for attributes the table does not define, in conditions, sort and select', async () => {
    assert.deepEqual(await error('color=red'), { status: 404, message: 'ClientError: color is not a defined attribute' });
    assert.deepEqual(await error('age=1&(x==1|y==2)'), { status: 404, message: 'ClientError: x is not a defined attribute' });
    assert.equal((await error('sort(color)')).status, 404);
    assert.equal((await error('select(color)')).status, 404);
  });

  it('never answers 500 to malformed or hostile query strings', async () => {
    const long = 'x'.repeat(3000);
    const nasty = [
      '%', '%E0%A4%A', 'name=%ZZ', '((((', '))))', '[[[', '|', '&&&', '=', '==', '!', '<', 'age<', 'age=', 'name==',
      'age=gt=', `name=gt=${long}`, `name==${long}*`, `name=${long}`, `id=${long}`, `id==${long}`, 'id==null', 'id=gt=5',
      'age==number:', 'age==number:abc', 'born==date:nope', 'age==boolean:maybe', 'select(', 'limit(1,', 'limit(5,1)',
      'sort(,)', 'select([a,b)', 'select(a{b})', `${'('.repeat(200)}age=1${')'.repeat(200)}`, 'a.b.c=1', 'age=1&', '&age=1',
      'age=1||age=2', 'age!==5', 'age===5', 'name=\u0000', encodeURIComponent('name=€'), 'limit(99999999999999999999)',
      'tags=ct=sm', 'weight=gt=number:$z', 'age=ge=number:-1e400',
    ];
    for (const q of nasty) {
      const res = await server.rest('GET', `/Dog/?${q}`);
      assert.ok(res.status < 500, `${q.slice(0, 60)} -> ${res.status} ${res.text.slice(0, 200)}`);
      if (res.status >= 400) assert.match(res.json, /^ClientError: /);
    }
    const still = await server.rest('GET', '/Dog/a');
    assert.equal(still.status, 200, 'the worker is still serving');
  });
});
