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
import type { MmStruct } from '../../mm/mm-struct.js';
import type { IndexCursor } from '../../mm/vma-index.js';
import { SPECULATE_FAILED } from '../../sync/index.js';

export class RcuVmaCursor {
  private readonly cursor: IndexCursor;
  /** End of the entry the cursor is on (-1: not positioned). */
  private end = -1;
  /** The sequence read before the cursor's root was loaded. */
  private seq = SPECULATE_FAILED;

  constructor(mm: MmStruct) {
    this.cursor = mm.index.cursor();
  }

  invalidate(): void {
    this.end = -1;
  }

  /**
   * The first VMA with vm_end > from (its id, or 0). `seq` is what the caller's
   * speculateTryBegin returned just before this call.
   */
  next(from: number, seq: number): number {
    const c = this.cursor;
    let found: boolean;
    if (from === this.end && seq === this.seq && seq !== SPECULATE_FAILED) {
      found = c.next();
    } else {
      found = c.seek(from);
      this.seq = seq;
    }
    if (!found) {
      this.end = -1;
      return 0;
    }
    this.end = c.end;
    return c.id;
  }
}
