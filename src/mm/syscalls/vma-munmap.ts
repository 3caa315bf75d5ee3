/**
 * Unmapping a range: the munmap machinery of mm/vma.c (Linux 6.18) shared by munmap(),
 * mmap(MAP_FIXED) over existing mappings, mremap() and brk().
 *
 * Mirrors:
 *   vms_gather_munmap_vmas()   split the first/last VMA at the range edges and collect the
 *                              VMAs inside (write-locking each)
 *   vms_complete_munmap_vmas() drop them from the index, detach, close and free them; with
 *                              `unlock` (munmap(2), brk and mremap shrinking) the mmap write
 *                              lock is downgraded to a read lock once they are detached, and the
 *                              rest (zap, close, free) runs beside other readers
 *   do_vmi_align_munmap(), do_vmi_munmap()
 *
 * Order of checks in do_vmi_munmap(): start not page aligned, start > TASK_SIZE or
 * len > TASK_SIZE - start -> EINVAL; PAGE_ALIGN(len) == 0 -> EINVAL; no VMA in range -> 0.
 * Then in the gather: splitting the first VMA when the range also ends inside it and
 * map_count >= max_map_count -> ENOMEM; a split refused by a special mapping -> EINVAL. A
 * failure while splitting the last VMA leaves the first split in place, as in Linux.
 */
