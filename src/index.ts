/** weftdb: the package entry. Embedding API for tests and applications. */
export { Supervisor, type SupervisorOptions } from './threads/index.js';
export { WeftRuntime, type RuntimeOptions } from './server/index.js';
export { loadConfig, DEFAULT_CONFIG, type WeftConfig } from './config/index.js';
export { LmdbStorage } from './storage/index.js';
export { WeftError, weftError, type ErrorCode } from './errors/index.js';
// The Resource API applications import (`import { Resource, tables } from 'weftdb'`, spec §5.3).
export { Resource, RequestTarget, tables, databases, transaction, Transaction, type ResourceContext } from './rest/index.js';
