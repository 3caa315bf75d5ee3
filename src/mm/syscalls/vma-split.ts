/**
 * Splitting a VMA in two: __split_vma() and split_vma() of mm/vma.c (Linux 6.18).
 *
 * Order of checks: split_vma() refuses with ENOMEM when map_count >= max_map_count
 * (__split_vma() skips that check); then the VMA's may_split op (special mappings: EINVAL);
 * then allocation (ENOMEM). Nothing changes on failure.
 *
 * As in the kernel, the existing record keeps one part and a new record (vm_area_dup: same
 * flags, file, anon name reference, ops) takes the other: the lower part when `newBelow`, else
 * the upper part. Both are write-locked; the new one is published with one index store, which
 * trims the old record's index entry to the part it keeps.
 */
import { EINVAL, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { pagesSplitHuge } from '../pages/page-hooks.js';
import { hasCloseOp } from '../special-mappings.js';
import { PAGE_SIZE } from '../vm-flags.js';
import { IndexFullError } from '../vma-index.js';
import { indexStore } from './index-ops.js';
import { vmaMarkAttached, vmaStartWrite } from './vma-lock-hooks.js';

/**
 * __split_vma(): split `id` at `addr` (start < addr < end). Returns the new VMA's id, or -errno
 * with nothing changed. Unless `publish` is false: then the new VMA is attached but not stored
 * in the index and no huge page is split yet; the caller makes the index change (see
 * doAlignMunmap), then calls pagesSplitHuge, or undoSplit if that change fails.
 */
export function splitVmaUnchecked(
  mm: MmStruct,
  id: number,
  addr: number,
  newBelow: boolean,
  publish = true,
): number {
  const v = mm.vmas;
  // special_mapping_split(): special mappings keep their size for their lifetime.
  if (hasCloseOp(v.ops(id))) return -EINVAL;
  const nu = mm.dupVma(id);
  if (nu === 0) return -ENOMEM;
  const start = v.start(id);
  const end = v.end(id);
  const pgoff = v.pgoff(id);
  const delta = (addr - start) / PAGE_SIZE;
  if (newBelow) v.setRange(nu, start, addr, pgoff);
  else v.setRange(nu, addr, end, pgoff + delta);
  vmaStartWrite(mm, id);
  vmaStartWrite(mm, nu);
  if (newBelow) v.setRange(id, addr, end, pgoff + delta);
  else v.setEnd(id, addr);
  vmaMarkAttached(mm, nu);
  mm.mapCount = mm.mapCount + 1;
  if (!publish) return nu;
  try {
    indexStore(mm, v.start(nu), v.end(nu), nu);
  } catch (e) {
    if (!(e instanceof IndexFullError)) throw e;
    undoSplit(mm, id, nu, start, end, pgoff);
    return -ENOMEM;
  }
  // vma_adjust_trans_huge(): a huge page across the new boundary is split (its PMD).
  pagesSplitHuge(mm, addr);
  return nu;
}

/** Undo a split of `id` (was [start, end) at `pgoff`) whose new VMA `nu` is not in the index. */
export function undoSplit(
  mm: MmStruct,
  id: number,
  nu: number,
  start: number,
  end: number,
  pgoff: number,
): void {
  mm.vmas.setRange(id, start, end, pgoff);
  mm.discardVma(nu); // drops the anon name and file references dupVma took
  mm.mapCount = mm.mapCount - 1;
}

/** split_vma(): __split_vma() after the max_map_count check. */
export function splitVma(mm: MmStruct, id: number, addr: number, newBelow: boolean): number {
  if (mm.mapCount >= mm.maxMapCount) return -ENOMEM;
  return splitVmaUnchecked(mm, id, addr, newBelow);
}
