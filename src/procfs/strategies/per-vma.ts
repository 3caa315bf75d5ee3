/**
 * `per_vma` (kernel.md §3.2/§3.3, Linux ≥ 6.17, the default): maps chunks are walked under RCU
 * with one VMA read-locked at a time (`lock_next_vma`); the mmap read lock is taken only
 * momentarily when a VMA cannot be locked, and for the rest of the chunk/query only on vm_refcnt
 * overflow. PROCMAP_QUERY uses the same `lock_next_vma` per lookup (query_vma_find_by_addr).
 *
 * Counts (where they happen, in lockNextVma):
 *   attempt                 each lookup + vma_start_read try
 *   retry + `detached`      the VMA was detached after the lookup (-EAGAIN): look up again
 *   `contention`            fallback to a momentary mmap read lock: VMA write-locked or being
 *                           excluded, VMA moved/shrunk behind the position, or a gap before it
 *                           that a concurrent change made transient; and once more when the
 *                           read-lock count overflows (mmap lock then held to the chunk's end)
 */
import { type MmStruct, SYNC_WORDS_BASE } from '../../mm/mm-struct.js';
import {
  SPECULATE_FAILED,
  speculateRetry,
  speculateTryBegin,
  VMA_EAGAIN,
  VMA_FAIL,
  vmaEndRead,
  vmaStartRead,
  vmaStartReadLocked,
} from '../../sync/index.js';
import type { ByteSink } from '../byte-sink.js';
import { type MapsPosition, type MapsWalker, readMapsChunk } from '../maps-text.js';
import type { QueryTarget } from '../procmap-query.js';
import { captureVma } from '../vma-capture.js';
import type { VmaView } from '../vma-view.js';
import { defineStrategy } from './read-strategy.js';
import { FALLBACK_CONTENTION, FALLBACK_DETACHED, type ReaderContext } from './reader-context.js';
import { RcuVmaCursor } from './vma-cursor.js';

/** lockNextVma result: the VMA's read-lock count is at its limit (kernel: ERR_PTR(-EAGAIN)). */
const LOCK_OVERFLOW = -1;

/**
 * `proc_maps_locking_ctx` of one reader on one mm: which VMA it holds read-locked and whether it
 * has switched to the mmap read lock.
 */
class PerVmaLocking {
  /** The read-locked VMA (0: none). */
  locked = 0;
  mmapLocked = false;
  /** vma_next() state; invalidated whenever RCU is left (and at every chunk/query start). */
  readonly cursor: RcuVmaCursor;

  constructor(
    readonly ctx: ReaderContext,
    readonly mm: MmStruct,
  ) {
    this.cursor = new RcuVmaCursor(mm);
  }

  /** `vma_end_read(locked_vma)`. */
  unlockVma(): void {
    if (this.locked !== 0) {
      vmaEndRead(this.mm.i32, this.mm.vmas.refcntWord(this.locked));
      this.locked = 0;
    }
  }

  /**
   * `lock_next_vma(mm, vmi, from)`, called and returning inside an RCU read section: the first
   * VMA with vm_end > from, read-locked; 0 if there is none; LOCK_OVERFLOW.
   */
  lockNextVma(from: number): number {
    const { ctx, mm } = this;
    const w = mm.i32;
    const t = mm.vmas;
    const hooks = ctx.hooks;
    for (;;) {
      ctx.attempt();
      const seq = speculateTryBegin(w, SYNC_WORDS_BASE);
      const id = this.cursor.next(from, seq);
      if (id === 0) return 0;
      hooks?.afterLookup?.(mm, id);
      const r = vmaStartRead(w, SYNC_WORDS_BASE, t.refcntWord(id), t.lockSeqWord(id));
      if (r === VMA_EAGAIN) {
        // Detached after the lookup: the tree no longer has it; look the position up again.
        ctx.retry();
        ctx.fallback(FALLBACK_DETACHED);
        this.cursor.invalidate();
        continue;
      }
      if (r === VMA_FAIL) return this.lockUnderMmapLock(from);
      // Read-locked: the record is stable now. Is it still the right one?
      if (from >= t.end(id)) {
        vmaEndRead(w, t.refcntWord(id)); // moved or shrunk behind the position
        return this.lockUnderMmapLock(from);
      }
      if (from < t.start(id)) {
        // A gap before it: real, or made by a change that is still in progress elsewhere?
        if (seq === SPECULATE_FAILED || speculateRetry(w, SYNC_WORDS_BASE, seq)) {
          if (mm.findVma(from) !== id) {
            vmaEndRead(w, t.refcntWord(id));
            return this.lockUnderMmapLock(from);
          }
        }
      }
      return id;
    }
  }

