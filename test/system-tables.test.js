import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.js';

test('system tables declare the attributes their records carry, so a super user can search them', async () => {
  const server = await startServer();
  try {
    const users = await server.op({ operation: 'search_by_value', database: 'system', table: 'hdb_user', attribute: 'username', value: '*', get_attributes: ['username', 'role', 'active'] });
    assert.equal(users.status, 200);
    assert.deepEqual(users.body, [{ username: 'admin', role: 'super_user', active: true }]);
    const desc = await server.op({ operation: 'describe_table', database: 'system', table: 'hdb_role' });
    assert.deepEqual(desc.body.attributes.map((a) => a.attribute).sort(), ['__createdtime__', '__updatedtime__', 'id', 'permission', 'role']);
    // the system database stays hidden from describe_all and refuses ordinary writes
    const all = await server.op({ operation: 'describe_all' });
    assert.equal(all.body.system, undefined);
    const write = await server.op({ operation: 'insert', database: 'system', table: 'hdb_job', records: [{ id: 'x' }] });
    assert.equal(write.status, 403);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
