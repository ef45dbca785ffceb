/**
 * storage: Weft's only door to LMDB. Owns database files, table catalogs, records (msgpackr with shared structures),
 * secondary indexes, the audit log and the transaction clock. It knows nothing of HTTP, users or operations, and
 * must never let a reader see a half-applied transaction.
 */
export { LmdbStorage, type StorageOptions } from './lmdb-storage.js';
export { Database, type TransactResult } from './database.js';
export { Table, setReloadsStale, clearReloadsStale, expiryMs, type RecordMeta } from './table.js';
export { WriteTxn, type PutOptions } from './write-txn.js';
export { TxnClock } from './clock.js';
export { search, matchTree, compareValues, countCandidates } from './query.js';
export { indexKeys, MAX_INDEXED_STRING } from './index-keys.js';
export * from './types.js';
export { copyRecord, copyWithKey } from './records.js';
export { setComputedFunction, computedSyntaxError, type ComputeFn } from './computed.js';
export { checkRecordTypes, checkType, attributeTypeString } from './record-types.js';
