// `weft load`: streams a CSV or JSON file into the running server over its unix socket, with progress on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, startServer } from './harness.js';

function weft(args) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('weft load streams CSV and JSON files into a table with progress and final counts', async () => {
  const server = await startServer();
  try {
    const root = `--ROOTPATH=${server.root}`;
    await server.op({ operation: 'create_table', table: 'pets', primary_key: 'id' });
    const csv = path.join(server.root, 'pets.csv');
    let text = 'id,name,age,tags\n';
    for (let i = 1; i <= 2500; i++) text += `${i},pet-${i},${i % 20},"[""t${i % 3}""]"\n`;
    text += '2501,broken\n';
    fs.writeFileSync(csv, text);
    const res = await weft(['load', csv, '--database', 'data', '--table', 'pets', root]);
    assert.equal(res.code, 1, 'a rejected row makes the exit status 1');
    assert.match(res.stdout, /^inserted 2500 of 2501 records into data\.pets \(0 skipped, 1 rejected\)$/m);
    assert.match(res.stdout, /line 2502: Invalid Record Length/);
    assert.match(res.stderr, /\[=+\] 100% .* \/ .*MB +2501 rows\n$/);
    const d = await server.op({ operation: 'describe_table', table: 'pets' });
    assert.equal(d.body.record_count, 2500);
    const one = await server.op({ operation: 'search_by_id', table: 'pets', ids: [7], get_attributes: ['id', 'name', 'age', 'tags'] });
    assert.deepEqual(one.body, [{ id: 7, name: 'pet-7', age: 7, tags: ['t1'] }]);

    const json = path.join(server.root, 'pets.json');
    fs.writeFileSync(json, JSON.stringify([{ id: 7, name: 'seven, renamed' }, { id: 9000, name: 'new {one}', nested: { a: [1, 2] } }]));
    const up = await weft(['load', json, '--table', 'pets', '--action', 'upsert', root]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^upserted 2 of 2 records into data\.pets \(0 skipped, 0 rejected\)$/m);
    const after = await server.op({ operation: 'search_by_id', table: 'pets', ids: [7, 9000], get_attributes: ['id', 'name', 'age', 'nested'] });
    assert.deepEqual(after.body, [{ id: 7, name: 'seven, renamed', age: 7, nested: null }, { id: 9000, name: 'new {one}', age: null, nested: { a: [1, 2] } }]);

    const missing = await weft(['load', csv, '--table', 'nope', root]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Table 'data\.nope' does not exist/);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
