/**
 * How src/sync threads sleep: `Atomics.wait` on worker threads, `Atomics.waitAsync` on the event
 * loop, and a clock for reporting how long a wait took. Every primitive sleeps only through
 * these, always on a word whose value it has just read, so a change between the read and the
 * sleep turns the sleep into an immediate return ('not-equal') and no wake-up is lost.
 */
import { isMainThread } from 'node:worker_threads';

/**
 * Optional hook a caller passes to a blocking or async lock function. `beforeWait` runs each time
 * the caller has registered itself as a waiter and is about to sleep; tests use it to learn, with
 * no timing assumptions, that a thread really is queued; metrics could count sleeps.
 */
export interface WaitObserver {
  beforeWait(): void;
}

export { nowNs } from './clock.js';

/** True on worker threads, which may sleep with Atomics.wait; false on the main thread. */
export function mayBlock(): boolean {
  return !isMainThread;
}

/**
 * Throws unless this thread may block. The main thread runs the event loop, which must never
 * block on a simulated lock (DESIGN.md principles): it must use the *Async variants. Called
 * before a primitive changes any shared state on its slow path, so a refusal leaves the lock
 * words untouched.
 */
export function assertMayBlock(what: string): void {
  if (!mayBlock()) {
    throw new Error(`${what} would block the event loop; use the async variant on the main thread`);
  }
}

/**
 * Sleeps while `words[index] === expected` (returns at once if it already differs), until a
 * notify or, if given, `timeoutMs` (used only for counter-overflow back-off, never as a clock).
 */
export function sleepWhileEqual(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs?: number,
): void {
  Atomics.wait(words, index, expected, timeoutMs);
}

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
// Atomics.waitAsync is ES2024; the project's lib setting is ES2023, so type it here.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(words: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
  }
).waitAsync;

// A pending Atomics.waitAsync does not keep the event loop alive (node-perf.md §2): a script whose
// only pending work is a lock wait would exit with the lock never taken. While at least one async
// wait is pending, this thread keeps one ref'd interval timer, which keeps the loop alive.
let pendingAsyncWaits = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;
let holdEventLoop = true;
const KEEP_ALIVE_PERIOD_MS = 2 ** 30;

function noop(): void {}

/**
 * Teardown aid: from now on, pending async lock waits on this thread no longer keep its event
 * loop alive. For a test that failed with waiters still queued (which would otherwise hold the
 * test process open forever) or a thread shutting down with an abandoned mm.
 */
export function letEventLoopExitWhileWaiting(): void {
  holdEventLoop = false;
  keepAliveTimer?.unref();
}

/** Number of async waits currently pending on this thread (for tests of the keep-alive rule). */
export function pendingAsyncWaitCount(): number {
  return pendingAsyncWaits;
}

/**
 * Awaits, without blocking the thread, until `words[index] !== expected`, a notify arrives or, if
 * given, `timeoutMs` passes (overflow back-off only).
 */
export async function sleepWhileEqualAsync(
  words: Int32Array,
  index: number,
  expected: number,
  timeoutMs?: number,
): Promise<void> {
  const result = waitAsync(words, index, expected, timeoutMs);
  if (!result.async) return;
  if (pendingAsyncWaits++ === 0) {
    keepAliveTimer = setInterval(noop, KEEP_ALIVE_PERIOD_MS);
    if (!holdEventLoop) keepAliveTimer.unref();
  }
  try {
    await result.value;
  } finally {
    if (--pendingAsyncWaits === 0) {
      clearInterval(keepAliveTimer);
      keepAliveTimer = undefined;
    }
  }
}
