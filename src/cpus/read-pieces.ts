/**
 * What a stepped read (maps, smaps, status) hands the HTTP layer: its pieces, each a copy of the
 * bytes of one event-loop turn — or, for a maps read that ended within its turn with every line
 * standing since its reader's last read, the memo's text itself (`LentPiece`: event-loop-reads.ts
 * gathers lent chunks, maps-line-memo.ts lends them and copies its text before changing it while
 * a reply keeps it). Three things keep a typical read (one turn: ~100 maps lines, 8 KiB) cheap on
 * the event loop, where every request runs:
 *
 * - `ReadPieces`: a read that ended within its first turn is returned whole and at once (no
 *   promise, no async generator, no promise per piece: `MapsRead`); it is still an
 *   `AsyncIterable`, so every other consumer iterates it like a streamed read.
 * - A lent piece: no copy at all (in a request, ~1.5 µs less event loop: BENCHMARKS.md).
 * - `PieceSlab`: a turn's chunks are gathered straight into a shared 256 KiB slab (one copy per
 *   chunk) rather than each piece getting an ArrayBuffer of its own (a malloc, a free and
 *   external-memory accounting for the GC per request, as node's own Buffer pool avoids for
 *   small buffers), and a slab is reused once every piece taken from it was released (the
 *   reads' fast path and the maps/smaps/status routes release a reply's piece when the reply has
 *   finished). A piece larger than a quarter of the slab gets memory of its own, so a reply a
 *   slow client holds never pins much.
 */

import type { TextLender } from '../procfs/byte-sink.js';

/** A piece that is a range of a maps line memo's text, pinned until its reply is written. */
export interface LentPiece {
  lender: TextLender;
  text: Uint8Array;
}

/** The pieces of a read that ended within one event-loop turn (nothing left to read). */
export class ReadPieces implements AsyncIterable<Uint8Array> {
  private released = false;
  /**
   * `slab`: where the pieces were taken from, if they may be given back (`release`); `lent`: the
   * text the piece is a view of instead, when the read's lines were all a memo's run.
   */
  constructor(
    readonly pieces: readonly Uint8Array[],
    private readonly slab: PieceSlab | null = null,
    private readonly lent: LentPiece | null = null,
  ) {
    if (lent !== null) {
      lentMade++;
      lentOut++;
    }
  }

  /**
   * The pieces are no longer read (their reply was written to its socket): their slab memory may
   * be reused. Optional (a read never released leaves its slab to the GC); only the first call
   * counts.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const lent = this.lent;
    if (lent !== null) {
      lent.lender.unpin(lent.text);
      lentOut--;
    }
    const slab = this.slab;
    if (slab !== null) for (const piece of this.pieces) slab.release(piece);
  }

  /** Whether the piece is a memo's text (pinned until `release`) rather than a copy. */
  get isLent(): boolean {
    return this.lent !== null;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    yield* this.pieces;
  }
}

/**
 * A read as the transport answers it: on the event loop, a read that ended within its first turn
 * is returned as it is (no promise layer); any other read as a promise of its pieces.
 */
export type MapsRead = ReadPieces | Promise<AsyncIterable<Uint8Array>>;

/** Pieces as one Buffer (the piece itself when there is one: no copy). */
export function piecesBuffer(parts: readonly Uint8Array[]): Buffer {
  if (parts.length === 1 && parts[0] instanceof Buffer) return parts[0];
  if (parts.length === 1) return Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].length);
  return Buffer.concat(parts);
}

// Lent reads (`ReadPieces` of a memo's text) made on this thread, and those not released yet:
// how a caller can see that replies give their text back (tests).
let lentMade = 0;
let lentOut = 0;

/** Lent reads made on this thread, and of them those not released yet (tests). */
export function lentReads(): { made: number; outstanding: number } {
  return { made: lentMade, outstanding: lentOut };
}

const SLAB_BYTES = 256 * 1024;
/** A piece longer than this gets memory of its own (a slow client never pins a slab with it). */
const OWN_MEMORY_FROM = SLAB_BYTES / 4;

