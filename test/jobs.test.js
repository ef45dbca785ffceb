// Jobs: CSV loads, exports, deletes, job records, audit logs, and a restart in the middle of a load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer } from './harness.js';

let server;
let dir;

async function waitJob(id, { until = ['COMPLETE', 'ERROR'], timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await server.op({ operation: 'get_job', id });
    assert.equal(res.status, 200);
    const job = res.body[0];
    if (job && until.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job?.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function jobCount() {
  const res = await server.op({ operation: 'search_by_value', database: 'system', table: 'hdb_job', search_attribute: 'id', search_value: '*' });
  assert.equal(res.status, 200);
  return res.body.length;
}

async function rows(table, database = 'data') {
  const res = await server.op({ operation: 'search_by_value', database, table, search_attribute: 'id', search_value: '*', get_attributes: ['*'] });
  assert.equal(res.status, 200);
  return res.body.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** A 200,000-row CSV of about 45 MB. */
function bigCsv(file) {
  const filler = 'lorem ipsum dolor sit amet '.repeat(7);
  const lines = ['id,name,score,active,born,note'];
  let fd = fs.openSync(file, 'w');
  fs.writeSync(fd, lines[0] + '\n');
  let chunk = '';
  for (let i = 0; i < 200_000; i++) {
    chunk += `${i},name-${i},${i % 100},${i % 7 === 0},2024-01-${String(1 + (i % 28)).padStart(2, '0')},${filler}\n`;
    if (chunk.length > 1 << 20) { fs.writeSync(fd, chunk); chunk = ''; }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return fs.statSync(file).size;
}

const BIG_ATTRIBUTES = [
  { name: 'id', type: 'Int' }, { name: 'name', type: 'String' }, { name: 'score', type: 'Int', indexed: true },
  { name: 'active', type: 'Boolean' }, { name: 'born', type: 'Date' }, { name: 'note', type: 'String' },
];

before(async () => {
  server = await startServer();
  dir = path.join(server.root, 'files');
  fs.mkdirSync(dir);
  for (const t of ['dog', 'cat', 'fish', 'typed', 'c1', 'c2', 'c3', 'c4', 'old']) {
    const res = await server.op({ operation: 'create_table', table: t, primary_key: 'id' });
    assert.equal(res.status, 200);
  }
});

after(async () => {
  if (server) { await server.stop(); server.cleanup(); }
});

test('bad load requests fail with 400 before any job exists', async () => {
  const before = await jobCount();
  const cases = [
    [{ operation: 'csv_file_load', table: 'dog', file_path: '/no/such/file.csv' }, 'No such file or directory /no/such/file.csv'],
    [{ operation: 'csv_data_load', table: 'dog', action: 'merge', data: 'id\n1\n' }, 'Action is required and must be either insert, update, or upsert'],
    [{ operation: 'csv_data_load', table: 'nope', data: 'id\n1\n' }, "Table 'data.nope' does not exist"],
    [{ operation: 'csv_data_load', table: 'dog' }, "'data' is required"],
    [{ operation: 'csv_url_load', table: 'dog', csv_url: 'not a url' }, "'csv_url' must be a valid url"],
    [{ operation: 'delete_records_before', table: 'dog', date: 'yesterday' }, 'Invalid date, must be in ISO-8601 format (YYYY-MM-DD).'],
    [{ operation: 'export_local', format: 'xml', path: dir, search_operation: { operation: 'search_by_id', table: 'dog', ids: [1] } }, "'format' must be one of [json, csv]"],
    [{ operation: 'export_local', format: 'json', path: '/no/such/dir', search_operation: { operation: 'search_by_id', table: 'dog', ids: [1] } }, 'No such file or directory /no/such/dir'],
    [{ operation: 'get_job' }, "'id' is required"],
  ];
  for (const [body, error] of cases) {
    const res = await server.op(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.deepEqual(res.body, { error });
  }
  assert.equal(await jobCount(), before);
});

test('get_job for an unknown id answers an empty array', async () => {
  const res = await server.op({ operation: 'get_job', id: 'does-not-exist' });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, []);
});

test('csv_data_load writes the good rows, auto-casts values, and reports a malformed row with its line number', async () => {
  const data = 'id,name,age,alive,meta,born\n1,rex,3,true,"{""a"":1}",2020-01-02\n2,fido,007,FALSE,x,null\n3,bad\n4,max,2.5,false,[1],\n';
  const res = await server.op({ operation: 'csv_data_load', table: 'dog', data });
  assert.equal(res.status, 200);
  assert.match(res.body.message, /^Starting job with id [0-9a-f-]{36}$/);
  assert.equal(res.body.message, `Starting job with id ${res.body.job_id}`);
  const job = await waitJob(res.body.job_id);
  assert.equal(job.status, 'COMPLETE');
  assert.equal(job.type, 'csv_data_load');
  assert.equal(job.user, 'admin');
  assert.match(job.message, /^successfully loaded 3 of 4 records\. Not written: 1 rejected \(line 4: .*Invalid Record Length/);
  assert.deepEqual(job.counts, { total: 4, written: 3, skipped: 0, rejected: 1 });
  assert.equal(job.rejected_rows[0].line, 4);
  for (const k of ['request', '__createdtime__', '__updatedtime__']) assert.ok(!(k in job), k);
  assert.ok(job.start_datetime >= job.created_datetime && job.end_datetime >= job.start_datetime);
  const stored = await rows('dog');
  assert.deepEqual(stored.map((r) => r.id), [1, 2, 4]);
  assert.equal(stored[0].age, 3);
  assert.equal(stored[0].alive, true);
  assert.equal(stored[0].meta, '{"a":1}', 'inline data loads keep JSON-looking text as text');
  assert.equal(stored[0].born, '2020-01-02T00:00:00.000Z');
  assert.equal(stored[1].age, '007', 'a leading zero keeps text');
  assert.equal(stored[1].alive, false);
  assert.equal(stored[1].born, null);
  assert.equal(stored[2].age, 2.5);
});

test('csv_file_load turns JSON cells into objects and upsert merges into existing records', async () => {
  const file = path.join(dir, 'cats.csv');
  fs.writeFileSync(file, 'id,name,tags,owner\n1,tom,"[""a"",""b""]","{""name"":""ann""}"\n2,kit,[],{}\n');
  let job = await waitJob((await server.op({ operation: 'csv_file_load', table: 'cat', file_path: file })).body.job_id);
  assert.equal(job.message, 'successfully loaded 2 of 2 records');
  fs.writeFileSync(file, 'id,age\n1,4\n3,1\n');
  job = await waitJob((await server.op({ operation: 'csv_file_load', table: 'cat', action: 'upsert', file_path: file })).body.job_id);
  assert.equal(job.message, 'successfully loaded 2 of 2 records');
  job = await waitJob((await server.op({ operation: 'csv_file_load', table: 'cat', action: 'update', file_path: path.join(dir, 'cats.csv') })).body.job_id);
  assert.equal(job.status, 'COMPLETE');
  const stored = await rows('cat');
  assert.deepEqual(stored[0].tags, ['a', 'b']);
  assert.deepEqual(stored[0].owner, { name: 'ann' });
  assert.equal(stored[0].name, 'tom', 'upsert kept the properties the file did not mention');
  assert.equal(stored[0].age, 4);
  assert.equal(stored.length, 3);
});

test('insert skips existing keys and the job says so', async () => {
  const res = await server.op({ operation: 'csv_data_load', table: 'cat', data: 'id,name\n1,other\n9,new\n' });
  const job = await waitJob(res.body.job_id);
  assert.equal(job.message, 'successfully loaded 1 of 2 records. Not written: 1 skipped by insert (primary key already exists)');
  assert.equal((await rows('cat')).find((r) => r.id === 1).name, 'tom');
});

test('csv_url_load streams a CSV served over HTTP', async () => {
  const web = http.createServer((req, res) => {
    if (req.headers['x-token'] !== 'secret') { res.writeHead(403).end(); return; }
    res.writeHead(200, { 'Content-Type': 'text/csv' }).end('id,name\n1,nemo\n2,dory\n');
  });
  await new Promise((r) => web.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${web.address().port}/fish.csv`;
    const ok = await waitJob((await server.op({ operation: 'csv_url_load', table: 'fish', csv_url: url, passthrough_headers: { 'x-token': 'secret' } })).body.job_id);
    assert.equal(ok.message, 'successfully loaded 2 of 2 records');
    assert.deepEqual((await rows('fish')).map((r) => r.name), ['nemo', 'dory']);
    const denied = await waitJob((await server.op({ operation: 'csv_url_load', table: 'fish', csv_url: url })).body.job_id);
    assert.equal(denied.status, 'ERROR');
    assert.match(denied.message, /^There was an error running csv_url_load job with id .* status code: 403/);
  } finally { web.close(); }
});

test('values of declared types are converted, and a value that cannot be converted rejects its row', async () => {
  await server.op({ operation: 'drop_table', table: 'typed' });
  await server.op({ operation: 'create_table', table: 'typed', attributes: [
    { name: 'id', type: 'Int', is_primary_key: true }, { name: 'n', type: 'Int' }, { name: 'f', type: 'Boolean' }, { name: 's', type: 'String' },
  ] });
  const job = await waitJob((await server.op({ operation: 'csv_data_load', table: 'typed', data: 'id,n,f,s\n1,42,TRUE,007\n2,x,false,a\n3,,false,\n' })).body.job_id);
  assert.match(job.message, /successfully loaded 2 of 3 records.*line 3: Invalid value for attribute n: "x", expecting Int/);
  const stored = await rows('typed');
  assert.deepEqual(stored.map((r) => [r.id, r.n, r.f, r.s]), [[1, 42, true, '007'], [3, null, false, '']]);
});

test('export_local writes JSON and CSV files from a search', async () => {
  let job = await waitJob((await server.op({ operation: 'export_local', format: 'json', path: dir, filename: 'dogs',
    search_operation: { operation: 'search_by_value', table: 'dog', search_attribute: 'id', search_value: '*', get_attributes: ['id', 'name'] } })).body.job_id);
  assert.equal(job.status, 'COMPLETE', job.message);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'dogs.json'), 'utf8'));
  assert.deepEqual(json.map((r) => r.name).sort(), ['fido', 'max', 'rex']);
  job = await waitJob((await server.op({ operation: 'export_local', format: 'csv', path: dir, filename: 'cats',
    search_operation: { operation: 'search_by_conditions', table: 'cat', conditions: [{ search_attribute: 'id', search_type: 'less_than', search_value: 3 }], get_attributes: ['id', 'name', 'tags'] } })).body.job_id);
  assert.equal(job.status, 'COMPLETE', job.message);
  const csv = fs.readFileSync(path.join(dir, 'cats.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'id,name,tags');
  assert.deepEqual(csv.slice(1).sort(), ['1,tom,"[""a"",""b""]"', '2,kit,[]']);
  assert.ok(!fs.readdirSync(dir).some((f) => f.endsWith('.partial')));
});

test('delete_records_before removes only records created before the date', async () => {
  await server.op({ operation: 'insert', table: 'old', records: [{ id: 1 }, { id: 2 }] });
  await new Promise((r) => setTimeout(r, 20));
  const cut = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await server.op({ operation: 'insert', table: 'old', records: [{ id: 3 }] });
  const job = await waitJob((await server.op({ operation: 'delete_records_before', table: 'old', date: cut })).body.job_id);
  assert.equal(job.status, 'COMPLETE', job.message);
  assert.deepEqual((await rows('old')).map((r) => r.id), [3]);
  const none = await waitJob((await server.op({ operation: 'delete_records_before', table: 'old', date: '2000-01-01' })).body.job_id);
  assert.equal(none.message, 'No records found to delete');
});

test('concurrent loads into four tables all complete with every row written', async () => {
  const starts = await Promise.all(['c1', 'c2', 'c3', 'c4'].map((t, n) => {
    let data = 'id,v\n';
    for (let i = 0; i < 5000; i++) data += `${i},${t}-${i}\n`;
    return server.op({ operation: 'csv_data_load', table: t, data });
  }));
  const jobs = await Promise.all(starts.map((s) => waitJob(s.body.job_id)));
  for (const j of jobs) assert.equal(j.message, 'successfully loaded 5000 of 5000 records');
  for (const t of ['c1', 'c2', 'c3', 'c4']) {
    const d = await server.op({ operation: 'describe_table', table: t });
    assert.equal(d.body.record_count, 5000);
  }
});

test('search_jobs_by_start_date lists the jobs started in the range with converted dates', async () => {
  const res = await server.op({ operation: 'search_jobs_by_start_date', from_date: new Date(Date.now() - 3_600_000).toISOString(), to_date: new Date(Date.now() + 60_000).toISOString() });
  assert.equal(res.status, 200);
  assert.ok(res.body.length >= 10);
  const j = res.body[0];
  assert.equal(j.start_datetime_converted, new Date(j.start_datetime).toISOString());
  assert.ok(!('request' in j));
  const empty = await server.op({ operation: 'search_jobs_by_start_date', from_date: '2000-01-01', to_date: '2000-01-02' });
  assert.deepEqual(empty.body, []);
});

test('read_audit_log and read_transaction_log show the writes of a table', async () => {
  await server.op({ operation: 'upsert', table: 'fish', records: [{ id: 1, name: 'nemo2' }] });
  await server.op({ operation: 'delete', table: 'fish', ids: [2] });
  const byTime = await server.op({ operation: 'read_audit_log', table: 'fish' });
  assert.equal(byTime.status, 200);
  assert.deepEqual(byTime.body.map((e) => e.operation), ['insert', 'upsert', 'delete']);
  assert.deepEqual(byTime.body[0].hash_values, [1, 2]);
  assert.equal(byTime.body[0].user_name, 'admin');
  const byId = await server.op({ operation: 'read_audit_log', table: 'fish', search_type: 'hash_value', search_values: [1] });
  assert.deepEqual(byId.body['1'].map((e) => e.records[0].name), ['nemo', 'nemo2']);
  const byUser = await server.op({ operation: 'read_audit_log', table: 'fish', search_type: 'username', search_values: ['admin'] });
  assert.equal(byUser.body.admin.length, 3);
  const txlog = await server.op({ operation: 'read_transaction_log', table: 'fish', limit: 2 });
  assert.deepEqual(txlog.body.map((e) => [e.operation, e.user]), [['insert', 'admin'], ['upsert', 'admin']]);
});

test('a 200,000-row file loads with memory well below ten times the file size', async () => {
  const file = path.join(dir, 'big.csv');
  const size = bigCsv(file);
  await server.op({ operation: 'create_table', table: 'big', primary_key: 'id', attributes: BIG_ATTRIBUTES });
  const res = await server.op({ operation: 'csv_file_load', table: 'big', file_path: file });
  let maxRss = 0;
  let job;
  for (;;) {
    const info = await server.op({ operation: 'system_information', attributes: ['memory'] });
    maxRss = Math.max(maxRss, info.body.memory.rss);
    job = (await server.op({ operation: 'get_job', id: res.body.job_id })).body[0];
    if (job.status === 'COMPLETE' || job.status === 'ERROR') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(job.message, 'successfully loaded 200000 of 200000 records');
  assert.ok(maxRss < size * 10, `peak RSS ${maxRss} for a ${size}-byte file`);
  const d = await server.op({ operation: 'describe_table', table: 'big' });
  assert.equal(d.body.record_count, 200_000);
  const one = await server.op({ operation: 'search_by_id', table: 'big', ids: [199_999], get_attributes: ['id', 'score', 'active', 'born'] });
  assert.deepEqual(one.body, [{ id: 199_999, score: 99, active: false, born: '2024-01-24T00:00:00.000Z' }]);
});

test('a server killed in the middle of a load marks the job ERROR at the next start', async () => {
  await server.op({ operation: 'create_table', table: 'big2', primary_key: 'id', attributes: BIG_ATTRIBUTES });
  const res = await server.op({ operation: 'csv_file_load', table: 'big2', file_path: path.join(dir, 'big.csv') });
  await waitJob(res.body.job_id, { until: ['IN_PROGRESS'] });
  await server.kill9();
  server = await startServer({ root: server.root });
  const job = (await server.op({ operation: 'get_job', id: res.body.job_id })).body[0];
  assert.equal(job.status, 'ERROR');
  assert.match(job.message, new RegExp(`^There was an error running csv_file_load job with id ${res.body.job_id} - the server restarted before the job finished`));
  const d = await server.op({ operation: 'describe_table', table: 'big2' });
  assert.ok(d.body.record_count < 200_000, 'the load did not finish');
  assert.equal(d.body.record_count % 1000, 0, 'only whole batches were committed');
});
