/**
 * Worker of spinlock.test.ts: `iterations` times, takes the spinlock and increments the counter
 * word with a plain read … write (not atomic: a second thread inside would lose updates), now
 * and then holding the lock long enough that the others stop spinning and sleep. Posts 'done'.
 * Run as a file on the main thread (the test runner picks up every .js under test/), it does
 * nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { spinLock, spinUnlock } from '../../src/sync/spinlock.js';

export const LOCK = 0;
export const COUNTER = 16; // another cache line
export const SCRATCH = 32;

export interface SpinWorkerData {
  words: Int32Array;
  iterations: number;
}

/** Busy work inside the critical section (loads of a word nobody writes). */
function dwell(w: Int32Array, loads: number): void {
  let x = 0;
  for (let i = 0; i < loads; i++) x += Atomics.load(w, SCRATCH);
  if (x !== 0) throw new Error('scratch word written');
}

if (!isMainThread) {
  const { words, iterations } = workerData as SpinWorkerData;
  for (let i = 0; i < iterations; i++) {
    spinLock(words, LOCK);
    const seen = words[COUNTER];
    dwell(words, i % 64 === 0 ? 200_000 : 50);
    words[COUNTER] = seen + 1;
    spinUnlock(words, LOCK);
  }
  parentPort?.postMessage('done');
}
