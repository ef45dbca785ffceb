/** What sibling subsystems (sql) may use of the operations' internals: the shared record-write logic. */
export { applyWrites, checkRecords, writeResponse, type WriteOp, type WriteOutcome } from './data.js';
