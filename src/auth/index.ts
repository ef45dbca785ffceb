/**
 * auth: who is asking and whether they may. Owns users, roles, password hashes and the request context.
 * Every protocol authenticates through here; no handler checks credentials on its own.
 */
export { UserStore, SYSTEM_DB, USER_TABLE, ROLE_TABLE } from './users.js';
export { hashPassword, verifyPassword, type HashFunction } from './passwords.js';
export { ensureSystemDatabase, type InstallResult } from './install.js';
export { isSuperUser, type RequestContext, type User, type Role, type Transport } from './types.js';