import { EINVAL, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import {
  pagesFreeTables,
  pagesMayHaveTables,
  pagesSplitHuge,
  pagesZap,
} from '../pages/page-hooks.js';
import { OPS_DUMMY, OPS_NONE } from '../special-mappings.js';
import { PAGE_SIZE, TASK_SIZE, VM_ACCOUNT } from '../vm-flags.js';
import { IndexFullError } from '../vma-index.js';
import { indexErase, indexStoreErase } from './index-ops.js';
import { offsetInPage, pageAlign64 } from './u64.js';
import { mmapWriteDowngrade, vmaMarkDetached, vmaStartWrite } from './vma-lock-hooks.js';
import { splitVmaUnchecked, undoSplit } from './vma-split.js';

/** struct vma_munmap_struct: what a gather collected, for the complete step. */
export class MunmapState {
  start = 0;
  end = 0;
  /** VMA before start / first VMA at or after end, after the edge splits (0 = none). */
  prev = 0;
  next = 0;
  /**
   * free_pgtables()'s floor and ceiling as the gather found them (prev's end, 0 if none; next's
   * start, Infinity if none), or -1: found when the VMAs are freed. mmap(MAP_FIXED) frees the
   * tables before its new VMA goes in, so it records them here (a merge may move prev's end).
   */
  floor = -1;
  ceiling = -1;
  /** The collected VMAs, in address order (ids[0 .. count)). */
  readonly ids: number[] = [];
  count = 0;
  /** Pages of the collected VMAs, and of those with VM_ACCOUNT. */
  nrPages = 0;
  nrAccounted = 0;
  /** total_vm when the gather ended (the complete step raises hiwater_vm to it). */
  totalVmBefore = 0;
  /**
   * Set by the caller before a gather: when the range is the tail of one VMA, leave the split's
   * index store to the caller (joined with the erase, one index change); `splitBelow` is then
   * the new VMA below the range, not yet in the index (else 0).
   */
  joinTailSplit = false;
  splitBelow = 0;

  reset(start: number, end: number): this {
    this.start = start;
    this.end = end;
    this.prev = 0;
    this.next = 0;
    this.floor = -1;
    this.ceiling = -1;
    this.joinTailSplit = false;
    this.splitBelow = 0;
    this.count = 0;
    this.nrPages = 0;
    this.nrAccounted = 0;
    return this;
  }
}

/** The munmap of munmap()/brk()/mremap() (one per thread; gathers never nest). */
const unmapState = new MunmapState();

/**
 * vms_gather_munmap_vmas(): `first` is the first VMA with end > st.start (and start < st.end).
 * Splits at the edges and collects the VMAs in [st.start, st.end); with `neighbours`, also finds
 * st.prev and st.next (mmap_region merges with them; a plain munmap does not need them).
 * Returns 0 or -errno.
 */
export function gatherMunmapVmas(
  mm: MmStruct,
  first: number,
  st: MunmapState,
  neighbours = true,
): number {
  const v = mm.vmas;
  const start = st.start;
  const end = st.end;
  let vma = first;
  if (start > v.start(vma)) {
    // Don't let map_count exceed its limit when this munmap splits one VMA in three.
    if (end < v.end(vma) && mm.mapCount >= mm.maxMapCount) return -ENOMEM;
    const join = st.joinTailSplit && end === v.end(vma);
    const err = splitVmaUnchecked(mm, vma, start, true, !join);
    if (err < 0) return err;
    if (join) st.splitBelow = err;
  }
  if (neighbours) st.prev = mm.findVmaPrev(start);
  const ids = st.ids;
  while (vma !== 0 && v.start(vma) < end) {
    if (v.end(vma) > end) {
      const err = splitVmaUnchecked(mm, vma, end, false);
      if (err < 0) return err;
    }
    vmaStartWrite(mm, vma);
    const n = (v.end(vma) - v.start(vma)) / PAGE_SIZE;
    st.nrPages += n;
    if (v.flags(vma) & VM_ACCOUNT) st.nrAccounted += n;
    if (st.count < ids.length) ids[st.count] = vma;
    else ids.push(vma);
    st.count++;
    // A VMA ending at `end` is the last one in the range: no lookup for the one after it.
    if (v.end(vma) >= end) break;
    vma = mm.findVma(v.end(vma));
  }
  if (neighbours) {
    st.next = mm.findVma(end);
    st.floor = st.prev === 0 ? 0 : v.end(st.prev);
    st.ceiling = st.next === 0 ? Infinity : v.start(st.next);
  }
  st.totalVmBefore = mm.totalVm;
  return 0;
}

/**
 * vma_close(): run the close op (special mappings) and switch the VMA to the dummy ops, so a
 * racing reader that already checked vm_ops->name finds none.
 */
export function vmaClose(mm: MmStruct, id: number): void {
  if (mm.vmas.ops(id) !== OPS_NONE) mm.vmas.setOps(id, OPS_DUMMY);
}

/**
 * vms_complete_munmap_vmas(): the collected VMAs are already gone from the index (the caller
 * erased or overwrote their range); detach, close and retire them. When pages were unmapped,
 * update_hiwater_vm() "before we lower total_vm": with total_vm as it was when the gather ended
 * (mmap(MAP_FIXED) accounts its new VMA only after this, so its pages are not in it).
 *
 * `unlock` (munmap(2), brk and mremap shrinking): once every collected VMA is detached, the mmap
 * write lock is downgraded (mmap_write_downgrade, which also ends every VMA write lock): nothing
 * a reader can reach is changed after that, so the pages are zapped and the records closed and
 * retired under the read lock, as Linux clears the page tables and flushes the TLB. (Linux
 * detaches in the gather; here the detach comes first in this step, still write-locked: the
 * same order for any reader, as nothing between the two looks at the records.)
 */
export function completeMunmapVmas(mm: MmStruct, st: MunmapState, unlock = false): void {
  if (st.nrPages > 0 && mm.hiwaterVm < st.totalVmBefore) mm.hiwaterVm = st.totalVmBefore;
  mm.mapCount = mm.mapCount - st.count;
  const ids = st.ids;
  for (let i = 0; i < st.count; i++) vmaMarkDetached(mm, ids[i]);
  if (unlock) mmapWriteDowngrade(mm);
  const spanStart = st.count > 0 ? mm.vmas.start(ids[0]) : 0;
  const spanEnd = st.count > 0 ? mm.vmas.end(ids[st.count - 1]) : 0;
  for (let i = 0; i < st.count; i++) {
    const id = ids[i];
    pagesZap(mm, mm.vmas.start(id), mm.vmas.end(id));
    vmaClose(mm, id);
    mm.retireVma(id);
  }
  if (st.count > 0 && pagesMayHaveTables(mm)) freeTables(mm, st, spanStart, spanEnd);
  st.count = 0;
}

/**
 * free_pgtables() over the freed VMAs' span: the VMAs around it are the gather's (MAP_FIXED:
 * before its new VMA went in) or, else, found now (the freed ones are out of the index).
 */
function freeTables(mm: MmStruct, st: MunmapState, start: number, end: number): void {
  let floor = st.floor;
  let ceiling = st.ceiling;
  if (floor < 0) {
    const prev = mm.findVmaPrev(start);
    const next = mm.findVma(end);
    floor = prev === 0 ? 0 : mm.vmas.end(prev);
    ceiling = next === 0 ? Infinity : mm.vmas.start(next);
  }
  pagesFreeTables(mm, start, end, floor, ceiling);
}

/**
 * do_vmi_align_munmap(): unmap the page-aligned [start, end) whose first VMA is `first`.
 * Returns 0 or -errno. `unlock`: downgrade the mmap write lock on success (completeMunmapVmas);
 * a failure leaves it write-held.
 */
export function doAlignMunmap(
  mm: MmStruct,
  first: number,
  start: number,
  end: number,
  unlock = false,
): number {
  const st = unmapState.reset(start, end);
  st.joinTailSplit = true;
  const err = gatherMunmapVmas(mm, first, st, false);
  if (err < 0) {
    st.count = 0;
    return err;
  }
  const below = st.splitBelow;
  if (below === 0) {
    try {
      indexErase(mm, start, end);
    } catch (e) {
      // do_vmi_align_munmap's clear_tree_failed: the VMAs stay (re-attached), the edge splits
      // made by the gather stay too, and munmap returns ENOMEM.
      if (!(e instanceof IndexFullError)) throw e;
      st.count = 0;
      return -ENOMEM;
    }
  } else {
    // The tail of one VMA: its lower part (the split's new VMA) and the unmap are one change.
    const v = mm.vmas;
    try {
      indexStoreErase(mm, v.start(below), start, end, below);
    } catch (e) {
      if (!(e instanceof IndexFullError)) throw e;
      undoSplit(mm, first, below, v.start(below), end, v.pgoff(below));
      st.count = 0;
      return -ENOMEM;
    }
    pagesSplitHuge(mm, start); // vma_adjust_trans_huge() of the split
  }
  completeMunmapVmas(mm, st, unlock);
  return 0;
}

/**
 * do_vmi_munmap(): validate and unmap [start, start + len). Returns 0 or -errno. `unlock`: as
 * doAlignMunmap's (a range with no VMA in it changes nothing and downgrades nothing: Linux just
 * unlocks there, which the caller's write section does).
 */
export function doMunmap(mm: MmStruct, start: number, len: number, unlock = false): number {
  if (offsetInPage(start) || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  const end = start + pageAlign64(len);
  if (end === start) return -EINVAL;
  const first = mm.findVma(start);
  if (first === 0 || mm.vmas.start(first) >= end) return 0;
  return doAlignMunmap(mm, first, start, end, unlock);
}
