/**
 * `lock_next_vma()` and `lock_next_vma_under_mmap_lock()` (Linux 6.17+, mm/mmap_lock.c): the
 * per-VMA read lock of a reader that walks an mm under RCU, as /proc/PID/maps and PROCMAP_QUERY
 * do. Like every primitive here it knows nothing of arenas: the caller names the lock words and
 * supplies its walk of the VMA tree, its RCU section and its (timed) mmap read lock as a
 * `NextVmaReader`. docs/locking.md: rules 1 (never wait for the mmap lock inside RCU or holding
 * a VMA read lock) and 4 (one VMA read lock at a time per walk).
 */
import { SPECULATE_FAILED, speculateRetry } from './mm-seqcount.js';
import {
  VMA_EAGAIN,
  VMA_FAIL,
  VMA_LOCKED,
  vmaEndRead,
  vmaStartRead,
  vmaStartReadLocked,
} from './vma-lock.js';

/** lockNextVma result: the VMA's read-lock count is at its limit (kernel: ERR_PTR(-EAGAIN)). */
export const LOCK_OVERFLOW = -1;

/** What lock_next_vma needs from its caller: one mm's tree walk, RCU, the mmap lock, counts. */
export interface NextVmaReader {
  /**
   * `mmap_lock_speculate_try_begin()` then `vma_next()`, inside the current RCU section: the
   * first VMA with vm_end > from (0: none). The sequence it began with (SPECULATE_FAILED if a
   * writer held the mmap lock) is then `lookupSeq`.
   */
  vmaNext(from: number): number;
  readonly lookupSeq: number;
  /** `vma_iter_set()`: forget the walk position (also whenever RCU was left). */
  iterReset(): void;
  /** `find_vma()` under the mmap read lock. */
  findVma(from: number): number;
  vmaStart(id: number): number;
  vmaEnd(id: number): number;
  /** `vm_start <= addr < vm_end` (one call on the per-line path instead of two). */
  vmaContains(id: number, addr: number): boolean;
  /** Word index of the VMA's `vm_refcnt`. */
  refcntWord(id: number): number;
  /** Word index of the VMA's `vm_lock_seq`. */
  lockSeqWord(id: number): number;
  rcuReadLock(): void;
  rcuReadUnlock(): void;
  mmapReadLock(): void;
  mmapReadUnlock(): void;
  /**
   * Counts: lookups + lock tries (`n` of them: the walk adds them up and reports them when it
   * finishes, so that the per-line path makes no call for it); a detached VMA (looked up again);
   * a fallback to the mmap lock.
   */
  attempts(n: number): void;
  detached(): void;
  contention(): void;
  /** Test points inside the lock-free window (null in production). */
  afterLookup(id: number): void;
  beforeFallbackLock(): void;
}

/**
 * `proc_maps_locking_ctx` of one reader on one mm: the VMA it holds read-locked, or the mmap
 * read lock it switched to on a refcount overflow. `w` is the arena's Int32Array, `mm` the base
 * of its per-mm sync words.
 */
export class VmaReadWalk {
  /** The read-locked VMA (0: none). */
  locked = 0;
  /** Word index of its `vm_refcnt` (set with it, so the unlock needs no lookup). */
  private lockedWord = 0;
  /** The mmap read lock is held to the end of the chunk/query (after an overflow). */
  mmapLocked = false;
  /** Lookups + lock tries not yet reported to `reader.attempts` (reported by `finish`). */
  private attemptsToReport = 0;

  constructor(
    readonly w: Int32Array,
    readonly mm: number,
    readonly reader: NextVmaReader,
  ) {}

  /** Start of a chunk or query: nothing held. */
  reset(): void {
    this.locked = 0;
    this.mmapLocked = false;
    this.reportAttempts(); // none, unless the last chunk or query ended without `finish`
  }

  private reportAttempts(): void {
    if (this.attemptsToReport !== 0) {
      this.reader.attempts(this.attemptsToReport);
      this.attemptsToReport = 0;
    }
  }

  /** `vma_end_read(locked_vma)`. */
  unlockVma(): void {
    if (this.locked !== 0) {
      vmaEndRead(this.w, this.lockedWord);
      this.locked = 0;
    }
  }

  /**
   * `lock_vma_range` + lookup (proc_get_vma): the first VMA with vm_end > from, read-locked (the
   * previous one unlocked first) or found under the held mmap read lock; 0 if none. Called inside
   * the caller's RCU read section, returns inside it.
   *
   * This runs once per line of a maps read, and V8 inlines only so much into the reader's loop
   * (a budget in bytecode bytes per optimised function, each layer of calls paying its own): so
   * the unlock and `lock_next_vma`'s common case — found, read-locked, `from` inside it — are
   * written out here, and everything else continues in `nextRest`. Together they are
   * `lockNextVma`, step for step.
   */
  next(from: number): number {
    const { w, reader } = this;
    if (this.locked !== 0) {
      vmaEndRead(w, this.lockedWord); // unlockVma()
      this.locked = 0;
    } else if (this.mmapLocked) {
      return reader.findVma(from);
    }
    this.attemptsToReport++;
    const id = reader.vmaNext(from); // speculate-begin + vma_next
    if (id === 0) return 0;
    reader.afterLookup(id);
    const refcnt = reader.refcntWord(id);
    const r = vmaStartRead(w, this.mm, refcnt, reader.lockSeqWord(id));
    if (r === VMA_LOCKED && (reader.vmaContains(id, from) || this.gapStands(id, from))) {
      this.lockedWord = refcnt;
      this.locked = id;
      return id;
    }
    return this.nextRest(from, reader.lookupSeq, id, r);
  }