  /**
   * `lock_next_vma_under_mmap_lock`: the fallback. Drops RCU, takes the mmap read lock just long
   * enough to look the position up and read-lock the VMA, then re-enters RCU.
   */
  private lockUnderMmapLock(from: number): number {
    const { ctx, mm } = this;
    ctx.fallback(FALLBACK_CONTENTION);
    ctx.rcu.readUnlock();
    this.cursor.invalidate();
    ctx.hooks?.beforeFallbackLock?.(mm);
    ctx.mmapReadLock(mm);
    let id = mm.findVma(from);
    if (id !== 0 && !vmaStartReadLocked(mm.i32, mm.vmas.refcntWord(id))) id = LOCK_OVERFLOW;
    ctx.mmapReadUnlock(mm);
    ctx.rcu.readLock();
    return id;
  }

  /**
   * Refcount overflow: drop RCU and hold the mmap read lock until the chunk/query ends (counted
   * as another `contention` fallback).
   */
  switchToMmapLock(): void {
    this.ctx.fallback(FALLBACK_CONTENTION);
    this.ctx.rcu.readUnlock();
    this.cursor.invalidate();
    this.ctx.mmapReadLock(this.mm);
    this.mmapLocked = true;
  }
}

/** The maps walker: proc_get_vma() with `lock_vma_range` state. */
class PerVmaWalker implements MapsWalker {
  readonly hasGate = true;
  readonly locking: PerVmaLocking;

  constructor(ctx: ReaderContext, mm: MmStruct) {
    this.locking = new PerVmaLocking(ctx, mm);
  }

  next(from: number, view: VmaView): number {
    const l = this.locking;
    const mm = l.mm;
    let id: number;
    if (l.mmapLocked) {
      id = mm.findVma(from);
    } else {
      l.unlockVma();
      id = l.lockNextVma(from);
      if (id === LOCK_OVERFLOW) {
        l.switchToMmapLock();
        id = mm.findVma(from);
      } else {
        l.locked = id;
      }
    }
    if (id === 0) return 0;
    captureVma(mm, id, view);
    return 1;
  }
}

/** query_vma_setup / query_vma_find_by_addr / query_vma_teardown. */
class PerVmaQueryTarget implements QueryTarget {
  readonly locking: PerVmaLocking;

  constructor(ctx: ReaderContext, mm: MmStruct) {
    this.locking = new PerVmaLocking(ctx, mm);
  }

  alive(): boolean {
    return true;
  }

  setup(): number {
    this.locking.locked = 0;
    this.locking.mmapLocked = false;
    return 0;
  }

  next(addr: number, view: VmaView): number {
    const l = this.locking;
    const { ctx, mm } = l;
    let id: number;
    if (l.mmapLocked) {
      id = mm.findVma(addr);
    } else {
      l.unlockVma();
      ctx.rcu.readLock();
      l.cursor.invalidate();
      id = l.lockNextVma(addr);
      ctx.rcu.readUnlock();
      if (id === LOCK_OVERFLOW) {
        ctx.fallback(FALLBACK_CONTENTION);
        ctx.mmapReadLock(mm); // held until teardown
        l.mmapLocked = true;
        id = mm.findVma(addr);
      } else {
        l.locked = id;
      }
    }
    if (id === 0) return 0;
    captureVma(mm, id, view);
    return 1;
  }

  teardown(): void {
    const l = this.locking;
    if (l.mmapLocked) {
      l.ctx.mmapReadUnlock(l.mm);
      l.mmapLocked = false;
    } else {
      l.unlockVma();
    }
  }

  buildId(fileId: number): Uint8Array | null {
    return this.locking.mm.files.buildId(fileId);
  }
}

export const perVma = defineStrategy('per_vma', {
  readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
    const walker = ctx.cached('per_vma', mm, () => new PerVmaWalker(ctx, mm));
    const l = walker.locking;
    l.locked = 0;
    l.mmapLocked = false;
    ctx.rcu.readLock();
    l.cursor.invalidate();
    try {
      return readMapsChunk(pos, limit, walker, sink, ctx.view);
    } finally {
      // m_stop
      if (l.mmapLocked) {
        ctx.mmapReadUnlock(mm);
        l.mmapLocked = false;
      } else {
        l.unlockVma();
        ctx.rcu.readUnlock();
      }
    }
  },
  queryTarget: (ctx, mm) => new PerVmaQueryTarget(ctx, mm),
});
