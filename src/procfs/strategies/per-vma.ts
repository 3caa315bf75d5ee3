/**
 * `per_vma` (kernel.md §3.2/§3.3, Linux ≥ 6.17, the default): maps chunks are walked under RCU
 * with one VMA read-locked at a time (`lock_next_vma`, src/sync/lock-next-vma.ts); the mmap read
 * lock is taken only momentarily when a VMA cannot be locked, and for the rest of the chunk/query
 * only on vm_refcnt overflow. PROCMAP_QUERY uses the same `lock_next_vma` per lookup
 * (query_vma_find_by_addr). This file supplies the lock hooks: the reader's RCU section, its
 * timed mmap read lock, its counts and the mm's tree walk.
 *
 * Counts (where they happen, in lock_next_vma):
 *   attempt                 each lookup + vma_start_read try
 *   retry + `detached`      the VMA was detached after the lookup (-EAGAIN): look up again
 *   `contention`            fallback to a momentary mmap read lock: VMA write-locked or being
 *                           excluded, VMA moved/shrunk behind the position, or a gap before it
 *                           that a concurrent change made transient; and once more when the
 *                           read-lock count overflows (mmap lock then held to the chunk's end)
 */
import {
  VMA_F64_END,
  VMA_F64_START,
  VMA_I32_LOCK_SEQ,
  VMA_I32_REFCNT,
} from '../../mm/arena-layout.js';
import { type MmStruct, SYNC_WORDS_BASE } from '../../mm/mm-struct.js';
import { VMA_W32, VMA_W64 } from '../../mm/vma-table.js';
import { type NextVmaReader, VmaReadWalk } from '../../sync/index.js';
import type { ByteSink } from '../byte-sink.js';
import type { MapsLineMemo } from '../maps-line-memo.js';
import {
  LINE_WRITTEN,
  type MapsPosition,
  type MapsWalker,
  RUN_FULL,
  RUN_HANDED,
  readMapsChunk,
} from '../maps-text.js';
import type { QueryTarget } from '../procmap-query.js';
import { captureVma, queryBuildId } from '../vma-capture.js';
import type { VmaView } from '../vma-view.js';
import { defineStrategy } from './read-strategy.js';
import { FALLBACK_CONTENTION, FALLBACK_DETACHED, type ReaderContext } from './reader-context.js';
import { RcuVmaCursor } from './vma-cursor.js';

// The record strides as this module's own constants, for the hooks below that run on every line:
// V8 (Node 20) loads an imported binding from its module cell at every use, while a module's own
// `const` folds into the optimised code (index-readers.ts; with stampedRun's strides in locals,
// ~0.2 µs a 101-line read).
const W64 = VMA_W64;
const W32 = VMA_W32;

/** The lock hooks of one reader on one mm, and its walk (`proc_maps_locking_ctx`). */
class PerVmaReader implements NextVmaReader {
  readonly cursor: RcuVmaCursor;
  readonly walk: VmaReadWalk;
  // The VMA records' arrays and offsets (vma-table.ts), read here directly: these methods run
  // on every line, and through VmaTable's accessors each would cost lock_next_vma's caller
  // twice the inlining budget. Record `id`'s vm_start is f64[start64 + id * W64], and so on.
  private readonly f64: Float64Array;
  private readonly start64: number;
  private readonly end64: number;
  private readonly refcnt32: number;
  private readonly lockSeq32: number;

  constructor(
    readonly ctx: ReaderContext,
    readonly mm: MmStruct,
  ) {
    this.cursor = new RcuVmaCursor(mm);
    this.walk = new VmaReadWalk(mm.i32, SYNC_WORDS_BASE, this);
    const t = mm.vmas;
    this.f64 = t.f64;
    this.start64 = t.base64 + VMA_F64_START;
    this.end64 = t.base64 + VMA_F64_END;
    this.refcnt32 = t.base32 + VMA_I32_REFCNT;
    this.lockSeq32 = t.base32 + VMA_I32_LOCK_SEQ;
  }

