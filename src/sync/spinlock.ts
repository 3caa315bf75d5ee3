/**
 * A tiny test-and-set spinlock on one Int32 word of a SharedArrayBuffer, for the short critical
 * sections of the global tables (appending a file identity, allocating an anon-name slot).
 * It never blocks with Atomics.wait, so it is usable on the event-loop thread; critical sections
 * are a few hundred nanoseconds, so spinning is cheaper than sleeping.
 */
export function spinLock(i32: Int32Array, word: number): void {
  let spins = 0;
  while (Atomics.compareExchange(i32, word, 0, 1) !== 0) {
    // Spin on a plain load (cheap, no cache-line ownership) until the lock looks free.
    while (Atomics.load(i32, word) !== 0) {
      spins++;
      if ((spins & 0xffff) === 0 && spins > 1 << 26) {
        throw new Error('spinlock held for too long (holder died inside a critical section?)');
      }
    }
  }
}

export function spinUnlock(i32: Int32Array, word: number): void {
  Atomics.store(i32, word, 0);
}