// Shared slabs allocated on this thread so far (a slab reused is not counted): how a caller can
// see that reads are given back (tests; every read given back keeps this at one or two).
let slabsAllocated = 0;

/** Shared slabs allocated on this thread (tests). */
export function slabAllocations(): number {
  return slabsAllocated;
}

/**
 * Byte ranges gathered into shared slabs, one piece at a time (event loop only: not
 * thread-safe): `append` the bytes of a piece, `take` it. A piece's region is never handed out
 * again while it may be in use: a slab is reused only once every piece taken from it was
 * `release`d (its reply written to the socket); a slab with a piece never released is left to the
 * GC, as is every slab when nobody releases (a fresh slab costs ~1–2 µs per 8 KiB piece in page
 * faults and external-memory accounting, a reused one nothing).
 */
export class PieceSlab {
  private slab: Buffer | null = null;
  /** Where the open piece starts in `slab`, and its length so far. */
  private start = 0;
  private open = 0;
  /** Pieces taken from `slab` and not released yet. */
  private outstanding = 0;
  /** `slab` is the open piece's own memory (never shared, never reused). */
  private own = false;
  /** The last full slab while its pieces are still out, with their count. */
  private draining: Buffer | null = null;
  private drainingOut = 0;
  /** A full slab whose pieces were all released: the next slab. */
  private spare: Buffer | null = null;

  /** Bytes of the open piece so far. */
  get openLength(): number {
    return this.open;
  }

  /** Appends a copy of `bytes` to the open piece. */
  append(bytes: Uint8Array): void {
    const n = bytes.length;
    const need = this.open + n;
    let slab = this.slab;
    if (slab === null || this.start + need > slab.length || (need > OWN_MEMORY_FROM && !this.own)) {
      slab = this.moveOpenPiece(need);
    }
    slab.set(bytes, this.start + this.open);
    this.open = need;
  }

  /**
   * The open piece (empty when nothing was appended); the next `append` starts a new one. The
   * caller may `release` it once nobody reads it any more.
   */
  take(): Buffer {
    const slab = this.slab;
    if (slab === null) return Buffer.alloc(0);
    const piece = slab.subarray(this.start, this.start + this.open);
    this.open = 0;
    if (this.own) {
      this.slab = null;
      this.own = false;
    } else {
      this.outstanding++;
      this.start = (piece.byteOffset + piece.length + 7) & ~7;
    }
    return piece;
  }

  /** `piece` (from `take`) is no longer read: its slab may be reused once all of its are. */
  release(piece: Uint8Array): void {
    const mem = piece.buffer;
    if (this.slab !== null && mem === this.slab.buffer) this.outstanding--;
    else if (this.draining !== null && mem === this.draining.buffer) {
      if (--this.drainingOut === 0) {
        this.spare = this.draining;
        this.draining = null;
      }
    }
  }

  /** Continues the open piece (`need` bytes with what comes next) where there is room. */
  private moveOpenPiece(need: number): Buffer {
    const old = this.slab;
    const wasOwn = this.own;
    let next: Buffer;
    this.own = need > OWN_MEMORY_FROM;
    if (this.own) {
      next = Buffer.allocUnsafeSlow(need * 2);
    } else {
      if (this.spare !== null) next = this.spare;
      else {
        next = Buffer.allocUnsafeSlow(SLAB_BYTES);
        slabsAllocated++;
      }
      this.spare = null;
    }
    if (old !== null) {
      if (this.open > 0) next.set(old.subarray(this.start, this.start + this.open));
      if (!wasOwn) this.retire(old);
    }
    this.slab = next;
    this.start = 0;
    this.outstanding = 0;
    return next;
  }

  /** `old` is full (or the open piece outgrew it): reused once its pieces are all released. */
  private retire(old: Buffer): void {
    if (this.outstanding === 0) {
      this.spare ??= old;
      return;
    }
    this.draining = old; // a slab still draining before it is forgotten (left to the GC)
    this.drainingOut = this.outstanding;
  }
}