  vmaNext(from: number): number {
    return this.cursor.nextSpeculating(from);
  }
  get lookupSeq(): number {
    return this.cursor.beginSeq;
  }
  iterReset(): void {
    this.cursor.invalidate();
  }
  findVma(from: number): number {
    return this.mm.findVma(from);
  }
  vmaStart(id: number): number {
    return this.f64[this.start64 + id * W64];
  }
  vmaEnd(id: number): number {
    return this.f64[this.end64 + id * W64];
  }
  vmaContains(id: number, addr: number): boolean {
    const r = id * W64;
    return addr < this.f64[this.end64 + r] && addr >= this.f64[this.start64 + r];
  }
  refcntWord(id: number): number {
    return this.refcnt32 + id * W32;
  }
  lockSeqWord(id: number): number {
    return this.lockSeq32 + id * W32;
  }
  rcuReadLock(): void {
    this.ctx.rcu.readLock();
  }
  rcuReadUnlock(): void {
    this.ctx.rcu.readUnlock();
  }
  mmapReadLock(): void {
    this.ctx.mmapReadLock(this.mm);
  }
  mmapReadUnlock(): void {
    this.ctx.mmapReadUnlock(this.mm);
  }
  attempts(n: number): void {
    this.ctx.attempts(n);
  }
  detached(): void {
    this.ctx.retry();
    this.ctx.fallback(FALLBACK_DETACHED);
  }
  contention(): void {
    this.ctx.fallback(FALLBACK_CONTENTION);
  }
  afterLookup(id: number): void {
    // Once per line: the hook call (never made in production) stays out of the inlined path.
    if (this.ctx.hooks !== null) this.callAfterLookup(id);
  }
  private callAfterLookup(id: number): void {
    this.ctx.hooks?.afterLookup?.(this.mm, id);
  }
  beforeFallbackLock(): void {
    this.ctx.hooks?.beforeFallbackLock?.(this.mm);
  }
}

/** The maps walker: proc_get_vma() with `lock_vma_range` state (inside the chunk's RCU section). */
class PerVmaWalker implements MapsWalker {
  readonly hasGate = true;
  readonly reader: PerVmaReader;
  /** The VMA `copyRun` found and read-locked last, for `next` to show (0: there was none; -1: unset). */
  private handed = -1;

  constructor(ctx: ReaderContext, mm: MmStruct) {
    this.reader = new PerVmaReader(ctx, mm);
  }

  beginChunk(): void {
    this.handed = -1;
  }

  next(from: number, view: VmaView, sink: ByteSink, lines: MapsLineMemo | null): number {
    let id = this.handed;
    if (id < 0) id = this.reader.walk.next(from);
    else this.handed = -1;
    if (id === 0) return 0;
    // Under the VMA's read lock (or the mmap read lock), as the capture.
    if (lines?.writeIfUnchanged(sink, this.reader.mm, id, view, true)) return LINE_WRITTEN;
    captureVma(this.reader.mm, id, view);
    return 1;
  }

  /** The memo's run (`copyRun`), each VMA found and read-locked by `walk.next` as `next` does. */
  copyRun(pos: MapsPosition, sink: ByteSink, lines: MapsLineMemo, end: number, first: boolean) {
    const r = lines.copyRun(this.reader.walk, this.reader.mm, pos, sink, end, first);
    if (r === RUN_FULL) return RUN_FULL;
    this.handed = r;
    return RUN_HANDED;
  }
}

/** query_vma_setup / query_vma_find_by_addr / query_vma_teardown: RCU around each lookup. */
class PerVmaQueryTarget implements QueryTarget {
  readonly reader: PerVmaReader;

  constructor(ctx: ReaderContext, mm: MmStruct) {
    this.reader = new PerVmaReader(ctx, mm);
  }

  alive(): boolean {
    return true;
  }

  setup(): number {
    this.reader.walk.reset();
    return 0;
  }

  next(addr: number, view: VmaView): number {
    const { ctx, mm, walk, cursor } = this.reader;
    let id: number;
    if (walk.mmapLocked) {
      id = mm.findVma(addr);
    } else {
      ctx.rcu.readLock();
      cursor.invalidate();
      id = walk.next(addr);
      if (!walk.mmapLocked) ctx.rcu.readUnlock();
    }
    if (id === 0) return 0;
    captureVma(mm, id, view);
    return 1;
  }

  teardown(): void {
    this.reader.walk.finish();
  }

  buildId(fileId: number): Uint8Array | null {
    return queryBuildId(this.reader.mm, fileId);
  }
}

export default defineStrategy('per_vma', {
  readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
    const walker = ctx.cached('per_vma', mm, () => new PerVmaWalker(ctx, mm));
    const { walk, cursor } = walker.reader;
    walk.reset();
    ctx.rcu.readLock();
    cursor.invalidate();
    try {
      return readMapsChunk(pos, limit, walker, sink, ctx.view, ctx.mapsLines(mm));
    } finally {
      if (walk.finish()) ctx.rcu.readUnlock(); // m_stop
    }
  },
  queryTarget: (ctx, mm) => new PerVmaQueryTarget(ctx, mm),
});
