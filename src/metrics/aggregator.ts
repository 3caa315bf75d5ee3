// Sums every thread's instrument block into totals, on the scraping thread (the main thread).
//
// Counters must never go backwards between scrapes, although the blocks are written by other
// threads with plain stores and read here without synchronisation with those writers. Three
// rules give that guarantee:
//  1. Each block's cells are clamped to the largest value this aggregator has seen for the same
//     block generation: a racy read can only lag behind the owner's writes, never make a cell
//     report less than it did before.
//  2. A block's generation changes only when it is released and re-claimed; a release moves
//     the block's final counts (>= anything seen, they are its owner's own latest writes) into
//     the retired block, so resetting the clamp for the new generation loses nothing.
//  3. Blocks, generations and the retired block are read inside TABLE_LOCK, so a release can
//     never be observed half-done (counted in the block and again in the retired block, or in
//     neither).
// The sum of per-cell non-decreasing values is non-decreasing; a histogram's cumulative
// buckets and its _count (sum of buckets) are sums of cells, so they are too.

import { nowNs } from '../sync/clock.js';
import { BLOCK_CELLS } from './families.js';
import type { Instruments } from './instruments.js';

/** How long a scrape waits for TABLE_LOCK before serving its previous totals. */
export const SCRAPE_LOCK_BUDGET_MS = 100;

export interface InstrumentTotals {
  /** When the totals were read (src/sync/clock.ts nowNs). */
  readonly atNs: number;
  /** Per cell of the families.ts layout, the sum over all threads (live and released). */
  readonly cells: Float64Array;
}

export class InstrumentAggregator {
  private readonly instruments: Instruments;
  /** Per block: largest value seen per cell for generation lastGeneration[block]. */
  private readonly lastSeen: Array<Float64Array | undefined>;
  private readonly lastGeneration: Int32Array;
  private lastTotals = new Float64Array(BLOCK_CELLS);
  /** TABLE_LOCK word value that made the last attempt give up (0: none). */
  private stuckHolder = 0;

  constructor(instruments: Instruments) {
    this.instruments = instruments;
    this.lastSeen = new Array(instruments.capacity);
    this.lastGeneration = new Int32Array(instruments.capacity);
  }

  /**
   * Write the totals of cells [from, to) into target[from..to) (other cells untouched) and
   * return true. If TABLE_LOCK cannot be had within SCRAPE_LOCK_BUDGET_MS (a thread died
   * holding it), leave `target` as it was, i.e. the previous totals, and return false.
   */
  sumRange(target: Float64Array, from: number, to: number): boolean {
    const instruments = this.instruments;
    // Once a holder has outlasted the budget, do not wait for it again (a scrape calls this
    // once per family): serve previous totals until the lock changes hands.
    const holder = instruments.tableLockHolder();
    if (holder !== 0 && holder === this.stuckHolder) return false;
    const summed = instruments.tryWithTableLocked(() => {
      const retired = instruments.retiredCells();
      for (let i = from; i < to; i++) target[i] = retired[i];
      for (let block = 0; block < instruments.capacity; block++) {
        if (instruments.blockOwner(block) === 0) continue; // free blocks are all zero
        const seen = this.seenFor(block, instruments.blockGeneration(block));
        const cells = instruments.blockCells(block);
        for (let i = from; i < to; i++) {
          let v = cells[i];
          if (v < seen[i]) v = seen[i];
          else seen[i] = v;
          target[i] += v;
        }
      }
    }, SCRAPE_LOCK_BUDGET_MS);
    this.stuckHolder = summed ? 0 : instruments.tableLockHolder();
    return summed;
  }

  /** Totals of every cell (the previous totals again if the table lock is unavailable). */
  totals(): InstrumentTotals {
    const cells = Float64Array.from(this.lastTotals);
    if (this.sumRange(cells, 0, BLOCK_CELLS)) this.lastTotals = cells;
    return { atNs: nowNs(), cells };
  }

  private seenFor(block: number, generation: number): Float64Array {
    let seen = this.lastSeen[block];
    if (seen === undefined) {
      seen = new Float64Array(BLOCK_CELLS);
      this.lastSeen[block] = seen;
      this.lastGeneration[block] = generation;
    } else if (this.lastGeneration[block] !== generation) {
      seen.fill(0); // a new owner started from zero; the old counts are in the retired block
      this.lastGeneration[block] = generation;
    }
    return seen;
  }
}
