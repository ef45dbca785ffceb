/**
 * auth: who is asking and whether they may. Owns users, roles, sessions, tokens, password hashes, the request context
 * and the one authorisation module (permissions.ts) that every protocol calls. No handler checks credentials or
 * permissions on its own.
 */
export { UserStore, SYSTEM_DB, USER_TABLE, ROLE_TABLE, SESSION_TABLE, type StoredUser, type UserStoreOptions } from './users.js';
export { hashPassword, verifyPassword, type HashFunction } from './passwords.js';
export { ensureSystemDatabase, type InstallResult } from './install.js';
export { isSuperUser, type RequestContext, type RequestInfo, type User, type Role, type Transport } from './types.js';
export { ensureJwtKeys, parseLifetime, TokenService, type TokenKind, type TokenClaims } from './tokens.js';
export { LoginThrottle, type ThrottleOptions } from './throttle.js';
export { validateRoleRequest, type SchemaLookup } from './roles.js';
export {
  ACTIONS, TIMESTAMP_ATTRIBUTES, attributeGrants, authorizeTable, canSeeDatabase, canSeeTable, checkAccess, checkDescribe,
  checkHasRole, checkStructure, checkSuperUser, checkTimestampWrites, evaluateAccess, forbidden, hasRole,
  isStructureUserFor, listedTables, noRoleMessage, readableAttributes, tablePermission, visibleAttributes,
  type AccessCheck, type AccessResult, type Action, type AttributePermission, type TablePermission, type UnauthorizedTable,
} from './permissions.js';
export { sessionCookieName, sessionCookie, readCookie } from './sessions.js';
export { authenticateRequest, isLoopback, requestInfo, type AuthenticateDeps, type AuthenticateOptions } from './authenticate.js';
