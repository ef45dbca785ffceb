import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

test('a new root starts, answers an authenticated operation and stops cleanly on SIGTERM', async () => {
  const server = await startServer();
  try {
    const res = await server.op({ operation: 'create_table', table: 'dog', primary_key: 'id' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { message: "table 'data.dog' successfully created." });
    const desc = await server.op({ operation: 'describe_all' });
    assert.equal(desc.body.data.dog.hash_attribute, 'id');
  } finally {
    assert.equal(await server.stop(), 0);
    server.cleanup();
  }
});
