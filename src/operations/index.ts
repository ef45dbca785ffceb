/**
 * operations: Harper's Operations API. One parse step normalises aliases, one authorisation step checks the caller,
 * then an exhaustive handler map runs the operation. Knows nothing of HTTP: the transport hands it a plain object and
 * serialises what comes back.
 */
import { weftError } from '../errors/index.js';
import type { RequestContext } from '../auth/index.js';
import { canonicalOperation, type OperationName } from './catalog.js';
import { afterOperation, authorizeOperation, filterResult, sqlAccess } from './access.js';
import * as users from './users.js';
import * as schema from './schema.js';
import * as data from './data.js';
import * as searchOps from './search.js';
import * as system from './system.js';
import * as components from './components.js';
import { executeSql } from '../sql/index.js';
import { poolSizeOf } from '../pool/index.js';
import * as jobs from '../jobs/index.js';
import type { Handler, OperationRequest, ServerServices } from './types.js';

export type { ServerServices, ClusterBridge, ThreadInfo, UserDirectory, OperationRequest } from './types.js';
export { OPERATIONS, canonicalOperation, type OperationName } from './catalog.js';
export { writeRecords, checkKey, checkAttributeName, checkNewAttributeName, type WriteOp, type WriteOutcome } from './data.js';
export { assertWritable, databaseName, optionalInteger, requireString, resolveTable, tableName } from './validate.js';

const later = (op: string): Handler => () => { throw weftError('NOT_IMPLEMENTED', op); };

const HANDLERS: Record<OperationName, Handler> = {
  create_database: schema.createDatabase, drop_database: schema.dropDatabase, describe_database: schema.describeDatabase,
  create_table: schema.createTable, drop_table: schema.dropTable, describe_table: schema.describeTable,
  create_attribute: schema.createAttribute, drop_attribute: schema.dropAttribute, describe_all: schema.describeAll,
  insert: data.insert, update: data.update, upsert: data.upsert, delete: data.deleteRecords,
  search_by_id: searchOps.searchById, search_by_value: searchOps.searchByValue,
  search_by_conditions: searchOps.searchByConditions, search: later('search'), sql: (req, ctx, services) => executeSql(req.sql, {
    storage: services.storage, schemaChanged: (db) => services.cluster.schemaChanged(db), access: sqlAccess(ctx.user),
    runTask: (task) => services.cluster.runTask(task), parallelThreshold: services.config.sql?.parallelThreshold,
    poolSize: poolSizeOf(services.config),
  }, ctx.user?.username),
  csv_data_load: jobs.csvDataLoad, csv_file_load: jobs.csvFileLoad, csv_url_load: jobs.csvUrlLoad,
  import_from_s3: later('import_from_s3'), export_local: jobs.exportLocal, export_to_s3: later('export_to_s3'),
  delete_records_before: jobs.deleteRecordsBefore, delete_audit_logs_before: later('delete_audit_logs_before'),
  delete_transaction_logs_before: later('delete_transaction_logs_before'), get_job: jobs.getJob,
  search_jobs_by_start_date: jobs.searchJobsByStartDate, read_audit_log: jobs.readAuditLog,
  read_transaction_log: jobs.readTransactionLog,
  add_user: users.addUser, alter_user: users.alterUser, drop_user: users.dropUser, list_users: users.listUsers,
  user_info: users.userInfo, add_role: users.addRole, alter_role: users.alterRole,
  drop_role: users.dropRole, list_roles: users.listRoles,
  create_authentication_tokens: users.createAuthenticationTokens,
  refresh_operation_token: users.refreshOperationToken, login: users.login, logout: users.logout,
  system_information: system.systemInformation, get_configuration: system.getConfiguration,
  set_configuration: system.setConfigurationOp, restart: system.restart, restart_service: system.restartService,
  read_log: later('read_log'), get_analytics: later('get_analytics'), list_metrics: later('list_metrics'),
  describe_metric: later('describe_metric'), get_status: later('get_status'), set_status: later('set_status'),
  clear_status: later('clear_status'), get_backup: later('get_backup'), cleanup_orphan_blobs: later('cleanup_orphan_blobs'),
  get_components: components.getComponents, get_component_file: components.getComponentFile,
  set_component_file: components.setComponentFile, drop_component: components.dropComponent,
  add_component: components.addComponent, package_component: components.packageComponent,
  deploy_component: components.deployComponent, install_node_modules: later('install_node_modules'),
  custom_functions_status: later('custom_functions_status'), get_custom_functions: later('get_custom_functions'),
  get_custom_function: later('get_custom_function'), set_custom_function: later('set_custom_function'),
  drop_custom_function: later('drop_custom_function'), drop_custom_function_project: later('drop_custom_function_project'),
  add_ssh_key: later('add_ssh_key'), update_ssh_key: later('update_ssh_key'), delete_ssh_key: later('delete_ssh_key'),
  list_ssh_keys: later('list_ssh_keys'), get_ssh_key: later('get_ssh_key'), set_ssh_known_hosts: later('set_ssh_known_hosts'),
  get_ssh_known_hosts: later('get_ssh_known_hosts'), add_node: later('add_node'), update_node: later('update_node'),
  remove_node: later('remove_node'), cluster_status: later('cluster_status'), configure_cluster: later('configure_cluster'),
  cluster_set_routes: later('cluster_set_routes'), cluster_get_routes: later('cluster_get_routes'),
  cluster_delete_routes: later('cluster_delete_routes'), add_certificate: later('add_certificate'),
  remove_certificate: later('remove_certificate'), list_certificates: later('list_certificates'),
  registration_info: later('registration_info'), get_fingerprint: later('get_fingerprint'), set_license: later('set_license'),
  install_usage_license: later('install_usage_license'), get_usage_licenses: later('get_usage_licenses'),
  catchup: later('catchup'),
};

