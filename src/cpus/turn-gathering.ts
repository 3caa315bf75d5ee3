/**
 * How the event loop's stepped reads (event-loop-reads.ts) gather the chunks of one turn into one
 * piece: each chunk copied into the shared slab before the next is read (the read's buffer is
 * written over), or — chunks a maps line memo lent (its text: `ByteSink.lend`) that follow one
 * another in that text — kept as one range of it, with no copy. A read gathered whole in its
 * first turn keeps that range as its reply (`wholeRead`, the text pinned until the reply is
 * written); any other piece is in the slab.
 */
import type { TextLender } from '../procfs/byte-sink.js';
import { type PieceSlab, ReadPieces } from './read-pieces.js';
import type { SteppedMapsRead } from './stepped-read.js';

/** Where a turn's gathering stopped (`gatherTurn`). */
export const Stop = {
  /** The file ended. */
  Eof: 0,
  /** The turn's byte budget is used: the next chunk is read in a later turn. */
  Turn: 1,
  /** One piece per chunk (a traced read): the next chunk is read at once. */
  Piece: 2,
  /** The next chunk would wait for the mmap read lock (`Gathering.wait`). */
  Wait: 3,
} as const;
export type Stop = (typeof Stop)[keyof typeof Stop];

/** The state of a stepped read between turns (event loop only). */
export interface Gathering {
  read: SteppedMapsRead;
  /** Where the chunks of the current turn are gathered, as one piece (`take`). */
  slab: PieceSlab;
  bytesPerTurn: number;
  piecePerChunk: boolean;
  /** What `next()` threw when the last turn stopped with `Stop.Wait`. */
  wait: unknown;
  /**
   * The turn's piece while it is nothing but lent chunks, one run of `lender`'s text:
   * text[lentFrom, lentFrom + lentLen) (null: the piece, if any, is in the slab).
   */
  lender: TextLender | null;
  lentText: Uint8Array;
  lentFrom: number;
  lentLen: number;
}

const NO_TEXT = new Uint8Array(0);

/**
 * Adds a chunk to the turn's piece. A chunk lent by a memo (its lines all one run of the memo's
 * text, `ByteSink.lend`) that starts the piece or continues its lent run extends that run: no
 * copy. Any other chunk is copied into the slab, after the lent run if there is one.
 */
function gatherChunk(g: Gathering, chunk: Uint8Array): void {
  const sink = g.read.sink;
  const lender = sink.lender;
  if (lender !== null) {
    if (g.lender === null && g.slab.openLength === 0) {
      g.lender = lender;
      g.lentText = sink.lentText;
      g.lentFrom = sink.lentAt;
      g.lentLen = chunk.length;
      return;
    }
    if (
      g.lender === lender &&
      g.lentText === sink.lentText &&
      g.lentFrom + g.lentLen === sink.lentAt
    ) {
      g.lentLen += chunk.length;
      return;
    }
  }
  if (g.lender !== null) copyLentRun(g);
  g.slab.append(chunk);
}

/** The lent run copied into the slab (the piece goes on there). */
function copyLentRun(g: Gathering): void {
  g.slab.append(g.lentText.subarray(g.lentFrom, g.lentFrom + g.lentLen));
  g.lender = null;
  g.lentText = NO_TEXT;
}

/** Gathers `chunk` and the chunks after it that belong to the same turn; says why it stopped. */
export function gatherTurn(g: Gathering, first: Uint8Array): Stop {
  let chunk: Uint8Array | null = first;
  let bytes = 0;
  for (;;) {
    gatherChunk(g, chunk);
    bytes += chunk.length;
    if (bytes >= g.bytesPerTurn) return Stop.Turn;
    if (g.piecePerChunk) return Stop.Piece;
    try {
      chunk = g.read.next();
    } catch (err) {
      g.wait = err;
      return Stop.Wait;
    }
    if (chunk === null) return Stop.Eof;
  }
}

/** The piece the turn gathered, in the slab (a lent run is copied there). */
export function take(g: Gathering): Uint8Array {
  if (g.lender !== null) copyLentRun(g);
  return g.slab.take();
}

/**
 * The whole read, gathered in its first turn: its lent run kept as it is (the memo's text pinned
 * until the reply is written: `ReadPieces.release`), else its piece in the slab.
 */
export function wholeRead(g: Gathering): ReadPieces {
  const lender = g.lender;
  if (lender === null) return new ReadPieces(g.slab.openLength > 0 ? [take(g)] : [], g.slab);
  const text = g.lentText;
  const piece = text.subarray(g.lentFrom, g.lentFrom + g.lentLen);
  g.lender = null;
  g.lentText = NO_TEXT;
  lender.pin(text);
  return new ReadPieces([piece], null, { lender, text });
}

/** A gathering for `read`, nothing gathered yet. */
export function newGathering(
  read: SteppedMapsRead,
  slab: PieceSlab,
  bytesPerTurn: number,
  piecePerChunk: boolean,
): Gathering {
  return {
    read,
    slab,
    bytesPerTurn,
    piecePerChunk,
    wait: null,
    lender: null,
    lentText: NO_TEXT,
    lentFrom: 0,
    lentLen: 0,
  };
}
