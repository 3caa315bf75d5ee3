/**
 * The mmap_lock: a reader/writer semaphore per mm in one shared Int32 word, coupled to the mm
 * sequence count like Linux's include/linux/mmap_lock.h:
 *   mmapWriteLock      = down_write + mm_lock_seq becomes odd
 *   mmapWriteUnlock    = mm_lock_seq becomes even (vma_end_write_all: every VMA write lock is
 *                        released at once) + up_write
 *   mmapWriteDowngrade = mm_lock_seq becomes even + the writer becomes a reader
 *
 * Fairness is Linux rwsem's "phase-fair" adaptation (kernel/locking/rwsem.c, rwsem_mark_wake):
 *  - a waiting writer holds back new readers: once a writer is queued, arriving readers queue
 *    behind it instead of entering (and mmapReadTrylock fails, like down_read_trylock with
 *    RWSEM_FLAG_WAITERS set);
 *  - when a writer releases (or downgrades) the lock, it hands the lock directly to every reader
 *    queued behind it: in the same compareExchange they stop being "blocked" and become holders,
 *    and GRANT_PHASE flips so each of them can tell, whenever it wakes, that it holds the lock. A
 *    writer in a tight loop therefore cannot starve readers, and readers cannot starve a queued
 *    writer (no reader can slip in ahead of it, and granted readers are a bounded batch);
 *  - writers take the lock in no particular order among themselves (Linux lets writers steal too).
 * One phase bit is enough: a granted reader holds the lock, so no writer can take and release it
 * (the only way to flip the phase again) before that reader has looked.
 *
 * State word (MMAP_LOCK_STATE), changed only by compareExchange/sub; never negative:
 *   bits  0-10  active readers           (holders of the read lock)
 *   bits 11-21  blocked readers          (queued behind a writer that holds or waits)
 *   bits 22-28  waiting writers          (queued)
 *   bit  29     GRANT_PHASE              (flips at each hand-off to blocked readers)
 *   bit  30     WRITER_HELD
 * Counter overflow (2047 readers, 2046 blocked readers, 127 writers) is unreachable with the
 * thread counts here; if it happens the thread backs off (short timed sleep) and retries.
 *
 * Blocking: the plain functions sleep with Atomics.wait and may be called only on worker threads
 * (they throw on the main thread before touching the lock when they would have to wait); the
 * *Async variants sleep with Atomics.waitAsync and are for the event loop. Lock functions return
 * how long the caller waited in nanoseconds (0 on the uncontended fast path, where no clock is
 * read) so callers can record wait times; hold times are the caller's to measure.
 */
import { MMAP_LOCK_STATE } from './layout.js';
import { mmLockSeqcountBegin, mmLockSeqcountEnd } from './mm-seqcount.js';
import {
  assertMayBlock,
  nowNs,
  sleepWhileEqual,
  sleepWhileEqualAsync,
  type WaitObserver,
} from './wait.js';

const READER = 1;
const READERS_MASK = 0x7ff;
const BLOCKED_READER = 1 << 11;
const BLOCKED_MASK = 0x7ff << 11;
const BLOCKED_SHIFT = 11;
/** One less than the field's maximum, so a downgrade can add the writer to a full grant. */
const BLOCKED_FULL = BLOCKED_MASK - BLOCKED_READER;
const WAITING_WRITER = 1 << 22;
const WAITING_MASK = 0x7f << 22;
const GRANT_PHASE = 1 << 29;
const WRITER_HELD = 1 << 30;

/** Step results (states are never negative): holds the lock / queued (in a grant phase). */
const ENTERED = -1;
const QUEUED = -2; // writers
const QUEUED_IN_PHASE_0 = -2;
const QUEUED_IN_PHASE_1 = -3;
/** Back-off when a counter is full (overflow only; never reached in normal operation). */
const OVERFLOW_BACKOFF_MS = 1;

function readerMayEnter(s: number): boolean {
  return (s & (WRITER_HELD | WAITING_MASK)) === 0 && (s & READERS_MASK) !== READERS_MASK;
}

function writerMayTake(s: number): boolean {
  return (s & (WRITER_HELD | READERS_MASK)) === 0;
}

