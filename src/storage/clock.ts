/**
 * The transaction clock: epoch ms with a sub-millisecond fraction, strictly increasing across every thread of the
 * process. Threads share one SharedArrayBuffer (made by the main thread); a timestamp is taken inside the LMDB write
 * lock, so time order is commit order.
 */
const f64 = new Float64Array(1);
const bits = new BigInt64Array(f64.buffer);

export class TxnClock {
  private readonly cell: BigInt64Array;
  constructor(shared?: SharedArrayBuffer) {
    this.cell = new BigInt64Array(shared ?? new SharedArrayBuffer(8));
  }
  get buffer(): SharedArrayBuffer {
    return this.cell.buffer as SharedArrayBuffer;
  }
  /** Never go below a time already used (e.g. the newest audit entry after a restart). */
  advanceTo(t: number): void {
    for (;;) {
      const prevBits = Atomics.load(this.cell, 0);
      bits[0] = prevBits;
      if (f64[0]! >= t) return;
      f64[0] = t;
      if (Atomics.compareExchange(this.cell, 0, prevBits, bits[0]!) === prevBits) return;
    }
  }
  next(): number {
    for (;;) {
      const prevBits = Atomics.load(this.cell, 0);
      bits[0] = prevBits;
      const prev = f64[0]!;
      let now = performance.timeOrigin + performance.now();
      if (now <= prev) now = prev + 0.001;
      f64[0] = now;
      if (Atomics.compareExchange(this.cell, 0, prevBits, bits[0]!) === prevBits) return now;
    }
  }
}
