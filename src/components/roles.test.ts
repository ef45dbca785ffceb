import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permissionFromYaml } from './roles.js';

test('the compact form gains a tables level, false for missing flags and attribute_permissions from attributes', () => {
  assert.deepEqual(permissionFromYaml({ data: { Articles: { read: true, attributes: { title: { read: true, update: true } } } } }), {
    data: {
      tables: {
        Articles: {
          read: true, insert: false, update: false, delete: false,
          attribute_permissions: [{ attribute_name: 'title', read: true, insert: false, update: true }],
        },
      },
    },
    super_user: false,
  });
});

test('the full form is taken as written apart from missing flags; super_user true stands alone', () => {
  assert.deepEqual(permissionFromYaml({ permission: { structure_user: ['data'], data: { tables: { T: { read: true } } } } }), {
    structure_user: ['data'], data: { tables: { T: { read: true, insert: false, update: false, delete: false, attribute_permissions: [] } } }, super_user: false,
  });
  assert.deepEqual(permissionFromYaml({ super_user: true }), { super_user: true });
  assert.throws(() => permissionFromYaml('reader'), /must be a mapping/);
});
