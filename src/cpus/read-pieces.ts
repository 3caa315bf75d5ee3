/**
 * What a stepped read (maps, smaps, status) hands the HTTP layer: its pieces, each a copy of the
 * bytes of one event-loop turn. Two things keep a typical read (one turn: ~100 maps lines, 8 KiB)
 * cheap on the event loop, where every request runs:
 *
 * - `ReadPieces`: a read that ended within its first turn is returned whole, as a list the route
 *   sends at once (no async generator, no promise per piece: `isWholeRead`); it is still an
 *   `AsyncIterable`, so every other consumer iterates it like a streamed read.
 * - `PieceSlab`: pieces are carved out of a shared 256 KiB slab rather than each getting an
 *   ArrayBuffer of its own (a malloc, a free and external-memory accounting for the GC per
 *   request, as node's own Buffer pool avoids for small buffers). A slab lives until its last
 *   piece is gone; pieces are written to a socket and dropped, and one larger than a quarter of
 *   the slab gets its own allocation, so a reply a slow client holds never pins much.
 */

/** The pieces of a read that ended within one event-loop turn (nothing left to read). */
export class ReadPieces implements AsyncIterable<Uint8Array> {
  constructor(readonly pieces: readonly Uint8Array[]) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    yield* this.pieces;
  }
}

/** The whole read when it is already all there (a `ReadPieces`), else null (iterate it). */
export function isWholeRead(chunks: AsyncIterable<Uint8Array>): readonly Uint8Array[] | null {
  return chunks instanceof ReadPieces ? chunks.pieces : null;
}

/** Pieces as one Buffer (the piece itself when there is one: no copy). */
export function piecesBuffer(parts: readonly Uint8Array[]): Buffer {
  if (parts.length === 1) return Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].length);
  return Buffer.concat(parts);
}

const SLAB_BYTES = 256 * 1024;

/** Copies of byte ranges, carved out of shared slabs (event loop only: not thread-safe). */
export class PieceSlab {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private used = 0;

  /** A copy of `bytes` nobody else writes to (its slab region is never handed out again). */
  copy(bytes: Uint8Array): Buffer {
    const n = bytes.length;
    if (n > SLAB_BYTES / 4) return Buffer.from(bytes);
    if (this.used + n > SLAB_BYTES) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const piece = this.slab.subarray(this.used, this.used + n);
    piece.set(bytes);
    this.used = (this.used + n + 7) & ~7;
    return piece;
  }
}
