/**
 * Changing attributes of part of a VMA: vma_modify(), vma_modify_flags() and vma_modify_name()
 * of mm/vma.c (Linux 6.18), used by mprotect() and prctl(PR_SET_VMA_ANON_NAME).
 *
 * First try to merge the range [start, end) with its neighbours under the new attributes
 * (vma_merge_existing_range); if that is not possible, split the VMA so that the range is a VMA
 * of its own: first at `start` (the new record takes the part below), then at `end` (the new
 * record takes the part above), each split checked against max_map_count (ENOMEM). The caller
 * then sets the attributes on the returned VMA.
 */
import type { MmStruct } from '../mm-struct.js';
import { type MergeState, vmaMergeExistingRange, vmg } from './vma-merge.js';
import { splitVma } from './vma-split.js';

/** vma_modify(): returns the VMA that now spans exactly the range (merged or split), or -errno. */
function vmaModify(g: MergeState): number {
  const mm = g.mm;
  const vma = g.middle;
  const start = g.start;
  const end = g.end;
  const merged = vmaMergeExistingRange(g);
  if (merged !== 0) return merged;
  if (mm.vmas.start(vma) < start) {
    const err = splitVma(mm, vma, start, true);
    if (err < 0) return err;
  }
  if (mm.vmas.end(vma) > end) {
    const err = splitVma(mm, vma, end, false);
    if (err < 0) return err;
  }
  return vma;
}

/**
 * vma_modify_flags(): give [start, end) of `vma` the flags `flags`. `prev` is the VMA before
 * `start` (`vma` itself when start is inside it). Returns the VMA now covering exactly the range
 * (when merged: the merged VMA, which may extend beyond it), or -errno.
 */
export function vmaModifyFlags(
  mm: MmStruct,
  prev: number,
  vma: number,
  start: number,
  end: number,
  flags: number,
): number {
  const g = vmg.initFromVma(mm, prev, vma, start, end);
  g.flags = flags;
  return vmaModify(g);
}

/** vma_modify_name(): as vmaModifyFlags, for the anon name handle `anonName` (0 = none). */
export function vmaModifyName(
  mm: MmStruct,
  prev: number,
  vma: number,
  start: number,
  end: number,
  anonName: number,
): number {
  const g = vmg.initFromVma(mm, prev, vma, start, end);
  g.anonName = anonName;
  return vmaModify(g);
}
