// REST authentication and authorisation (spec §4.3, §7.1, §7.6): the same credentials as the Operations API, the
// same permission module, attribute narrowing, and the `AccessViolation` bodies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, crud } from './harness.js';
import { makeApp } from './rest-app.js';


const ROLES = {
  reader: { data: { tables: { Dog: crud(true, false, false, false) } } },
  inserter: { data: { tables: { Dog: crud(false, true, false, false) } } },
  updater: { data: { tables: { Dog: crud(false, false, true, false) } } },
  deleter: { data: { tables: { Dog: crud(false, false, false, true) } } },
  shorthand: { Dog: crud(true, false, false, false) },
  nothing: { people: { tables: { Owner: crud(true, false, false, false) } } },
  limited: {
    data: {
      tables: {
        Dog: {
          read: true, insert: true, update: true, delete: false,
          attribute_permissions: [
            { attribute_name: 'name', read: true, insert: true, update: true },
            { attribute_name: 'breed', read: true, insert: false, update: false },
            { attribute_name: 'age', read: false, insert: true, update: true },
          ],
        },
      },
    },
  },
};

const basic = (username, password = `${username}-pw`) => ({ username, password });

describe('REST authentication and permissions', () => {
  let server;
  let app;
  const dog = async (id) => (await server.rest('GET', `/Dog/${id}`)).json;

  before(async () => {
    app = makeApp();
    server = await startServer({ app });
    for (const [role, permission] of Object.entries(ROLES)) {
      const r = await server.op({ operation: 'add_role', role, permission });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const u = await server.op({ operation: 'add_user', username: role, password: `${role}-pw`, role, active: true });
      assert.equal(u.status, 200, JSON.stringify(u.body));
    }
    for (const rec of [
      { id: 'rex', name: 'Rex', breed: 'collie', age: 3, weight: 20 },
      { id: 'fido', name: 'Fido', breed: 'pug', age: 5, weight: 8 },
    ]) assert.equal((await server.rest('PUT', `/Dog/${rec.id}`, { body: rec })).status, 204);
  });
  after(async () => {
    if (server) { await server.stop(); server.cleanup(); }
    fs.rmSync(app, { recursive: true, force: true });
  });

  it('answers 401 "AccessViolation: Must login" with WWW-Authenticate to a request without credentials', async () => {
    const r = await server.rest('GET', '/Dog/rex', { auth: null });
    assert.equal(r.status, 401);
    assert.equal(r.json, 'AccessViolation: Must login');
    assert.equal(r.headers.get('www-authenticate'), 'Basic');
    const w = await server.rest('PUT', '/Dog/intruder', { auth: null, body: { name: 'x' } });
    assert.equal(w.status, 401);
    assert.equal((await server.rest('GET', '/Dog/intruder')).status, 404, 'nothing was written');
  });

  it('refuses a wrong password and a forged token with 401, never falling back to anonymous', async () => {
    const bad = await server.rest('GET', '/Dog/rex', { auth: basic('reader', 'wrong') });
    assert.equal(bad.status, 401);
    assert.equal(bad.json, 'AccessViolation: Login failed');
    const forged = await server.rest('GET', '/Dog/rex', { auth: null, headers: { Authorization: 'Bearer not.a.token' } });
    assert.equal(forged.status, 401);
    assert.equal(forged.json, 'AccessViolation: invalid token');
  });

  it('accepts an operation token from create_authentication_tokens as Bearer, but not the refresh token', async () => {
    const t = await server.op({ operation: 'create_authentication_tokens', username: 'reader', password: 'reader-pw' }, { auth: null });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const ok = await server.rest('GET', '/Dog/rex', { auth: null, headers: { Authorization: `Bearer ${t.body.operation_token}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.name, 'Rex');
    // the token carries the reader's identity: writing is refused
    const put = await server.rest('PUT', '/Dog/rex', { auth: null, headers: { Authorization: `Bearer ${t.body.operation_token}` }, body: { name: 'X' } });
    assert.equal(put.status, 403);
    assert.equal(put.json, 'AccessViolation: Unauthorized access to resource');
    const refresh = await server.rest('GET', '/Dog/rex', { auth: null, headers: { Authorization: `Bearer ${t.body.refresh_token}` } });
    assert.equal(refresh.status, 401);
    assert.equal(refresh.json, 'AccessViolation: invalid token');
  });

  it('accepts the session cookie set by login on the operations port, until logout', async () => {
    const origin = 'http://app.example';
    const login = await server.op({ operation: 'login', username: 'reader', password: 'reader-pw' }, { auth: null, headers: { Origin: origin } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const cookie = login.headers.get('set-cookie').split(';')[0];
    assert.match(cookie, /^app_example-hdb-session=/, "first non-word character replaced by _");
    const r = await server.rest('GET', '/Dog/fido', { auth: null, headers: { Origin: origin, Cookie: cookie } });
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'Fido');
    const w = await server.rest('DELETE', '/Dog/fido', { auth: null, headers: { Origin: origin, Cookie: cookie } });
    assert.equal(w.status, 403);
    assert.equal((await dog('fido')).name, 'Fido');
    await server.op({ operation: 'logout' }, { auth: null, headers: { Origin: origin, Cookie: cookie } });
    const gone = await server.rest('GET', '/Dog/fido', { auth: null, headers: { Origin: origin, Cookie: cookie } });
    assert.equal(gone.status, 401);
    assert.equal(gone.json, 'AccessViolation: Must login');
  });

  it('maps GET to read, POST to insert, PUT/PATCH to update and DELETE to delete', async () => {
    const expect = {
      reader: { GET: 200, POST: 403, PUT: 403, PATCH: 403, DELETE: 403 },
      shorthand: { GET: 200, POST: 403, PUT: 403, PATCH: 403, DELETE: 403 },
      inserter: { GET: 403, POST: 201, PUT: 403, PATCH: 403, DELETE: 403 },
      updater: { GET: 403, POST: 403, PUT: 204, PATCH: 204, DELETE: 403 },
      deleter: { GET: 403, POST: 403, PUT: 403, PATCH: 403, DELETE: 200 },
      nothing: { GET: 403, POST: 403, PUT: 403, PATCH: 403, DELETE: 403 },
    };
    for (const [user, statuses] of Object.entries(expect)) {
      const id = `m-${user}`;
      await server.rest('PUT', `/Dog/${id}`, { body: { name: 'before' } });
      const auth = basic(user);
      const get = await server.rest('GET', `/Dog/${id}`, { auth });
      const search = await server.rest('GET', '/Dog/?name=before', { auth });
      const post = await server.rest('POST', '/Dog/', { auth, body: { name: `posted-${user}` } });
      const put = await server.rest('PUT', `/Dog/${id}`, { auth, body: { name: 'put' } });
      const patch = await server.rest('PATCH', `/Dog/${id}`, { auth, body: { breed: 'patched' } });
      const after = await dog(id);
      const del = await server.rest('DELETE', `/Dog/${id}`, { auth });
      const actual = { GET: get.status, POST: post.status, PUT: put.status, PATCH: patch.status, DELETE: del.status };
      assert.deepEqual(actual, statuses, user);
      assert.equal(search.status, statuses.GET, `${user} search`);
      for (const r of [get, post, put, patch, del]) {
        if (r.status === 403) assert.equal(r.json, 'AccessViolation: Unauthorized access to resource', user);
      }
      // side effects: only the allowed writes happened
      const posted = (await server.rest('GET', `/Dog/?name=posted-${user}`)).json;
      assert.equal(posted.length, statuses.POST === 201 ? 1 : 0, `${user} insert`);
      if (statuses.PUT === 204) assert.deepEqual([after.name, after.breed], ['put', 'patched'], user);
      else assert.equal(after.name, 'before', user);
      assert.equal((await server.rest('GET', `/Dog/${id}`)).status, statuses.DELETE === 200 ? 404 : 200, `${user} delete`);
    }
  });

  it('narrows reads to readable attributes: records, searches, select() and the table description', async () => {
    const auth = basic('limited');
    const rec = await server.rest('GET', '/Dog/rex', { auth });
    assert.equal(rec.status, 200);
    assert.deepEqual(rec.json, { id: 'rex', name: 'Rex', breed: 'collie' });
    const all = await server.rest('GET', '/Dog/?breed=collie', { auth });
    assert.deepEqual(all.json, [{ id: 'rex', name: 'Rex', breed: 'collie' }]);
    const sel = await server.rest('GET', '/Dog/?breed=collie&select(name,age,weight)', { auth });
    assert.equal(sel.status, 200);
    assert.deepEqual(sel.json, [{ name: 'Rex' }]);
    const one = await server.rest('GET', '/Dog/?breed=collie&select(weight)', { auth });
    assert.deepEqual(one.json, [null]);
    const desc = await server.rest('GET', '/Dog', { auth });
    assert.deepEqual(desc.json.attributes.map((a) => a.name).sort(), ['breed', 'id', 'name']);
    const csv = await server.rest('GET', '/Dog/.csv?breed=collie', { auth });
    assert.equal(csv.status, 200);
    assert.doesNotMatch(csv.text, /weight|age/);
  });

  it('refuses filters, sorts and property reads on attributes the role may not read', async () => {
    const auth = basic('limited');
    for (const url of ['/Dog/?age=3', '/Dog/?weight=gt=1', '/Dog/?name=Rex&sort(age)', '/Dog/rex.age']) {
      const r = await server.rest('GET', url, { auth });
      assert.equal(r.status, 403, url);
      assert.equal(r.json, 'AccessViolation: Unauthorized access to resource', url);
    }
  });

  it('refuses writes that name an attribute without the grant, and PUT keeps attributes the user may not update', async () => {
    const auth = basic('limited');
    const post = await server.rest('POST', '/Dog/', { auth, body: { id: 'p1', name: 'P', breed: 'x' } });
    assert.equal(post.status, 403, 'breed has no insert grant');
    const postW = await server.rest('POST', '/Dog/', { auth, body: { id: 'p2', name: 'P', weight: 3 } });
    assert.equal(postW.status, 403, 'weight is not listed');
    assert.equal((await server.rest('GET', '/Dog/p1')).status, 404);
    assert.equal((await server.rest('GET', '/Dog/p2')).status, 404);
    const ok = await server.rest('POST', '/Dog/', { auth, body: { id: 'p3', name: 'P', age: 1 } });
    assert.equal(ok.status, 201);
    assert.equal((await dog('p3')).age, 1);

    const patch = await server.rest('PATCH', '/Dog/rex', { auth, body: { breed: 'beagle' } });
    assert.equal(patch.status, 403);
    assert.equal((await dog('rex')).breed, 'collie');

    const put = await server.rest('PUT', '/Dog/rex', { auth, body: { name: 'Rexy', age: 4 } });
    assert.equal(put.status, 204);
    const stored = await dog('rex');
    assert.equal(stored.name, 'Rexy');
    assert.equal(stored.age, 4);
    assert.equal(stored.breed, 'collie', 'breed may not be updated: kept');
    assert.equal(stored.weight, 20, 'weight is not listed: kept');
    const del = await server.rest('DELETE', '/Dog/rex', { auth });
    assert.equal(del.status, 403);
  });
});
