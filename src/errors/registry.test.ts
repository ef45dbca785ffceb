import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from './registry.js';
import { weftError, errorResponse } from './index.js';

// Pins every code and status: clients match on them, so a change here must be deliberate.
const PINNED: Record<string, number> = {
  INVALID_JSON: 400, JSON_PARSE: 400, EMPTY_JSON_BODY: 400, UNSUPPORTED_MEDIA_TYPE: 415, NOT_ACCEPTABLE: 406,
  BODY_TOO_LARGE: 413, JSON_TOO_DEEP: 400, MISSING_OPERATION: 400, UNKNOWN_OPERATION: 400, NOT_FOUND: 404,
  LOGIN_FAILED: 401, MUST_LOGIN: 401, INVALID_TOKEN: 401, TOKEN_EXPIRED: 403, USER_INACTIVE: 401,
  FIELD_REQUIRED: 400, FIELD_TYPE: 400, VALIDATION: 400, BAD_NAME: 400, INVALID_ATTRIBUTE_NAME: 400,
  ATTRIBUTE_NAME_CHARS: 400, ATTRIBUTE_NAME_TOO_LONG: 400, ATTRIBUTE_NAME_BLANK: 400, INVALID_HASH_VALUE: 400,
  UPDATE_NEEDS_HASH: 400, INVALID_PRIMARY_KEY_NULL: 400, INVALID_PRIMARY_KEY_TYPE: 400, PRIMARY_KEY_TOO_LARGE: 400,
  TYPE_VIOLATION: 400, UNKNOWN_ATTRIBUTE: 400, OR_NEEDS_TWO: 400, INVALID_OPERATOR: 400, DATABASE_EXISTS: 400,
  DATABASE_NOT_FOUND: 404, TABLE_EXISTS: 400, TABLE_NOT_FOUND: 404, TABLE_NOT_FOUND_SHORT: 400,
  PRIMARY_KEY_REQUIRED: 400, ATTRIBUTE_EXISTS: 400, ATTRIBUTE_NOT_FOUND: 404, DROP_HASH_ATTRIBUTE: 400,
  DROP_TIMESTAMP: 400, SYSTEM_DATABASE: 403, INVALID_SERVICE: 400, CONFIG_VALIDATION: 400, NOT_IMPLEMENTED: 400,
  RESTRICTED_OPERATION: 403, INVALID_ACTION: 400, NO_SUCH_FILE: 400, FILE_PERMISSION_DENIED: 400, ROLE_PERMISSION_DENIED: 403, INVALID_URL: 400,
  INVALID_COLUMN_NAME: 400, INVALID_ATTRIBUTE_VALUE: 400, INVALID_DATE: 400, NO_CREATED_TIME: 400,
  INVALID_EXPORT_FORMAT: 400, INVALID_SEARCH_OPERATION: 400, NOT_A_DIRECTORY: 400, WRITE_QUEUE_FULL: 503, SERVICE_UNAVAILABLE: 503, INTERNAL: 500,
};

test('every pinned error code keeps its status, and no code disappears', () => {
  for (const [code, status] of Object.entries(PINNED)) {
    assert.ok(code in registry, `code ${code} was removed`);
    assert.equal((registry as Record<string, { status: number }>)[code]!.status, status, code);
  }
});

test('messages reproduce Harper byte for byte', () => {
  assert.equal(weftError('TABLE_NOT_FOUND', 'dev', 'dog').message, "Table 'dev.dog' does not exist");
  assert.equal(weftError('MISSING_OPERATION').message, "Request body must include an 'operation' property.");
  assert.equal(weftError('SYSTEM_DATABASE').message,
    "The 'system' database, tables and records are used internally by HarperDB and cannot be updated or removed.");
});

test('internal errors never leak their message to the client', () => {
  const res = errorResponse(new Error('/secret/path exploded'));
  assert.equal(res.status, 500);
  assert.deepEqual(res.body, { error: 'There was an error processing your request. Check logs and try again.' });
  const known = errorResponse(weftError('DATABASE_NOT_FOUND', 'x').withStatus(400));
  assert.deepEqual(known, { status: 400, body: { error: "database 'x' does not exist" } });
});