/** Normalise a request body: validate its shape, resolve the operation name and the field aliases (spec §2.4). */
export function parseOperation(body: unknown): OperationRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) throw weftError('INVALID_JSON');
  const raw = body as Record<string, unknown>;
  const name = raw.operation;
  if (name === undefined || name === null || name === '') throw weftError('MISSING_OPERATION');
  if (typeof name !== 'string') throw weftError('UNKNOWN_OPERATION', String(name));
  const operation = canonicalOperation(name);
  if (!operation) throw weftError('UNKNOWN_OPERATION', name);
  // the aliases are left out by a rest copy, never deleted: a delete turns the object into a dictionary, and every
  // later store and read of the request was a V8 runtime call (most Harper clients send `schema`, `search_attribute`)
  const { schema, hash_attribute, hash_values, search_attribute, search_value, search_type, select, ...req } = raw;
  req.operation = operation;
  if (req.database === undefined && schema !== undefined) req.database = schema;
  if (req.primary_key === undefined && hash_attribute !== undefined) req.primary_key = hash_attribute;
  if (req.ids === undefined && hash_values !== undefined) req.ids = hash_values;
  if (req.attribute === undefined && search_attribute !== undefined) req.attribute = search_attribute;
  if (req.value === undefined && search_value !== undefined) req.value = search_value;
  if (req.comparator === undefined && search_type !== undefined) req.comparator = search_type;
  // `select` is SQL's own field (and system_information's); elsewhere it is get_attributes
  if (operation === 'sql' || operation === 'system_information') { if (select !== undefined) req.select = select; }
  else if (req.get_attributes === undefined && select !== undefined) req.get_attributes = select;
  return req as OperationRequest;
}

export async function executeOperation(body: unknown, ctx: RequestContext, services: ServerServices): Promise<unknown> {
  const req = authorizeOperation(parseOperation(body), ctx.user, services);
  const result = await HANDLERS[req.operation](req, ctx, services);
  await afterOperation(req, services);
  return filterResult(req, ctx.user, result);
}
