/**
 * A growable byte buffer that maps lines are written into (the seq_file buffer). Writers call
 * `reserve(n)` once per line with an upper bound of what they will write, then index `bytes`
 * directly. Not shared between threads: each reader owns its sink.
 *
 * A chunk may be lent instead of written (`lend`): when all of it is one run of a maps line
 * memo's text, that memo hands the range over rather than copying it here, and `view()` is the
 * memo's bytes. Only a sink whose owner takes chunks as views says it may (`mayLend`: the event
 * loop's stepped reads, which gather a turn's chunks as one piece); any write after a lend first
 * copies the lent bytes in, so a writer never sees the difference.
 */

/** Who lent a sink its chunk: told when a reader keeps a view of that text and lets it go. */
export interface TextLender {
  /** `text` (the lender's text when it lent) is kept by a reader until `unpin`. */
  pin(text: Uint8Array): void;
  unpin(text: Uint8Array): void;
}

const NO_TEXT = new Uint8Array(0);

export class ByteSink {
  bytes: Uint8Array;
  /** Number of valid bytes in `bytes` (or in the lent range). */
  length = 0;
  /** The owner takes each chunk as a view before the next write (the lender may lend it). */
  mayLend = false;
  /** The lender of the chunk, when `length` bytes of `lentText` from `lentAt` are it. */
  lender: TextLender | null = null;
  lentText: Uint8Array = NO_TEXT;
  lentAt = 0;

  constructor(initialCapacity = 8192) {
    this.bytes = new Uint8Array(Math.max(64, initialCapacity));
  }

  /** The chunk so far (`length` bytes) is `text[at, at + length)` of `lender`'s. */
  lend(lender: TextLender, text: Uint8Array, at: number): void {
    this.lender = lender;
    this.lentText = text;
    this.lentAt = at;
  }

  /** Makes room for `n` more bytes after `length` (doubling, so appends stay amortised O(1)). */
  reserve(n: number): void {
    if (this.lender !== null) this.takeBack();
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** A lent chunk written after all: its bytes copied in, the lender out of it. */
  private takeBack(): void {
    const text = this.lentText;
    const at = this.lentAt;
    this.lender = null;
    this.lentText = NO_TEXT;
    const n = this.length;
    this.length = 0;
    this.reserve(n);
    this.bytes.set(text.subarray(at, at + n));
    this.length = n;
  }

  /** Appends a copy of `chunk`. */
  append(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** The valid bytes (a view: copy it before the sink is written again). */
  view(): Uint8Array {
    if (this.lender !== null) return this.lentText.subarray(this.lentAt, this.lentAt + this.length);
    return this.bytes.subarray(0, this.length);
  }

  /** The valid bytes as a string (Latin-1: one char per byte, as the bytes are the file). */
  toLatin1(): string {
    const v = this.view();
    return Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
  }

  clear(): void {
    this.length = 0;
    if (this.lender !== null) {
      this.lender = null;
      this.lentText = NO_TEXT;
    }
  }
}
