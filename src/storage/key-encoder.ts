/**
 * lmdb-js encodes keys (and the values of ordered-binary stores: index entries) with ordered-binary's writeKey. It
 * writes a short string byte by byte (`target[position++] = c`) into whichever buffer lmdb-js hands it: the read key
 * buffer, the write instruction buffers, the value-encoding buffer. Those are typed arrays carrying different
 * expando properties, so they have different hidden classes; in a Weft worker more than four reach that store, it
 * turns megamorphic, and a megamorphic store into a typed array is a V8 runtime call per byte. That was ~13% of a
 * worker's CPU in the insert benchmark (~1 us per key), and part of every GET.
 *
 * `writeKey` below writes the common key, a short string of printable ASCII, through the buffer's DataView (one
 * hidden class, so the calls stay inlined) and hands everything else to ordered-binary. The bytes are exactly
 * ordered-binary's (a string starting at or above code 28, with no code <= 4 or >= 0x80, is its own bytes, then four
 * zero bytes outside the key, as lmdb-js has ordered-binary terminate keys), so stores written before read back and
 * sort the same. Tested byte for byte against ordered-binary in
 * key-encoder.test.ts.
 */
import type { DatabaseOptions } from 'lmdb';
import { readKey, writeKey as orderedWriteKey } from 'ordered-binary';

type StoreOptions = DatabaseOptions & { name: string };

interface KeyTarget extends Uint8Array { dataView?: DataView }

let lastTarget: KeyTarget | undefined;
let lastView: DataView | undefined;

export function writeKey(key: unknown, target: KeyTarget, position: number, inSequence?: boolean): number {
  if (typeof key === 'string') {
    const n = key.length;
    if (n > 0 && n < 64 && key.charCodeAt(0) >= 28) {
      let view = lastView;
      if (target !== lastTarget) {
        view = target.dataView;
        // only a view that starts where the target starts (lmdb-js's uint32 keys make views from the buffer's start)
        if (view && (view.buffer !== target.buffer || view.byteOffset !== target.byteOffset)) view = undefined;
        // remembered only once usable (ordered-binary adds a missing view on its first write)
        lastTarget = view ? target : undefined;
        lastView = view;
      }
      if (view && position + n + 4 <= view.byteLength) {
        let i = 0;
        for (; i < n; i++) {
          const c = key.charCodeAt(i);
          if (c <= 4 || c >= 0x80) break;
          view.setUint8(position + i, c);
        }
        if (i === n) {
          // lmdb-js turns on ordered-binary's null termination when it loads: four zero bytes follow a key
          if (!inSequence) view.setUint32(position + n, 0);
          return position + n;
        }
      }
    }
  }
  return orderedWriteKey(key as never, target as never, position, inSequence as never);
}

/**
 * `options` for lmdb-js's openDB with keys (and, for `encoding: 'ordered-binary'`, values) written by `writeKey`.
 * lmdb-js treats keys as raw buffers when a key encoder lacks `enableNullTermination`; this one has it as a no-op,
 * so keys keep lmdb-js's default type, as with no encoder. An ordered-binary store gets its own value encoder object
 * (lmdb-js adds its encode/decode wrappers to it) under an encoding name lmdb-js has no built-in handling for.
 */
export function withFastKeys(options: StoreOptions): StoreOptions {
  const out: Record<string, unknown> = { ...options, keyEncoder: { writeKey, readKey, enableNullTermination() {} } };
  if (options.encoding === 'ordered-binary') {
    out.encoding = 'weft-ordered-binary';
    out.encoder = { writeKey, readKey };
  }
  return out as unknown as StoreOptions;
}
