/**
 * Helpers for the src/sync tests: shared buffers, worker start-up, and main-thread waits on
 * shared words that never block the event loop and never sleep on a clock.
 */
import type { TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { letEventLoopExitWhileWaiting, pendingAsyncWaitCount } from '../../src/sync/wait.js';

/** A fresh Int32Array over a SharedArrayBuffer of `words` words. */
export function sharedWords(words: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT));
}

/** Stores `value` in `words[index]` and wakes every thread sleeping on it. */
export function publish(words: Int32Array, index: number, value: number): void {
  Atomics.store(words, index, value);
  Atomics.notify(words, index);
}

type WaitAsync = (
  w: Int32Array,
  i: number,
  v: number,
) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * Resolves once `words[index] === value`. The writer of the word must `publish` it (notify). The
 * caller keeps the event loop alive (a running worker does).
 */
export async function untilValue(words: Int32Array, index: number, value: number): Promise<void> {
  for (;;) {
    const seen = Atomics.load(words, index);
    if (seen === value) return;
    const r = waitAsync(words, index, seen);
    if (r.async) await r.value;
  }
}

/** A started worker and the result it will post (listened for from the start). */
export interface RunningWorker<T> {
  worker: Worker;
  result: Promise<T>;
}

/**
 * Starts a compiled worker next to the calling test (dist/test/sync/NAME.js), owned by test `t`,
 * and listens at once for the one result it posts; rejects if it fails or exits first.
 */
export function startWorker<T = unknown>(
  t: TestContext,
  file: string,
  data: unknown,
): RunningWorker<T> {
  const worker = new Worker(new URL(`./${file}`, import.meta.url), { workerData: data });
  // A failed assertion leaves workers blocked on a lock; end them so the run does not hang.
  t.after(() => worker.terminate());
  const result = new Promise<T>((resolve, reject) => {
    let posted = false;
    worker.once('message', (message: T) => {
      posted = true;
      resolve(message);
    });
    worker.once('error', reject);
    // Node emits a worker's last messages before 'exit', but give a message still being
    // delivered one more turn of the loop before calling the worker silent.
    worker.once('exit', (code) =>
      setImmediate(() => {
        if (!posted) reject(new Error(`worker ${file} exited with code ${code} before a result`));
      }),
    );
  });
  result.catch(() => {}); // a test that failed early never awaits it; its rejection is expected
  return { worker, result };
}

/** Resolves once `words[index] >= value` (the writer publishes with notify). */
export async function untilAtLeast(
  words: Int32Array,
  index: number,
  value: number,
): Promise<number> {
  for (;;) {
    const seen = Atomics.load(words, index);
    if (seen >= value) return seen;
    const r = waitAsync(words, index, seen);
    if (r.async) await r.value;
  }
}

/**
 * A test that fails while lock waiters are still queued on this thread would hold the test
 * process open forever (pending async lock waits keep the event loop alive). Call after each test.
 */
export function releaseAbandonedWaiters(): void {
  if (pendingAsyncWaitCount() > 0) letEventLoopExitWhileWaiting();
}
