/**
 * Copies of records. Every copy of a record that code may extend afterwards (the primary key, the timestamps, a
 * merge) goes through here, never through `{ ...a, ...b }` or `{ ...a, [key]: v }`: V8 (Node 20) gives an object
 * made by spread a hidden class outside the transition tree, so adding a property to it makes a new hidden class
 * on every call. That cost ~0.7 us per record, and every inline cache that saw the record afterwards (msgpackr's
 * encoder, lmdb-js's writer) missed as if meeting a new shape. Object.assign copies through the shared transitions:
 * ~70 ns, and equal records keep one hidden class. Measured with %HaveSameMap and timings in the sixth session
 * (bench/RESULTS.md).
 */
import type { Key, Rec } from './types.js';

/** A shallow copy of `base` with `over`'s properties on top (the merge of a write). */
export function copyRecord(base: Rec, over?: Rec): Rec {
  // Object.assign sets `__proto__` through the setter (replacing the copy's prototype) where spread defines it as
  // an own property; a body may carry that key (JSON.parse makes it an own property), so those copies spread
  if (Object.hasOwn(base, '__proto__') || (over && Object.hasOwn(over, '__proto__'))) return { ...base, ...over };
  return over ? Object.assign({}, base, over) : Object.assign({}, base);
}

/** A shallow copy of `base` (then `over`) with its primary key set. */
export function copyWithKey(base: Rec, primaryKey: string, id: Key, over?: Rec): Rec {
  const out = copyRecord(base, over);
  out[primaryKey] = id;
  return out;
}
