/**
 * A growable byte buffer that maps lines are written into (the seq_file buffer). Writers call
 * `reserve(n)` once per line with an upper bound of what they will write, then index `bytes`
 * directly. Not shared between threads: each reader owns its sink.
 */
export class ByteSink {
  bytes: Uint8Array;
  /** Number of valid bytes in `bytes`. */
  length = 0;

  constructor(initialCapacity = 8192) {
    this.bytes = new Uint8Array(Math.max(64, initialCapacity));
  }

  /** Makes room for `n` more bytes after `length` (doubling, so appends stay amortised O(1)). */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** Appends a copy of `chunk`. */
  append(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** The valid bytes (a view: copy it before the sink is written again). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** The valid bytes as a string (Latin-1: one char per byte, as the bytes are the file). */
  toLatin1(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.length).toString('latin1');
  }

  clear(): void {
    this.length = 0;
  }
}