/** Sleep timeout for a waiter that observed state `s`: finite only if a counter is full. */
function backoffFor(s: number): number | undefined {
  return (s & READERS_MASK) === READERS_MASK ||
    (s & BLOCKED_MASK) >= BLOCKED_FULL ||
    (s & WAITING_MASK) === WAITING_MASK
    ? OVERFLOW_BACKOFF_MS
    : undefined;
}

/**
 * Enter as a reader if allowed, else queue as a blocked reader behind the writer that holds or
 * waits. Returns ENTERED, QUEUED_IN_PHASE_0/1 (the grant phase when it queued), or a state to
 * back off on when a counter is full.
 */
function readerEnterOrQueue(words: Int32Array, i: number): number {
  for (;;) {
    const s = Atomics.load(words, i);
    if (readerMayEnter(s)) {
      if (Atomics.compareExchange(words, i, s, s + READER) === s) return ENTERED;
    } else if ((s & (WRITER_HELD | WAITING_MASK)) === 0 || (s & BLOCKED_MASK) >= BLOCKED_FULL) {
      return s; // readers full with no writer to hand off, or blocked readers full: back off
    } else if (Atomics.compareExchange(words, i, s, s + BLOCKED_READER) === s) {
      return (s & GRANT_PHASE) === 0 ? QUEUED_IN_PHASE_0 : QUEUED_IN_PHASE_1;
    }
  }
}

/** A queued reader holds the lock once the grant phase has moved on; else the state to sleep on. */
function queuedReaderGranted(words: Int32Array, i: number, phase: number): number {
  const s = Atomics.load(words, i);
  return (s & GRANT_PHASE) !== phase ? ENTERED : s;
}

/** Take the write lock if free, else register as a waiting writer. Else returns the state. */
function writerTakeOrQueue(words: Int32Array, i: number): number {
  for (;;) {
    const s = Atomics.load(words, i);
    if (writerMayTake(s)) {
      if (Atomics.compareExchange(words, i, s, s | WRITER_HELD) === s) return ENTERED;
    } else if ((s & WAITING_MASK) === WAITING_MASK) {
      return s;
    } else if (Atomics.compareExchange(words, i, s, s + WAITING_WRITER) === s) {
      return QUEUED;
    }
  }
}

/** A waiting writer takes the lock once no reader or writer holds it. */
function queuedWriterTryTake(words: Int32Array, i: number): number {
  for (;;) {
    const s = Atomics.load(words, i);
    if (!writerMayTake(s)) return s;
    if (Atomics.compareExchange(words, i, s, s - WAITING_WRITER + WRITER_HELD) === s) {
      return ENTERED;
    }
  }
}

/** Uncontended fast paths: one load and one compareExchange, no clock. */
function readFastPath(words: Int32Array, i: number): boolean {
  const s = Atomics.load(words, i);
  return readerMayEnter(s) && Atomics.compareExchange(words, i, s, s + READER) === s;
}

function writeFastPath(words: Int32Array, i: number): boolean {
  const s = Atomics.load(words, i);
  return writerMayTake(s) && Atomics.compareExchange(words, i, s, s | WRITER_HELD) === s;
}

/**
 * `mmap_read_lock` (blocking; worker threads only). Returns the nanoseconds waited.
 * Afterwards no writer holds the lock until the caller calls mmapReadUnlock.
 */
export function mmapReadLock(words: Int32Array, mm: number, observer?: WaitObserver): number {
  const i = mm + MMAP_LOCK_STATE;
  if (readFastPath(words, i)) return 0;
  assertMayBlock('mmapReadLock');
  const t0 = nowNs();
  let r = readerEnterOrQueue(words, i);
  for (; r >= 0; r = readerEnterOrQueue(words, i))
    sleepWhileEqual(words, i, r, OVERFLOW_BACKOFF_MS);
  if (r === ENTERED) return nowNs() - t0;
  const phase = r === QUEUED_IN_PHASE_1 ? GRANT_PHASE : 0;
  for (r = queuedReaderGranted(words, i, phase); r !== ENTERED; ) {
    observer?.beforeWait();
    sleepWhileEqual(words, i, r);
    r = queuedReaderGranted(words, i, phase);
  }
  return nowNs() - t0;
}

