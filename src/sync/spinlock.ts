/**
 * A tiny test-and-set spinlock on one Int32 word of a SharedArrayBuffer, for the short critical
 * sections of the global tables (appending a file identity, allocating an anon-name slot, the
 * page lock). It never blocks the event loop: the main thread only spins. A worker thread (a
 * worker CPU, an activity) spins a while, then sleeps in short timed waits: on a machine with
 * fewer cores than threads the holder may have been descheduled inside its critical section, and
 * a waiter that keeps spinning burns the CPU the holder (and the event loop) needs. Unlock stays
 * one store (no notify): a sleeper re-checks the word after at most `SLEEP_MS`.
 */
import { isMainThread } from 'node:worker_threads';

/** Spins (plain loads) before a worker thread starts sleeping between checks. */
const SPINS_BEFORE_SLEEP = 2048;
/** One timed wait of a worker thread (ms). */
const SLEEP_MS = 0.05;
/** The main thread's spins, or a worker's sleeps, after which the holder is presumed dead. */
const MAX_SPINS = 1 << 26;
const MAX_SLEEPS = 200_000; // 10 s of SLEEP_MS

const mayBlock = !isMainThread;

export function spinLock(i32: Int32Array, word: number): void {
  let spins = 0;
  let sleeps = 0;
  while (Atomics.compareExchange(i32, word, 0, 1) !== 0) {
    // Spin on a plain load (cheap, no cache-line ownership) until the lock looks free.
    while (Atomics.load(i32, word) !== 0) {
      spins++;
      if (mayBlock && spins > SPINS_BEFORE_SLEEP) {
        // Give the CPU to the holder: returns at once if the word is no longer 1, else after
        // the timeout (unlock does not notify).
        Atomics.wait(i32, word, 1, SLEEP_MS);
        if (++sleeps > MAX_SLEEPS) throw heldTooLong();
      } else if ((spins & 0xffff) === 0 && spins > MAX_SPINS) {
        throw heldTooLong();
      }
    }
  }
}

function heldTooLong(): Error {
  return new Error('spinlock held for too long (holder died inside a critical section?)');
}

export function spinUnlock(i32: Int32Array, word: number): void {
  Atomics.store(i32, word, 0);
}
