/**
 * `vma_next()` for readers that walk the index under RCU without the mmap lock: an index cursor
 * continued from the previous VMA (O(1) per VMA, one leaf miss per leaf) instead of a
 * root-to-leaf lookup per VMA, when that gives the same answer a fresh lookup would:
 *   - the caller is still inside the RCU read section in which the cursor was positioned (its
 *     snapshot's nodes are not reclaimed before that section ends; `invalidate()` whenever the
 *     caller leaves RCU or a chunk starts);
 *   - the position continues the walk (`from` is the end of the entry the cursor is on);
 *   - the mm sequence the caller read before this lookup is the one read before the cursor's
 *     root was loaded: no mmap write lock was taken or released since, so that root is still
 *     the published one. (A writer holding the lock gives SPECULATE_FAILED: always a fresh seek.)
 * Otherwise it seeks afresh from the current root.
 */
import { type MmStruct, SYNC_WORDS_BASE } from '../../mm/mm-struct.js';
import type { IndexCursor } from '../../mm/vma-index.js';
import { SPECULATE_FAILED, speculateTryBegin, speculateTryBeginPlain } from '../../sync/index.js';

export class RcuVmaCursor {
  private readonly cursor: IndexCursor;
  /** End of the entry the cursor is on (-1: not positioned). */
  private end = -1;
  /** The sequence read before the cursor's root was loaded. */
  private seq = SPECULATE_FAILED;
  /** The mm's sync words (mm_lock_seq is read from them by `nextSpeculating`). */
  private readonly words: Int32Array;
  /** The sequence the last `nextSpeculating` began with. */
  beginSeq = SPECULATE_FAILED;

  constructor(mm: MmStruct) {
    this.cursor = mm.index.cursor();
    this.words = mm.i32;
  }

  invalidate(): void {
    this.end = -1;
  }

  /**
   * The first VMA with vm_end > from (its id, or 0). `seq` is what the caller's
   * speculateTryBegin returned just before this call.
   */
  next(from: number, seq: number): number {
    // `end` is -1 whenever `seq` may be SPECULATE_FAILED (a seek under it sets end to -1 below).
    if (from !== this.end || seq !== this.seq) return this.seek(from, seq);
    return this.step();
  }

  /**
   * `mmap_lock_speculate_try_begin()` + `vma_next()` (lock_next_vma's first two steps): the
   * first VMA with vm_end > from (its id, or 0); the sequence it began with is `beginSeq`.
   *
   * When the walk continues (`from` is the end of the entry the cursor is on), the sequence is
   * read with a plain load, as Linux's READ_ONCE() is, and without Linux's smp_rmb() after it
   * (JS has none). Why that reads the same as an Atomics.load would, for what it is used for:
   *  - it reads the word this cursor last read with Atomics.load (speculateTryBegin, before the
   *    root of this snapshot was loaded), later in program order: it returns that value or a
   *    later one (the writers' increments happen before the Atomics.load that saw them, and no
   *    read returns a write that happens before the one an earlier read of the same word by
   *    the same thread returned); the sequence only grows, so equal means no mmap write lock
   *    was taken or released between the two reads, and the snapshot is still the published one;
   *  - what is read after it, until the VMA's refcount compare-exchange, is that snapshot's
   *    nodes, which never change once published (vma-index.ts): unlike Linux's maple tree walk,
   *    nothing read there needs ordering after the sequence;
   *  - the other use of the sequence, lock_next_vma's gap check, compares it with an
   *    Atomics.load after that compare-exchange (speculateRetry).
   * A different value (a writer came, or holds the lock) seeks afresh with an Atomics.load of the
   * sequence before the root's, as every fresh lookup does.
   */
  nextSpeculating(from: number): number {
    if (from === this.end) {
      const seq = speculateTryBeginPlain(this.words, SYNC_WORDS_BASE);
      if (seq === this.seq) {
        this.beginSeq = seq;
        return this.step();
      }
    }
    const seq = speculateTryBegin(this.words, SYNC_WORDS_BASE);
    this.beginSeq = seq;
    return this.seek(from, seq);
  }

  /** `next` continuing the walk: the entry after the cursor's. */
  private step(): number {
    const c = this.cursor;
    if (!c.next()) return this.notFound();
    this.end = c.end;
    return c.id;
  }

  /** `next` with a fresh lookup from the current root (out of line: once per chunk or change). */
  private seek(from: number, seq: number): number {
    const c = this.cursor;
    this.seq = seq;
    if (!c.seek(from)) return this.notFound();
    // A cursor positioned under SPECULATE_FAILED (a writer holds the mmap lock) is never
    // continued: the next lookup seeks again.
    this.end = seq === SPECULATE_FAILED ? -1 : c.end;
    return c.id;
  }

  private notFound(): number {
    this.end = -1;
    return 0;
  }
}