/** `mmap_read_lock` for the event loop: never blocks the thread. Resolves to nanoseconds waited. */
export async function mmapReadLockAsync(
  words: Int32Array,
  mm: number,
  observer?: WaitObserver,
): Promise<number> {
  const i = mm + MMAP_LOCK_STATE;
  if (readFastPath(words, i)) return 0;
  const t0 = nowNs();
  let r = readerEnterOrQueue(words, i);
  for (; r >= 0; r = readerEnterOrQueue(words, i)) {
    await sleepWhileEqualAsync(words, i, r, OVERFLOW_BACKOFF_MS);
  }
  if (r === ENTERED) return nowNs() - t0;
  const phase = r === QUEUED_IN_PHASE_1 ? GRANT_PHASE : 0;
  for (r = queuedReaderGranted(words, i, phase); r !== ENTERED; ) {
    observer?.beforeWait();
    await sleepWhileEqualAsync(words, i, r);
    r = queuedReaderGranted(words, i, phase);
  }
  return nowNs() - t0;
}

/**
 * `mmap_read_trylock`: takes the read lock only if no writer holds it or waits for it (a queued
 * writer makes it fail, as RWSEM_FLAG_WAITERS does in Linux). Never waits.
 */
export function mmapReadTrylock(words: Int32Array, mm: number): boolean {
  const i = mm + MMAP_LOCK_STATE;
  for (;;) {
    const s = Atomics.load(words, i);
    if (!readerMayEnter(s)) return false;
    if (Atomics.compareExchange(words, i, s, s + READER) === s) return true;
  }
}

/** `mmap_read_unlock`. Wakes waiting writers when the last reader leaves. */
export function mmapReadUnlock(words: Int32Array, mm: number): void {
  const i = mm + MMAP_LOCK_STATE;
  const old = Atomics.sub(words, i, READER);
  if ((old & READERS_MASK) === 0) {
    Atomics.add(words, i, READER); // undo the borrow from the blocked-readers field
    throw new Error('mmapReadUnlock: the mmap read lock is not held');
  }
  const now = old - READER;
  if ((now & READERS_MASK) === 0 && (now & WAITING_MASK) !== 0) Atomics.notify(words, i);
}

/**
 * `mmap_write_lock` (blocking; worker threads only): down_write, then mm_lock_seq becomes odd.
 * Returns the nanoseconds waited. Afterwards the caller is the only holder of the lock.
 */
export function mmapWriteLock(words: Int32Array, mm: number, observer?: WaitObserver): number {
  const i = mm + MMAP_LOCK_STATE;
  if (writeFastPath(words, i)) {
    mmLockSeqcountBegin(words, mm);
    return 0;
  }
  assertMayBlock('mmapWriteLock');
  const t0 = nowNs();
  let r = writerTakeOrQueue(words, i);
  while (r !== ENTERED && r !== QUEUED) {
    sleepWhileEqual(words, i, r, OVERFLOW_BACKOFF_MS);
    r = writerTakeOrQueue(words, i);
  }
  if (r === QUEUED) {
    for (r = queuedWriterTryTake(words, i); r !== ENTERED; r = queuedWriterTryTake(words, i)) {
      observer?.beforeWait();
      sleepWhileEqual(words, i, r, backoffFor(r));
    }
  }
  mmLockSeqcountBegin(words, mm);
  return nowNs() - t0;
}

/** `mmap_write_lock` for the event loop: never blocks the thread. Resolves to nanoseconds waited. */
export async function mmapWriteLockAsync(
  words: Int32Array,
  mm: number,
  observer?: WaitObserver,
): Promise<number> {
  const i = mm + MMAP_LOCK_STATE;
  if (writeFastPath(words, i)) {
    mmLockSeqcountBegin(words, mm);
    return 0;
  }
  const t0 = nowNs();
  let r = writerTakeOrQueue(words, i);
  while (r !== ENTERED && r !== QUEUED) {
    await sleepWhileEqualAsync(words, i, r, OVERFLOW_BACKOFF_MS);
    r = writerTakeOrQueue(words, i);
  }
  if (r === QUEUED) {
    for (r = queuedWriterTryTake(words, i); r !== ENTERED; r = queuedWriterTryTake(words, i)) {
      observer?.beforeWait();
      await sleepWhileEqualAsync(words, i, r, backoffFor(r));
    }
  }
  mmLockSeqcountBegin(words, mm);
  return nowNs() - t0;
}

