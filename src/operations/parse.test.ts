// parseOperation: the one place where request shapes and aliases are normalised (spec §2.3, §2.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOperation } from './index.js';
import { WeftError } from '../errors/index.js';

function fails(body: unknown, code: string, message: string): void {
  assert.throws(() => parseOperation(body), (err: unknown) => {
    assert.ok(err instanceof WeftError);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    assert.equal(err.status, 400);
    return true;
  });
}

test('bodies that are not a non-empty object are Invalid JSON.', () => {
  for (const body of [undefined, null, '', 'insert', 5, true, [], [{ operation: 'insert' }], {}]) fails(body, 'INVALID_JSON', 'Invalid JSON.');
});

test('a missing or empty operation and an unknown one have their own messages', () => {
  fails({ table: 't' }, 'MISSING_OPERATION', "Request body must include an 'operation' property.");
  fails({ operation: '' }, 'MISSING_OPERATION', "Request body must include an 'operation' property.");
  fails({ operation: null }, 'MISSING_OPERATION', "Request body must include an 'operation' property.");
  fails({ operation: 'nope' }, 'UNKNOWN_OPERATION', "Operation 'nope' not found");
  fails({ operation: 'purge_stream' }, 'UNKNOWN_OPERATION', "Operation 'purge_stream' not found");
});

test('operation aliases resolve to their canonical names', () => {
  const pairs: Array<[string, string]> = [
    ['create_schema', 'create_database'], ['drop_schema', 'drop_database'], ['describe_schema', 'describe_database'],
    ['search_by_hash', 'search_by_id'], ['delete_files_before', 'delete_records_before'], ['set_node', 'update_node'],
    ['deploy_custom_function_project', 'deploy_component'], ['package_custom_function_project', 'package_component'],
  ];
  for (const [alias, canonical] of pairs) assert.equal(parseOperation({ operation: alias }).operation, canonical, alias);
});

test('field aliases are renamed, and the preferred field wins when both are given', () => {
  const req = parseOperation({
    operation: 'search_by_conditions', schema: 'legacy', table: 't', hash_values: [1], select: ['a'],
    search_attribute: 'x', search_value: 3, search_type: 'equals', hash_attribute: 'pk',
  });
  assert.deepEqual(
    { ...req },
    { operation: 'search_by_conditions', database: 'legacy', table: 't', ids: [1], get_attributes: ['a'], attribute: 'x', value: 3, comparator: 'equals', primary_key: 'pk' },
  );
  const both = parseOperation({ operation: 'insert', database: 'new', schema: 'old', ids: [2], hash_values: [3], get_attributes: ['b'], select: ['c'] });
  assert.equal(both.database, 'new');
  assert.deepEqual(both.ids, [2]);
  assert.deepEqual(both.get_attributes, ['b']);
  assert.ok(!('schema' in both) && !('hash_values' in both) && !('select' in both));
});

test('sql keeps its select field', () => {
  const req = parseOperation({ operation: 'sql', sql: 'SELECT 1', select: 'kept' });
  assert.equal(req.select, 'kept');
  assert.ok(!('get_attributes' in req));
});

test('a search value of null survives the alias step', () => {
  const req = parseOperation({ operation: 'search_by_value', table: 't', search_attribute: 'a', search_value: null });
  assert.ok('value' in req);
  assert.equal(req.value, null);
});
