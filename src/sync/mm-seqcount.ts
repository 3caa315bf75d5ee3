/**
 * The mm sequence count (Linux `mm->mm_lock_seq`), coupled to the mmap write lock: it becomes odd
 * when a writer takes the mmap write lock and even again when the writer releases or downgrades
 * it. Speculative readers record it, read shared data with plain loads, and re-check it: if it
 * moved, some write-lock/unlock happened anywhere in the address space and what they read may be
 * torn. The per-VMA lock also compares it with each VMA's `vm_lock_seq` (vma-lock.ts).
 *
 * Readers touch only the sequence word with `Atomics.load` (node-perf.md §3: 11 ns per
 * speculation, scales with readers); only the mmap write-lock holder changes it.
 */
import { MM_LOCK_SEQ } from './layout.js';

/** Returned by speculateTryBegin when a writer holds the mmap lock. */
export const SPECULATE_FAILED = -1;

/**
 * `mmap_lock_speculate_try_begin`: returns the current sequence (an even number in [0, 2^32)) to
 * pass to speculateRetry, or SPECULATE_FAILED (-1) if a writer holds the mmap lock (sequence odd),
 * in which case the caller should take the slow path (the mmap read lock) instead of spinning.
 * Always succeeds while the caller holds the mmap read lock.
 */
export function speculateTryBegin(words: Int32Array, mm: number): number {
  const seq = Atomics.load(words, mm + MM_LOCK_SEQ);
  return seq & 1 ? SPECULATE_FAILED : seq >>> 0;
}

/**
 * `mmap_lock_speculate_try_begin` with a plain load, as Linux's READ_ONCE() is. Linux follows it
 * with smp_rmb(), which JS has not: nothing orders this load before the caller's later plain
 * loads. Only for a caller that has argued why it needs no such order (RcuVmaCursor.
 * nextSpeculating: it then reads only index nodes that never change).
 */
export function speculateTryBeginPlain(words: Int32Array, mm: number): number {
  const seq = words[mm + MM_LOCK_SEQ];
  return seq & 1 ? SPECULATE_FAILED : seq >>> 0;
}

/**
 * `mmap_lock_speculate_retry`: true if any mmap write lock or unlock happened since `seq` was
 * returned by speculateTryBegin (so data read since then may be inconsistent), false if none did.
 * Always true for SPECULATE_FAILED.
 */
export function speculateRetry(words: Int32Array, mm: number, seq: number): boolean {
  return Atomics.load(words, mm + MM_LOCK_SEQ) >>> 0 !== seq;
}

/**
 * The raw sequence word (signed Int32, as stored), for comparison with a VMA's `vm_lock_seq`.
 * Reliable only under the mmap write lock; otherwise a racy snapshot.
 */
export function mmLockSeqRaw(words: Int32Array, mm: number): number {
  return Atomics.load(words, mm + MM_LOCK_SEQ);
}

/** True while some thread holds the mmap write lock (the sequence is odd). */
export function mmWriteLockHeld(words: Int32Array, mm: number): boolean {
  return (Atomics.load(words, mm + MM_LOCK_SEQ) & 1) === 1;
}

/**
 * `mm_lock_seqcount_begin`: sequence becomes odd. Only mmap-lock.ts calls this, right after the
 * writer has taken the rwsem. Atomics.add is sequentially consistent, so the odd value is visible
 * before any change the writer makes next.
 */
export function mmLockSeqcountBegin(words: Int32Array, mm: number): void {
  Atomics.add(words, mm + MM_LOCK_SEQ, 1);
}

/**
 * `mm_lock_seqcount_end` (= `vma_end_write_all`): sequence becomes even, which releases every VMA
 * write lock taken under this mmap write lock at once. Only mmap-lock.ts calls this, before it
 * releases (or downgrades) the rwsem; every change the writer made is visible before the new value.
 */
export function mmLockSeqcountEnd(words: Int32Array, mm: number): void {
  Atomics.add(words, mm + MM_LOCK_SEQ, 1);
}
