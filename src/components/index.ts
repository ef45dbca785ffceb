/**
 * components: applications (spec §5.2) — reading an application folder (config.yaml, schema.graphql) and ensuring
 * the tables it declares. It never serves requests (rest/ does) and never creates tables from a worker thread:
 * ensureTables runs once on the main thread before workers start.
 */
export { readApplication, readApplicationConfig, componentFolders, globToRegExp, globBase, matchFiles, staticMounts, type Application, type ApplicationConfig, type StaticMount, type StaticSpec } from './application.js';
export { parseSchema, SchemaError, SCALARS, type TableSpec, type AttributeSpec, type ExportSpec, type RelationshipSpec } from './schema.js';
export { ensureTables, type EnsureResult } from './ensure.js';
export { checkProject, projectPath, listComponents, readComponentFile, writeComponentFile, dropComponent, packageComponent, deployComponent } from './files.js';
export { readRoles, ensureRoles, permissionFromYaml, type RoleSpec, type EnsureRolesResult } from './roles.js';
export { loadEnv, pluginFiles, type EnvResult } from './env.js';
export { loadData, type DataLoadResult, type Upsert } from './data-loader.js';
