// The spinlock guarding the instrument block table (block-layout.ts, TABLE_LOCK). It is taken
// only to claim or release a block and by the scraper while it sums blocks: short critical
// sections, rare on recording threads. Worker threads park with a bounded Atomics.wait after
// spinning a while; the main thread only spins, because the event loop must never block.

import { isMainThread } from 'node:worker_threads';

const SPINS_BEFORE_PARKING = 1_000;
/** Upper bound of one park; the holder's notify normally ends it much sooner. */
const PARK_TIMEOUT_MS = 1;

const FREE = 0;
const HELD = 1;

/** Acquire the lock word `index` of `words` (Atomics.compareExchange: acquire ordering). */
export function acquireTableLock(words: Int32Array, index: number): void {
  let spins = 0;
  while (Atomics.compareExchange(words, index, FREE, HELD) !== FREE) {
    spins++;
    if (!isMainThread && spins > SPINS_BEFORE_PARKING) {
      Atomics.wait(words, index, HELD, PARK_TIMEOUT_MS);
    }
  }
}

/** Release it (Atomics.store: release ordering for everything written while holding it). */
export function releaseTableLock(words: Int32Array, index: number): void {
  Atomics.store(words, index, FREE);
  Atomics.notify(words, index, 1);
}
