// The spinlock guarding the instrument block table (src/metrics/block-layout.ts, TABLE_LOCK). It is taken
// only to claim or release a block and by the scraper while it sums blocks: short critical
// sections, rare on recording threads. Worker threads park with a bounded Atomics.wait after
// spinning a while; the main thread only spins, because the event loop must never block.
//
// The lock word holds 1 + the holder's threadId, so a holder that died inside the critical
// section (Worker.terminate()) can be identified and the lock forced free from its 'exit'
// handler (Instruments.releaseBlocksOfThread). Until then a caller with a time budget gives
// up instead of spinning forever: the scraper then serves its previous totals.

import { performance } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';

const SPINS_BEFORE_PARKING = 1_000;
/** Upper bound of one park; the holder's notify normally ends it much sooner. */
const PARK_TIMEOUT_MS = 1;
/** Spins between two looks at the clock (a clock read costs ~100 ns here). */
const SPINS_PER_CLOCK_CHECK = 1_024;

const FREE = 0;
const ME = threadId + 1;

/**
 * Acquire the lock word `index` of `words` (Atomics.compareExchange: acquire ordering).
 * Returns false, without the lock, if it was still held after `budgetMs` milliseconds.
 */
export function acquireTableLock(words: Int32Array, index: number, budgetMs = Infinity): boolean {
  let spins = 0;
  let startedAt = -1;
  for (;;) {
    const holder = Atomics.compareExchange(words, index, FREE, ME);
    if (holder === FREE) return true;
    spins++;
    if (spins % SPINS_PER_CLOCK_CHECK === 0 && budgetMs !== Infinity) {
      const now = performance.now();
      if (startedAt < 0) startedAt = now;
      else if (now - startedAt > budgetMs) return false;
    }
    if (!isMainThread && spins > SPINS_BEFORE_PARKING) {
      Atomics.wait(words, index, holder, PARK_TIMEOUT_MS);
    }
  }
}

/** Release it (Atomics.store: release ordering for everything written while holding it). */
export function releaseTableLock(words: Int32Array, index: number): void {
  Atomics.store(words, index, FREE);
  Atomics.notify(words, index, 1);
}

/** Free the lock if (and only if) the thread `deadThreadId` holds it. Returns whether it did. */
export function breakTableLockOf(words: Int32Array, index: number, deadThreadId: number): boolean {
  if (Atomics.compareExchange(words, index, deadThreadId + 1, FREE) !== deadThreadId + 1) {
    return false;
  }
  Atomics.notify(words, index, 1);
  return true;
}
