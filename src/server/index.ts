/**
 * server: the composition root of one serving runtime (storage -> users -> operations/REST -> listeners) and the
 * listening sockets every worker shares. Owns nothing about process lifecycles (that is threads/) and never parses
 * request bodies itself (that is http/).
 */
export { WeftRuntime, type RuntimeOptions } from './runtime.js';
export { parsePort, reservePort, listenShared, closeFd, dupFd } from './listen.js';
export { ensureCertificates } from './tls.js';