  /**
   * lock_next_vma's other common case (a maps line after a gap: a quarter of a typical process's
   * lines), read-locked VMA `id` not containing `from`: a gap before it that no change can have
   * made since the lookup (the lookup's speculation still holds). Anything else (moved or shrunk
   * behind `from`, a change since the lookup) is `lockNextVmaRest`'s.
   */
  private gapStands(id: number, from: number): boolean {
    return from < this.reader.vmaStart(id) && this.speculationHolds(this.reader.lookupSeq);
  }

  /** No mmap write lock was taken or released since the lookup that began with `seq`. */
  private speculationHolds(seq: number): boolean {
    return seq !== SPECULATE_FAILED && !speculateRetry(this.w, this.mm, seq);
  }

  /** `next` past lock_next_vma's common case: its rest, then the overflow switch. */
  private nextRest(from: number, seq: number, id: number, r: number): number {
    id = this.lockNextVmaRest(from, seq, id, r);
    if (id !== LOCK_OVERFLOW) {
      this.locked = id;
      return id;
    }
    this.switchToMmapLock();
    return this.reader.findVma(from);
  }

  /**
   * End of a chunk or query (m_stop / query_vma_teardown): drops the VMA read lock or the mmap
   * read lock. Returns whether the walk was still in RCU mode (then the caller's RCU section is
   * its own to end).
   */
  finish(): boolean {
    this.reportAttempts();
    if (this.mmapLocked) {
      this.reader.mmapReadUnlock();
      this.mmapLocked = false;
      return false;
    }
    this.unlockVma();
    return true;
  }

  /**
   * `lock_next_vma(mm, vmi, from)`, inside an RCU read section: the first VMA with
   * vm_end > from, read-locked; 0 if there is none; LOCK_OVERFLOW. Its start — the count, the
   * speculation, the first lookup (`seq`, `id`) and lock try (`r`), and the common case (found,
   * locked, `from` inside it) — is written out in `next`; everything else (a gap before it,
   * detached, write locked, moved) continues here.
   */
  private lockNextVmaRest(from: number, seq: number, id: number, r: number): number {
    const { w, mm, reader } = this;
    for (;;) {
      if (r === VMA_EAGAIN) {
        // Detached after the lookup: the tree no longer has it; look the position up again.
        reader.detached();
        reader.iterReset();
      } else {
        if (r === VMA_FAIL) return this.lockUnderMmapLock(from);
        // Read-locked: the record is stable now. Is it still the right one?
        if (from >= reader.vmaEnd(id)) {
          vmaEndRead(w, reader.refcntWord(id)); // moved or shrunk behind the position
          return this.lockUnderMmapLock(from);
        }
        if (from < reader.vmaStart(id)) {
          // A gap before it: real, or made by a change that is still in progress elsewhere?
          if (!this.speculationHolds(seq)) {
            if (reader.findVma(from) !== id) {
              vmaEndRead(w, reader.refcntWord(id));
              return this.lockUnderMmapLock(from);
            }
          }
        }
        this.lockedWord = reader.refcntWord(id);
        return id;
      }
      this.attemptsToReport++;
      id = reader.vmaNext(from);
      seq = reader.lookupSeq;
      if (id === 0) return 0;
      reader.afterLookup(id);
      r = vmaStartRead(w, mm, reader.refcntWord(id), reader.lockSeqWord(id));
    }
  }

  /**
   * `lock_next_vma_under_mmap_lock`: the fallback. Leaves RCU, takes the mmap read lock just
   * long enough to look the position up and read-lock the VMA, then re-enters RCU.
   */
  private lockUnderMmapLock(from: number): number {
    const reader = this.reader;
    reader.contention();
    reader.rcuReadUnlock();
    reader.iterReset();
    reader.beforeFallbackLock();
    reader.mmapReadLock();
    let id = reader.findVma(from);
    if (id !== 0) {
      this.lockedWord = reader.refcntWord(id);
      if (!vmaStartReadLocked(this.w, this.lockedWord)) id = LOCK_OVERFLOW;
    }
    reader.mmapReadUnlock();
    reader.rcuReadLock();
    return id;
  }

  /** Refcount overflow: leave RCU and hold the mmap read lock until the chunk/query ends. */
  private switchToMmapLock(): void {
    const reader = this.reader;
    reader.contention();
    reader.rcuReadUnlock();
    reader.iterReset();
    reader.mmapReadLock();
    this.mmapLocked = true;
  }
}
