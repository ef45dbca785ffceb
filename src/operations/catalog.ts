/**
 * The operation catalogue (spec §2.5): every name Weft recognises, its aliases, and which are super-user only
 * (with the internal handler name Harper reports in its 403 body, spec §2.6 item 4).
 */
export const OPERATIONS = [
  // databases and tables
  'create_database', 'drop_database', 'describe_database', 'create_table', 'drop_table', 'describe_table',
  'create_attribute', 'drop_attribute', 'describe_all',
  // data
  'insert', 'update', 'upsert', 'delete', 'search_by_id', 'search_by_value', 'search_by_conditions', 'search', 'sql',
  // bulk and jobs
  'csv_data_load', 'csv_file_load', 'csv_url_load', 'import_from_s3', 'export_local', 'export_to_s3',
  'delete_records_before', 'delete_audit_logs_before', 'delete_transaction_logs_before', 'get_job',
  'search_jobs_by_start_date', 'read_audit_log', 'read_transaction_log',
  // users, roles, tokens
  'add_user', 'alter_user', 'drop_user', 'list_users', 'user_info', 'add_role', 'alter_role', 'drop_role', 'list_roles',
  'create_authentication_tokens', 'refresh_operation_token', 'login', 'logout',
  // system
  'system_information', 'get_configuration', 'set_configuration', 'restart', 'restart_service', 'read_log',
  'get_analytics', 'list_metrics', 'describe_metric', 'get_status', 'set_status', 'clear_status', 'get_backup',
  'cleanup_orphan_blobs',
  // components
  'get_components', 'get_component_file', 'set_component_file', 'drop_component', 'add_component',
  'package_component', 'deploy_component', 'install_node_modules', 'custom_functions_status', 'get_custom_functions',
  'get_custom_function', 'set_custom_function', 'drop_custom_function', 'drop_custom_function_project',
  // ssh, clustering, certificates, licensing
  'add_ssh_key', 'update_ssh_key', 'delete_ssh_key', 'list_ssh_keys', 'get_ssh_key', 'set_ssh_known_hosts',
  'get_ssh_known_hosts', 'add_node', 'update_node', 'remove_node', 'cluster_status', 'configure_cluster',
  'cluster_set_routes', 'cluster_get_routes', 'cluster_delete_routes', 'add_certificate', 'remove_certificate',
  'list_certificates', 'registration_info', 'get_fingerprint', 'set_license', 'install_usage_license',
  'get_usage_licenses', 'catchup',
] as const;

export type OperationName = (typeof OPERATIONS)[number];

export const OPERATION_ALIASES: Record<string, OperationName> = {
  create_schema: 'create_database',
  drop_schema: 'drop_database',
  describe_schema: 'describe_database',
  search_by_hash: 'search_by_id',
  delete_files_before: 'delete_records_before',
  set_node: 'update_node',
  add_custom_function_project: 'add_component',
  package_custom_function_project: 'package_component',
  deploy_custom_function_project: 'deploy_component',
  deploy: 'deploy_component',
  package: 'package_component',
};

const NAMES = new Set<string>(OPERATIONS);

export function canonicalOperation(name: string): OperationName | undefined {
  if (NAMES.has(name)) return name as OperationName;
  return OPERATION_ALIASES[name];
}

/** Super-user-only operations and the handler name Harper's 403 body names (a reproduced quirk). */
export const SUPER_USER_ONLY: Partial<Record<OperationName, string>> = {
  create_database: 'createSchema', drop_database: 'dropSchema', create_table: 'createTable', drop_table: 'dropTable',
  drop_attribute: 'dropAttribute', add_user: 'addUser', alter_user: 'alterUser', drop_user: 'dropUser',
  list_users: 'listUsersExternal', add_role: 'addRole', alter_role: 'alterRole', drop_role: 'dropRole',
  list_roles: 'listRoles', set_configuration: 'setConfiguration', get_configuration: 'getConfiguration',
  system_information: 'systemInformation', restart: 'restart', restart_service: 'restartService', read_log: 'readLog',
  read_audit_log: 'readAuditLog', read_transaction_log: 'readTransactionLog',
  delete_transaction_logs_before: 'deleteTransactionLogsBefore', delete_audit_logs_before: 'deleteAuditLogsBefore',
  delete_records_before: 'deleteFilesBefore', search_jobs_by_start_date: 'handleGetJobsByStartDate',
  export_local: 'export_local', export_to_s3: 'export_to_s3', install_node_modules: 'installModules',
  get_status: 'getStatus', set_status: 'setStatus', clear_status: 'clearStatus', get_components: 'getComponents',
  get_component_file: 'getComponentFile', set_component_file: 'setComponentFile', drop_component: 'dropComponent',
  add_component: 'addComponent', package_component: 'packageComponent', deploy_component: 'deployComponent',
  custom_functions_status: 'customFunctionsStatus', get_custom_functions: 'getCustomFunctions',
  get_custom_function: 'getCustomFunction', set_custom_function: 'setCustomFunction',
  drop_custom_function: 'dropCustomFunction', drop_custom_function_project: 'dropCustomFunctionProject',
  get_backup: 'getBackup', cleanup_orphan_blobs: 'cleanupOrphanBlobs', add_node: 'addNode', update_node: 'updateNode',
  remove_node: 'removeNode', cluster_status: 'clusterStatus', configure_cluster: 'configureCluster',
  cluster_set_routes: 'clusterSetRoutes', cluster_get_routes: 'clusterGetRoutes',
  cluster_delete_routes: 'clusterDeleteRoutes', add_certificate: 'addCertificate',
  remove_certificate: 'removeCertificate', list_certificates: 'listCertificates', add_ssh_key: 'addSSHKey',
  update_ssh_key: 'updateSSHKey', delete_ssh_key: 'deleteSSHKey', list_ssh_keys: 'listSSHKeys', get_ssh_key: 'getSSHKey',
  set_ssh_known_hosts: 'setSSHKnownHosts', get_ssh_known_hosts: 'getSSHKnownHosts', catchup: 'catchup',
  set_license: 'setLicense', install_usage_license: 'installUsageLicense', get_usage_licenses: 'getUsageLicenses',
  get_fingerprint: 'getFingerprint',
};

/** Operations that need no authenticated user (they authenticate themselves). */
export const NO_AUTH: ReadonlySet<OperationName> = new Set(['login', 'logout', 'create_authentication_tokens', 'refresh_operation_token']);
