/**
 * The mm-sequence speculation shared by `snapshot` and the `lockless` strategies: a reader
 * records mm_lock_seq (even), reads shared memory with plain loads inside an RCU read section,
 * and re-checks the sequence afterwards; any mmap write lock/unlock in between invalidates what
 * it read. Resynchronising (after a failed check, or when a writer holds the lock at the start)
 * takes the mmap read lock momentarily: that waits for the writer and records a fresh sequence,
 * which always succeeds under the read lock (kernel.md §3.0, §3.4).
 */
import { type MmStruct, SYNC_WORDS_BASE } from '../../mm/mm-struct.js';
import { SPECULATE_FAILED, speculateRetry, speculateTryBegin } from '../../sync/index.js';
import type { ReaderContext } from './reader-context.js';
import { RcuVmaCursor } from './vma-cursor.js';

export class Speculation {
  /** The recorded sequence (even). Only this reader uses it. */
  seq = 0;
  /** vma_next() state, valid only within one RCU section under one recorded sequence. */
  readonly cursor: RcuVmaCursor;

  constructor(
    readonly ctx: ReaderContext,
    readonly mm: MmStruct,
  ) {
    this.cursor = new RcuVmaCursor(mm);
  }

  /** The first VMA with vm_end > from (0: none), read under RCU; validate with `valid()`. */
  findNext(from: number): number {
    return this.cursor.next(from, this.seq);
  }

  /** Start of a chunk/query (outside RCU): record the sequence, waiting out a writer if needed. */
  begin(): void {
    this.cursor.invalidate();
    const seq = speculateTryBegin(this.mm.i32, SYNC_WORDS_BASE);
    if (seq === SPECULATE_FAILED) this.resyncUnlocked();
    else this.seq = seq;
  }

  /** True if nothing was write-locked in the mm since the sequence was recorded. */
  valid(): boolean {
    return !speculateRetry(this.mm.i32, SYNC_WORDS_BASE, this.seq);
  }

  /** Momentary mmap read lock to record a fresh sequence (caller is outside RCU). */
  resyncUnlocked(): void {
    this.ctx.mmapReadLock(this.mm);
    this.seq = speculateTryBegin(this.mm.i32, SYNC_WORDS_BASE);
    this.ctx.mmapReadUnlock(this.mm);
  }

  /** As resyncUnlocked, for a caller inside its RCU read section (dropped around the lock). */
  resync(): void {
    this.ctx.rcu.readUnlock();
    this.cursor.invalidate();
    this.resyncUnlocked();
    this.ctx.rcu.readLock();
  }

  /**
   * `mmap_read_trylock` without leaving the RCU read section (it never sleeps): true if the read
   * lock is held now, to be ended with `unlockInRcu`; false (nothing taken) if a writer holds or
   * waits for it, and the caller falls back to `underMmapLock`.
   */
  trylockInRcu(): boolean {
    return this.ctx.mmapReadTrylock(this.mm);
  }

  /**
   * Ends a `trylockInRcu` section: records the sequence (even under the lock), then unlocks. The
   * cursor needs no reset: if the sequence is the one it was positioned under, no write section
   * began or ended since and its snapshot is still the published index; if not, its next lookup
   * seeks afresh (RcuVmaCursor.next compares them).
   */
  unlockInRcu(): void {
    const seq = speculateTryBegin(this.mm.i32, SYNC_WORDS_BASE);
    this.ctx.mmapReadUnlock(this.mm);
    this.seq = seq;
  }

  /**
   * Runs `fn` under a momentary mmap read lock (a fallback), recording a fresh sequence while
   * the lock is held. Caller is inside RCU; RCU is dropped around the lock. Returns fn's result.
   */
  underMmapLock<T>(fn: () => T): T {
    const { ctx, mm } = this;
    ctx.rcu.readUnlock();
    this.cursor.invalidate();
    ctx.mmapReadLock(mm);
    let r: T;
    try {
      r = fn();
      this.seq = speculateTryBegin(mm.i32, SYNC_WORDS_BASE);
    } finally {
      ctx.mmapReadUnlock(mm);
      ctx.rcu.readLock();
    }
    return r;
  }
}
