/**
 * Word indexes shared by the stress tests and their workers. One Int32Array holds an mm block,
 * one VMA's lock words, the data the writers change, and the control words the main thread uses
 * to step the workers through deterministic rounds. Each group sits on its own cache line.
 */
import { CACHE_LINE_WORDS as L } from '../../src/sync/layout.js';

export const CACHE_LINE = L;
export const MM = 0;
export const VMA_REFCNT = 2 * L;
export const VMA_LOCK_SEQ = 3 * L;
/** Eight data words a writer changes one by one (never atomically as a group). */
export const DATA = 4 * L;
export const DATA_WORDS = 8;
/** Counters of threads inside a read / write section (Atomics.add/sub), on separate lines. */
export const READERS_IN = 5 * L;
export const WRITERS_IN = 6 * L;
/** Set to 1 by the writer when it has finished its iterations. */
export const WRITER_DONE = 7 * L;
/** Commands from the main thread and per-worker status words (each on its own line). */
export const CMD = 8 * L;
export const CMD_RELEASE = 9 * L;
export const STATUS = 10 * L; // STATUS + k * L for worker k
export const SEEN = 14 * L; // a value a worker reports back (plain data, published with STATUS)
/** RCU stress: the published object id, then the object pool (one line per object). */
export const ROOT = 15 * L;
export const POOL = 16 * L;
export const POOL_OBJECTS = 8;
export const TOTAL_WORDS = POOL + POOL_OBJECTS * L;

/** Status values: round r, phase p (1 = queued/inside, 2 = acquired, 3 = released). */
export const status = (round: number, phase: number) => round * 8 + phase;

export const ALIVE = 0x600d;
export const POISON = 0xdead;

/** Busy work to widen race windows; returns a value so it cannot be optimised away. */
export function spin(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i) | 0;
  return x;
}

/** Worker side: sleep until `words[index] >= value`. */
export function waitAtLeast(words: Int32Array, index: number, value: number): void {
  for (let v = Atomics.load(words, index); v < value; v = Atomics.load(words, index)) {
    Atomics.wait(words, index, v);
  }
}