/** `mmap_write_trylock`: takes the write lock only if it is free right now. Never waits. */
export function mmapWriteTrylock(words: Int32Array, mm: number): boolean {
  const i = mm + MMAP_LOCK_STATE;
  if (!writeFastPath(words, i)) return false;
  mmLockSeqcountBegin(words, mm);
  return true;
}

/**
 * Clears WRITER_HELD, adding `readersAfter` holders, and hands the lock to every reader queued
 * behind the writer (they become holders; GRANT_PHASE flips). Returns the state before.
 */
function releaseWriter(words: Int32Array, i: number, readersAfter: number, what: string): number {
  let s = Atomics.load(words, i);
  for (;;) {
    if ((s & WRITER_HELD) === 0) throw new Error(`${what}: the mmap write lock is not held`);
    let next = (s & ~WRITER_HELD) + readersAfter;
    const blocked = s & BLOCKED_MASK;
    if (blocked !== 0) next = (next - blocked + (blocked >>> BLOCKED_SHIFT)) ^ GRANT_PHASE;
    const seen = Atomics.compareExchange(words, i, s, next);
    if (seen === s) return s;
    s = seen;
  }
}

function assertWriteHeld(words: Int32Array, i: number, what: string): void {
  if ((Atomics.load(words, i) & WRITER_HELD) === 0) {
    throw new Error(`${what}: the mmap write lock is not held`);
  }
}

/**
 * `mmap_write_unlock`: mm_lock_seq becomes even (vma_end_write_all: all VMA write locks taken
 * under this lock are released), then up_write, waking queued readers and writers.
 */
export function mmapWriteUnlock(words: Int32Array, mm: number): void {
  const i = mm + MMAP_LOCK_STATE;
  assertWriteHeld(words, i, 'mmapWriteUnlock');
  mmLockSeqcountEnd(words, mm);
  const old = releaseWriter(words, i, 0, 'mmapWriteUnlock');
  if ((old & (BLOCKED_MASK | WAITING_MASK)) !== 0) Atomics.notify(words, i);
}

/**
 * `mmap_write_downgrade`: mm_lock_seq becomes even (all VMA write locks released), and the writer
 * becomes a reader without letting any writer in between; queued readers are let in with it.
 * The caller later calls mmapReadUnlock.
 */
export function mmapWriteDowngrade(words: Int32Array, mm: number): void {
  const i = mm + MMAP_LOCK_STATE;
  assertWriteHeld(words, i, 'mmapWriteDowngrade');
  mmLockSeqcountEnd(words, mm);
  const old = releaseWriter(words, i, READER, 'mmapWriteDowngrade');
  if ((old & BLOCKED_MASK) !== 0) Atomics.notify(words, i);
}

/** Decoded mmap_lock state, for tests, debugging and gauges. A racy snapshot. */
export interface MmapLockState {
  readers: number;
  blockedReaders: number;
  waitingWriters: number;
  writerHeld: boolean;
}

export function mmapLockState(words: Int32Array, mm: number): MmapLockState {
  const s = Atomics.load(words, mm + MMAP_LOCK_STATE);
  return {
    readers: s & READERS_MASK,
    blockedReaders: (s & BLOCKED_MASK) >>> BLOCKED_SHIFT,
    waitingWriters: (s & WAITING_MASK) >>> 22,
    writerHeld: (s & WRITER_HELD) !== 0,
  };
}

/** `mmap_lock_is_contended`: true if any thread is queued on the lock. */
export function mmapLockIsContended(words: Int32Array, mm: number): boolean {
  return (Atomics.load(words, mm + MMAP_LOCK_STATE) & (BLOCKED_MASK | WAITING_MASK)) !== 0;
}
