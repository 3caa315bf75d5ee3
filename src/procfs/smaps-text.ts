/**
 * /proc/PID/smaps and /proc/PID/smaps_rollup read the way Linux 6.18 reads them. Both walk page
 * tables, so neither uses the per-VMA locks maps uses since 6.17 (`lock_vma_range()`: "smaps and
 * numa_maps perform page table walk, therefore require mmap_lock"):
 *
 * - smaps is maps' seq_file with `show_smap` as its show: the mmap read lock is held for each
 *   whole chunk (m_start .. m_stop of one read()), the VMAs are walked with `vma_next` and the
 *   chunks split and resume exactly like maps (maps-text.ts: the 6.17+ `last_pos` rule, a block
 *   kept only while the chunk stays below the read size, then the gate VMA's block).
 * - smaps_rollup is a single_open file: one read of the whole address space under the mmap read
 *   lock, which it drops and retakes after any VMA when a writer is waiting for it
 *   (`mmap_lock_is_contended`), then resumes from the end of the last VMA it summed (the four
 *   cases of show_smaps_rollup: continue with the next VMA, or with the rest of a VMA that grew
 *   across that end).
 *
 * Whatever read strategy is configured, these two files take the mmap read lock, as the kernel
 * does; their reads are counted with strategy `mmap_lock` (op `smaps` / `smaps_rollup`).
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { SYNC_WORDS_BASE } from '../mm/mm-struct.js';
import { gatherVmaPages, newPageCounts, resetPageCounts } from '../mm/pages/page-counts.js';
import { thpEligible } from '../mm/pages/thp.js';
import { mmapLockIsContended } from '../sync/index.js';
import type { ByteSink } from './byte-sink.js';
import { gateVmaView } from './maps-line.js';
import { LINE_WRITTEN, type MapsPosition, type MapsWalker, readMapsChunk } from './maps-text.js';
import { writeRollup, writeSmapsBlock } from './smaps-block.js';
import type { ReaderContext } from './strategies/reader-context.js';
import { directMapsWalker } from './vma-capture.js';
import type { VmaView } from './vma-view.js';

/** THPeligible: `thp_vma_allowable_orders(vma, TVA_SMAPS)` (src/mm/pages/thp.ts). */
function thpEligibleOf(mm: MmStruct, view: VmaView): number {
  const anonymous = !view.hasFile && mm.vmas.ops(view.id) === 0;
  return thpEligible(mm.thpMode, view.flags, view.start, view.end, anonymous) ? 1 : 0;
}

/**
 * The direct walker (the caller holds the mmap read lock for the chunk) with `show_smap` as the
 * record's text: gathers the VMA's page counts, then appends its block instead of the maps line.
 */
function smapsWalker(mm: MmStruct): MapsWalker {
  const inner = directMapsWalker(mm);
  const mss = newPageCounts();
  const gateView = gateVmaView();
  return {
    hasGate: inner.hasGate,
    beginChunk: () => inner.beginChunk?.(),
    next(from: number, view: VmaView, sink: ByteSink): number {
      const r = inner.next(from, view, sink, null);
      if (r !== 1) return r;
      resetPageCounts(mss);
      gatherVmaPages(mm, view.id, mss);
      writeSmapsBlock(sink, view, mss, mm.pkeys, thpEligibleOf(mm, view));
      return LINE_WRITTEN;
    },
    writeGate(sink: ByteSink): void {
      resetPageCounts(mss);
      writeSmapsBlock(sink, gateView, mss, mm.pkeys, 0);
    },
  };
}

/**
 * One read() of smaps: appends one chunk of whole blocks to `sink` under the mmap read lock.
 * Returns the bytes appended, 0 at EOF, or -errno. The caller has begun the read on `ctx`.
 */
export function readSmapsChunk(
  ctx: ReaderContext,
  mm: MmStruct,
  pos: MapsPosition,
  limit: number,
  sink: ByteSink,
): number {
  const walker = ctx.cached<MapsWalker>('smaps', mm, () => smapsWalker(mm));
  ctx.mmapReadLock(mm);
  try {
    return readMapsChunk(pos, limit, walker, sink, ctx.view);
  } finally {
    ctx.mmapReadUnlock(mm);
  }
}

/** Test-only points of the rollup walk. */
export interface RollupHooks {
  /** VMA `id` was summed; the reader holds the mmap read lock. */
  afterVma?(id: number): void;
  /** The reader dropped the lock for a waiting writer and holds none now. */
  onRelock?(): void;
}

/** `show_smaps_rollup()`: the whole file into `sink`. Returns its length. */
export function readSmapsRollup(
  ctx: ReaderContext,
  mm: MmStruct,
  sink: ByteSink,
  hooks?: RollupHooks,
): number {
  const mss = newPageCounts();
  const cursor = mm.index.cursor();
  let vmaStart = 0;
  let lastEnd = 0;
  ctx.mmapReadLock(mm);
  let held = true;
  try {
    if (cursor.seek(0)) {
      vmaStart = cursor.start;
      let more = true;
      while (more) {
        gatherVmaPages(mm, cursor.id, mss);
        lastEnd = cursor.end;
        hooks?.afterVma?.(cursor.id);
        if (mmapLockIsContended(mm.i32, SYNC_WORDS_BASE)) {
          held = false;
          ctx.mmapReadUnlock(mm);
          hooks?.onRelock?.();
          ctx.mmapReadLock(mm);
          held = true;
          // vma_next() from last_vma_end on the tree as it is now: cases 1 and 2, the next
          // VMA whole; case 4, a VMA now spanning last_vma_end, only its part above it.
          if (!cursor.seek(lastEnd)) break;
          gatherVmaPages(mm, cursor.id, mss, cursor.start >= lastEnd ? 0 : lastEnd);
          lastEnd = cursor.end;
        }
        more = cursor.next();
      }
    }
    return writeRollup(sink, vmaStart, lastEnd, mss);
  } finally {
    if (held) ctx.mmapReadUnlock(mm);
  }
}
