/**
 * The global tables' spinlock excludes: threads (more of them than this machine's cores, so
 * holders get descheduled inside the critical section and waiters reach the sleeping path) and
 * the main thread (which only spins) increment a counter with plain, non-atomic read … write
 * under it; no update is lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spinLock, spinUnlock } from '../../src/sync/spinlock.js';
import { sharedWords, startWorker } from './harness.js';
import { COUNTER, LOCK, type SpinWorkerData } from './spinlock.worker.js';

test('spinlock: no lost update across 4 workers and the main thread', async (t) => {
  const words = sharedWords(64);
  const iterations = 1500;
  const workers = Array.from({ length: 4 }, () =>
    startWorker<string>(t, 'spinlock.worker.js', { words, iterations } satisfies SpinWorkerData),
  );
  let mine = 0;
  const all = Promise.all(workers.map((w) => w.result));
  let finished = false;
  all.then(() => {
    finished = true;
  });
  // The main thread takes part between event-loop turns until the workers are done.
  while (!finished) {
    spinLock(words, LOCK);
    words[COUNTER] = words[COUNTER] + 1;
    mine++;
    spinUnlock(words, LOCK);
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await all, ['done', 'done', 'done', 'done']);
  assert.equal(words[COUNTER], 4 * iterations + mine);
  assert.equal(Atomics.load(words, LOCK), 0);
});
