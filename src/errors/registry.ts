/**
 * The registry of Weft's stable error codes. A code is never reused or renamed: clients and tests match on it.
 * Each entry has the HTTP status and the Harper-compatible message (byte-for-byte where the spec gives one).
 */
type Msg = (...args: any[]) => string;
interface Entry { status: number; message: Msg }

function e<M extends Msg>(status: number, message: M): { status: number; message: M } {
  return { status, message };
}

export const registry = {
  // request framing
  INVALID_JSON: e(400, () => 'Invalid JSON.'),
  JSON_PARSE: e(400, (detail: string) => detail),
  EMPTY_JSON_BODY: e(400, () => "Body cannot be empty when content-type is set to 'application/json'"),
  UNSUPPORTED_MEDIA_TYPE: e(415, (type: string) => `Unsupported Media Type: ${type}`),
  NOT_ACCEPTABLE: e(406, () =>
    'No supported content types found in Accept header, supported types include: application/json, application/cbor, application/x-msgpack, text/csv, text/plain, text/yaml, text/event-stream, application/x-www-form-urlencoded, */*, '),
  BODY_TOO_LARGE: e(413, (limit: number) => `Request body exceeds the limit of ${limit} bytes`),
  JSON_TOO_DEEP: e(400, (limit: number) => `JSON nesting exceeds the limit of ${limit} levels`),
  MISSING_OPERATION: e(400, () => "Request body must include an 'operation' property."),
  UNKNOWN_OPERATION: e(400, (op: string) => `Operation '${op}' not found`),
  NOT_FOUND: e(404, () => 'Not found'),
  // authentication
  LOGIN_FAILED: e(401, () => 'Login failed'),
  MUST_LOGIN: e(401, () => 'Must login'),
  INVALID_TOKEN: e(401, () => 'invalid token'),
  TOKEN_EXPIRED: e(403, () => 'token expired'),
  USER_INACTIVE: e(401, () => 'Cannot complete request: User is inactive'),
  // validation
  FIELD_REQUIRED: e(400, (field: string) => `'${field}' is required`),
  FIELD_TYPE: e(400, (field: string, type: string) => `'${field}' must be ${type}`),
  VALIDATION: e(400, (detail: string) => detail),
  BAD_NAME: e(400, (field: string) => `'${field}' names cannot include backticks or forward slashes`),
  INVALID_ATTRIBUTE_NAME: e(400, (name: string) => `Invalid attribute name: '${name}'`),
  ATTRIBUTE_NAME_CHARS: e(400, () => 'Attribute names cannot include backticks or forward slashes'),
  ATTRIBUTE_NAME_TOO_LONG: e(400, (name: string) =>
    `transaction aborted due to attribute name ${name} being too long. Attribute names cannot be longer than 250 bytes.`),
  ATTRIBUTE_NAME_BLANK: e(400, () =>
    'transaction aborted due to record(s) with an attribute name that is null, undefined or empty string'),
  INVALID_HASH_VALUE: e(400, (v: unknown) =>
    `Invalid hash value: '${String(v)}' is not a valid hash attribute value, check log for more info`),
  UPDATE_NEEDS_HASH: e(400, () => 'a valid hash attribute must be provided with update record, check log for more info'),
  INVALID_PRIMARY_KEY_NULL: e(400, () => 'Invalid primary key of null'),
  INVALID_PRIMARY_KEY_TYPE: e(400, (type: string) => `Invalid primary key type: ${type}`),
  PRIMARY_KEY_TOO_LARGE: e(400, (len: number) => `Primary key size is too large: ${len}`),
  TYPE_VIOLATION: e(400, (detail: string) => detail),
  UNKNOWN_ATTRIBUTE: e(400, (names: string) => `unknown attribute '${names}'`),
  OR_NEEDS_TWO: e(400, () => 'An "or" operator requires at least two conditions'),
  INVALID_OPERATOR: e(400, (op: string) => `Invalid operator ${op}`),
  // schema objects
  DATABASE_EXISTS: e(400, (db: string) => `database '${db}' already exists`),
  DATABASE_NOT_FOUND: e(404, (db: string) => `database '${db}' does not exist`),
  TABLE_EXISTS: e(400, (db: string, table: string) => `Table '${table}' already exists in '${db}'`),
  TABLE_NOT_FOUND: e(404, (db: string, table: string) => `Table '${db}.${table}' does not exist`),
  TABLE_NOT_FOUND_SHORT: e(400, (table: string) => `Table ${table} not found`),
  PRIMARY_KEY_REQUIRED: e(400, () => "'primary_key' is required"),
  ATTRIBUTE_EXISTS: e(400, (attr: string, db: string, table: string) => `attribute '${attr}' already exists in ${db}.${table}`),
  ATTRIBUTE_NOT_FOUND: e(404, (attr: string) => `Attribute '${attr}' does not exist`),
  DROP_HASH_ATTRIBUTE: e(400, () => 'You cannot drop a hash attribute'),
  DROP_TIMESTAMP: e(400, (name: string) => `cannot drop internal timestamp attribute: ${name}`),
  SYSTEM_DATABASE: e(403, () =>
    "The 'system' database, tables and records are used internally by HarperDB and cannot be updated or removed."),
  // sql (spec §2.9)
  SQL_MISSING: e(400, () => "The 'sql' parameter is missing from the request body"),
  SQL_INVALID_AT: e(400, (fragment: string) =>
    `Invalid SQL at: ${fragment}. Please ensure your SQL is valid. Try adding backticks to reserved words and schema table references.`),
  SQL_PARSE: e(400, () =>
    'We had trouble parsing your request. Please ensure your SQL is valid. Try adding backticks to reserved words and schema table references.'),
  SQL_UNSUPPORTED_TYPE: e(400, (type: string) => `unsupported SQL type ${type}`),
  SQL_UNSUPPORTED: e(400, (what: string) => `unsupported SQL: ${what}`),
  SQL_SCHEMA_NOT_DEFINED: e(400, (table: string) => `schema not defined for table ${table}`),
  SQL_NO_SCHEMA: e(400, () => 'No schema specified'),
  SQL_GROUP_BY_NOT_IN_SELECT: e(400, (col: string) => `group by column '${col}' must be in select`),
  SQL_SELECT_NOT_IN_GROUP_BY: e(400, (col: string) => `select column '${col}' must be in group by`),
  SQL_UNKNOWN_GROUP_BY_COLUMN: e(400, (col: string) => `unknown column '${col}' in group by`),
  SQL_AMBIGUOUS_COLUMN: e(400, (col: string) => `ambiguous column reference ${col}`),
  SQL_UNKNOWN_COLUMN: e(400, (col: string) => `unknown column ${col}`),
  SQL_UNKNOWN_FUNCTION: e(400, (name: string) => `unknown function ${name}`),
  SQL_BAD_ARGUMENTS: e(400, (detail: string) => detail),
  // system / config
  INVALID_SERVICE: e(400, () => 'Invalid service'),
  CONFIG_VALIDATION: e(400, (detail: string) => `HarperDB config file validation error: ${detail}`),
  NOT_IMPLEMENTED: e(400, (op: string) => `Operation '${op}' is not supported by this version of Weft yet`),
  RESTRICTED_OPERATION: e(403, (handler: string) => `Operation '${handler}' is restricted to 'super_user' roles`),
  // bulk load, export and jobs
  INVALID_ACTION: e(400, () => 'Action is required and must be either insert, update, or upsert'),
  NO_SUCH_FILE: e(400, (p: string) => `No such file or directory ${p}`),
  FILE_PERMISSION_DENIED: e(400, (p: string) => `Permission denied ${p}`),
  INVALID_URL: e(400, () => "'csv_url' must be a valid url"),
  INVALID_COLUMN_NAME: e(400, (c: string) => `Invalid column name '${c}', cancelling load operation`),
  INVALID_ATTRIBUTE_VALUE: e(400, (name: string, value: string, type: string) =>
    `Invalid value for attribute ${name}: "${value}", expecting ${type}`),
  INVALID_DATE: e(400, () => 'Invalid date, must be in ISO-8601 format (YYYY-MM-DD).'),
  NO_CREATED_TIME: e(400, () =>
    "Table must have a '__createdtime__' attribute or @createdTime timestamp defined to perform this operation"),
  INVALID_EXPORT_FORMAT: e(400, () => "'format' must be one of [json, csv]"),
  INVALID_SEARCH_OPERATION: e(400, () =>
    "'search_operation.operation' must be one of [search_by_hash, search_by_id, search_by_value, search_by_conditions, sql]"),
  NOT_A_DIRECTORY: e(400, (p: string) => `Path ${p} is not a directory`),
  // users, roles, permissions, tokens (spec §2.6, §2.11, §2.12)
  ROLE_PERMISSION_DENIED: e(403, () => 'This operation is not authorized due to role restrictions and/or invalid database items'),
  TIMESTAMP_WRITE: e(403, () =>
    "Internal timestamp attributes - '__createdtime_' and '__updatedtime__' - cannot be inserted to or updated by HDB users."),
  ROLE_VALIDATION: e(400, () => 'Errors in the role permissions JSON provided'),
  ROLE_NAME_NOT_FOUND: e(404, (role: string) => `${role} role not found`),
  DUPLICATE_ROLE_NAMES: e(409, (role: string) =>
    `Multiple ${role} roles found.  Roles must have unique 'role' value. Please update and try again.`),
  USER_EXISTS: e(409, (user: string) => `User ${user} already exists`),
  USER_NOT_FOUND: e(404, (user: string) => `User ${user} does not exist`),
  ALTER_USER_ROLE_NOT_FOUND: e(404, (role: string) => `Update failed.  Requested '${role}' role not found.`),
  ROLE_EXISTS: e(409, (role: string) => `A role with name '${role}' already exists`),
  INVALID_ROLE_ID: e(400, () => 'Invalid role id'),
  ROLE_NOT_FOUND: e(404, () => 'Role not found'),
  ROLE_IN_USE: e(409, (role: string) => `Cannot drop role ${role} as it has active user(s) tied to this role`),
  INVALID_CREDENTIALS: e(401, () => 'invalid credentials'),
  LOGIN_THROTTLED: e(429, (seconds: number) => `Too many failed login attempts. Try again in ${seconds} seconds.`),
  // server
  WRITE_QUEUE_FULL: e(503, (ms: number) => `Write queue is older than ${ms} ms, try again later`),
  SERVICE_UNAVAILABLE: e(503, () => 'Service unavailable, exceeded request queue limit'),
  INTERNAL: e(500, () => 'There was an error processing your request. Check logs and try again.'),
  // REST interface (spec §4)
  REST_QUERY_PARSE: e(400, (detail: string, position: number, query: string) =>
    `Unable to parse query, ${detail} at position ${position} in '${query}'`),
  REST_NOT_DEFINED_ATTRIBUTE: e(404, (attr: string) => `${attr} is not a defined attribute`),
  REST_UNKNOWN_FUNCTION: e(400, (name: string) => `unknown query function call ${name}`),
  REST_GROUP_BY: e(400, () => 'group by is not implemented yet'),
  REST_MIXED_OPERATORS: e(400, () => 'Can not mix operators within a condition grouping'),
  REST_WILDCARD: e(400, () => 'wildcard can only be used at the end of a string'),
  REST_UNKNOWN_TYPE: e(400, (type: string) => `Unknown type ${type}`),
  REST_INVALID_CHAIN: e(400, () => 'Invalid chained condition, only less than and greater than conditions can be chained together'),
  REST_MULTIPLE_CHAIN: e(400, () => 'Multiple chained conditions are not currently supported'),
  REST_INVALID_VALUE: e(400, (name: string, value: string, type: string) => `Invalid value for attribute ${name}: "${value}", expecting ${type}`),
  REST_RECORD_EXISTS: e(409, () => 'Record already exists'),
  REST_METHOD_NOT_RECOGNIZED: e(501, (method: string) => `Method ${method} is not recognized`),
  REST_METHOD_NOT_ALLOWED: e(405, (cls: string, method: string, httpMethod: string) =>
    `The ${cls} does not have a ${method} method implemented to handle HTTP method ${httpMethod}`),
  REST_UNAUTHORIZED: e(403, () => 'Unauthorized access to resource'),
  REST_BODY_NOT_OBJECT: e(400, () => 'The request body must be an object (a record)'),
  REST_CONFLICTING_PATHS: e(500, (path: string) => `Conflicting paths for ${path}`),
  REST_APPLICATION_LOAD: e(500, (detail: string) => detail),
  REST_RELATION_QUERY: e(400, () => 'Can not directly query a relational attribute, must query an attribute within the target table'),
  REST_NOT_RELATIONSHIP: e(400, (attr: string) => `${attr} is not a relationship, it can not have a nested select`),
  CACHE_NOT_CACHED: e(504, () => 'Entry is not cached'),
  CACHE_ORIGIN_TIMEOUT: e(504, (ms: number) => `The source did not answer within ${ms} ms`),
  CACHE_ORIGIN_NOT_RECORD: e(502, () => 'The source returned a value that is not a record'),
  COMPONENT_PROJECT_NAME: e(400, () => 'Project name can only contain alphanumeric, dash and underscores characters'),
  COMPONENT_BAD_PATH: e(400, (p: string) => `Invalid path '${p}': component paths must stay inside the project folder`),
  COMPONENT_FILE_NOT_FOUND: e(400, (project: string, file: string) => `Component file not found '${project}/${file}'`),
  COMPONENT_NOT_FOUND: e(400, (project: string) => `Component not found '${project}'`),
  COMPONENT_NOT_LOCATED: e(400, (project: string) => `Unable to locate project '${project}'`),
  COMPONENT_BAD_PAYLOAD: e(400, (detail: string) => `The payload is not a valid tar archive: ${detail}`),
  COMPONENT_LOAD: e(400, (project: string, detail: string) => `Component ${project} failed to load: ${detail}`),
  COMPONENT_EXISTS: e(400, (project: string) => `Project already exists: ${project}`),
  REST_RELATION_UNAVAILABLE: e(500, (attr: string) => `The relationship ${attr} can not be resolved here`),
  OPENAPI_FORBIDDEN: e(403, () => 'Forbidden'),
  REST_NOT_INDEXED: e(404, (attr: string) => `"${attr}" is not indexed, can not search for this attribute`),
  REST_NEEDS_INDEX: e(403, (comparator: string, attr: string) =>
    `Can not use ${comparator} operator without combining with a condition that uses an index, can not search for attribute ${attr}`),
  REST_SORT_NOT_INDEXED: e(404, (attr: string) => `${attr} is not indexed and not combined with any other conditions`),
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof registry;
export type ErrorArgs<C extends ErrorCode> = Parameters<(typeof registry)[C]['message']>;

/** The shape errors take when they cross threads (structured clone drops classes). */
export interface WireError { code: ErrorCode; status: number; message: string; body?: Record<string, unknown> }
