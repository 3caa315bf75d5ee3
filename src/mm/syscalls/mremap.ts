/**
 * mremap(2), Linux 6.18: mm/mremap.c (do_mremap, check_mremap_params, check_prep_vma,
 * remap_move, mremap_to, mremap_at, expand_vma, move_vma, shrink_vma) and mm/vma.c copy_vma(),
 * vma_merge_extend().
 *
 * Order of checks:
 *   do_mremap: old_len and new_len are PAGE_ALIGNed (lengths within a page of 2^64 wrap to 0)
 *   1. flags other than MAYMOVE|FIXED|DONTUNMAP                        EINVAL
 *   2. old_addr not page aligned                                       EINVAL
 *   3. new_len == 0, or new_len > TASK_SIZE                            EINVAL
 *   with FIXED or DONTUNMAP (a new address is implied):
 *   4. new_addr > TASK_SIZE - new_len, new_addr not page aligned       EINVAL
 *   5. no MAYMOVE                                                      EINVAL
 *   6. DONTUNMAP and old_len != new_len                                EINVAL
 *   7. [old_addr, +old_len) overlaps [new_addr, +new_len)              EINVAL
 *   8. map_count + 4 > max_map_count (room for the splits)             ENOMEM
 *   FIXED with old_len == new_len moves every VMA in the old range (6.17+ remap_move: the gaps
 *   between them are kept; a gap at the start is EFAULT). Otherwise check_prep_vma() on the VMA
 *   containing old_addr:
 *   9. none                                                            EFAULT
 *   when the call expands or moves (not a plain shrink / same size in place):
 *  10. old_len == 0 on a private mapping (duplicating is only for shared ones)  EINVAL
 *  11. DONTUNMAP on VM_DONTEXPAND / VM_PFNMAP (special mappings)       EINVAL
 *  12. the old range runs past the VMA's end (growing across a VMA boundary)   EFAULT
 *  13. growing a VM_DONTEXPAND / VM_PFNMAP VMA                         EFAULT
 *   Then: shrink in place (unmapping the tail, even across VMA boundaries); grow in place if
 *   the VMA ends at old_addr + old_len and the pages after it are free (merging with the
 *   extension and possibly the next VMA), else without MAYMOVE ENOMEM; else move: FIXED
 *   unmaps the target first, the new address comes from get_unmapped_area() (DONTUNMAP without
 *   FIXED uses new_addr as a hint), map_count + 2 > max -> ENOMEM, splitting a special mapping
 *   -> EINVAL, then copy_vma() (a never-faulted anonymous VMA gets pgoff = new address, so it can
 *   merge at the destination) and unmap of the old range (kept with DONTUNMAP; VM_LOCKED is
 *   cleared on the old VMA then).
 */

import { EFAULT, EINVAL, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { pagesMove } from '../pages/page-hooks.js';
import {
  MAP_FIXED,
  MAP_SHARED,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PAGE_SIZE,
  TASK_SIZE,
  VM_DONTEXPAND,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_MAYSHARE,
  VM_PFNMAP,
  VM_SHARED,
} from '../vm-flags.js';
import { IndexFullError } from '../vma-index.js';
import { ANON_VMA_BITS, hasAnonVma, populateVma } from './anon-vma.js';
import { indexStore } from './index-ops.js';
import { vmaIsAnonymous } from './mprotect.js';
import { add64, offsetInPage, pageAlign64 } from './u64.js';
import {
  AREA_ANON,
  AREA_REGULAR_FILE,
  AREA_SHMEM,
  type AreaKind,
  getUnmappedArea,
} from './unmapped-area.js';
import { vmaMarkAttached, vmaStartWrite } from './vma-lock-hooks.js';
import { canMergeRemoveVma, vmaMergeCopiedRange, vmaMergeNewRange, vmg } from './vma-merge.js';
import { doMunmap } from './vma-munmap.js';

const REMAP_NO_RESIZE = 1;
const REMAP_SHRINK = 2;
const REMAP_EXPAND = 3;
/** PMD_SIZE: the region one PTE table maps (move_page_tables realigns to it). */
const PMD_SIZE = 2 * 1024 * 1024;

/** struct vma_remap_struct (one per thread). */
class RemapState {
  addr = 0;
  oldLen = 0;
  newLen = 0;
  flags = 0;
  newAddr = 0;
  vma = 0;
  delta = 0;
  type = 0;
}
const vrm = new RemapState();

function impliesNewAddr(r: RemapState): boolean {
  return (r.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
}

/** mremap(old_addr, old_len, new_len, flags, new_addr): the (new) address or -errno. */
export function mremap(
  mm: MmStruct,
  oldAddr: number,
  oldLen: number,
  newLen: number,
  flags: number,
  newAddr: number,
): number {
  const r = vrm;
  r.addr = oldAddr;
  r.oldLen = pageAlign64(oldLen);
  r.newLen = pageAlign64(newLen);
  r.flags = flags;
  r.newAddr = newAddr;
  r.vma = 0;
  const err = checkMremapParams(r);
  if (err < 0) return err;
  if (mm.mapCount + 4 > mm.maxMapCount) return -ENOMEM;
  if (flags & MREMAP_FIXED && r.oldLen === r.newLen) return remapMove(mm, r);
  r.vma = mm.vmaLookup(r.addr);
  const prep = checkPrepVma(mm, r);
  if (prep < 0) return prep;
  const populateExpand = r.type === REMAP_EXPAND && (mm.vmas.flags(r.vma) & VM_LOCKED) !== 0;
  const oldLen0 = r.oldLen;
  const res = impliesNewAddr(r) ? mremapTo(mm, r) : mremapAt(mm, r);
  // VMA mlock()ed and expanded: the kernel populates the new part (mm_populate).
  if (res >= 0 && populateExpand) {
    const vma = mm.vmaLookup(res + oldLen0);
    if (vma !== 0) populateVma(mm, vma);
  }
  return res;
}

/** check_mremap_params(). */
function checkMremapParams(r: RemapState): number {
  if (r.flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return -EINVAL;
  if (offsetInPage(r.addr)) return -EINVAL;
  if (r.newLen === 0) return -EINVAL;
  if (r.newLen > TASK_SIZE) return -EINVAL;
  if (!impliesNewAddr(r)) return 0;
  if (r.newAddr > TASK_SIZE - r.newLen) return -EINVAL;
  if (offsetInPage(r.newAddr)) return -EINVAL;
  if (!(r.flags & MREMAP_MAYMOVE)) return -EINVAL;
  if (r.flags & MREMAP_DONTUNMAP && r.oldLen !== r.newLen) return -EINVAL;
  // The target must not overlap the source.
  const endOld = add64(r.addr, r.oldLen);
  const endNew = r.newAddr + r.newLen;
  if (endOld > r.newAddr && endNew > r.addr) return -EINVAL;
  return 0;
}

/** check_prep_vma(): validate r.vma for the operation; sets delta and type. */
function checkPrepVma(mm: MmStruct, r: RemapState): number {
  const vma = r.vma;
  if (vma === 0) return -EFAULT;
  const v = mm.vmas;
  r.delta = Math.abs(r.oldLen - r.newLen);
  r.type = r.delta === 0 ? REMAP_NO_RESIZE : r.oldLen > r.newLen ? REMAP_SHRINK : REMAP_EXPAND;
  if (!impliesNewAddr(r)) r.newAddr = r.addr;
  // Below only matters when the call expands or moves a VMA.
  if (r.type !== REMAP_EXPAND && !impliesNewAddr(r)) return 0;
  const flags = v.flags(vma);
  let oldLen = r.oldLen;
  const newLen = r.newLen;
  if (oldLen === 0 && (flags & (VM_SHARED | VM_MAYSHARE)) === 0) return -EINVAL;
  if (r.flags & MREMAP_DONTUNMAP && flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EINVAL;
  // Crossing VMA boundaries is allowed for the part a shrink unmaps.
  if (r.type === REMAP_SHRINK) oldLen = newLen;
  if (oldLen > v.end(vma) - r.addr) return -EFAULT;
  if (newLen === oldLen) return 0;
  if (flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT;
  // mlock_future_ok / may_expand_vm: no limits in the simulation.
  return 0;
}

/** remap_move(): MREMAP_FIXED with equal lengths moves every VMA in [addr, addr + old_len). */
function remapMove(mm: MmStruct, r: RemapState): number {
  const start = r.addr;
  const end = add64(start, r.oldLen);
  const newAddr = r.newAddr;
  let targetAddr = newAddr;
  let res = -EFAULT;
  let seen = false;
  let lastEnd = 0;
  let vma = mm.findVma(start);
  const v = mm.vmas;
  while (vma !== 0 && v.start(vma) < end) {
    const vmaStart = v.start(vma);
    const vmaEnd = v.end(vma);
    const addr = Math.max(vmaStart, start);
    const pieceEnd = Math.min(end, vmaEnd);
    const len = pieceEnd - addr;
    // No gap permitted at the start of the range.
    if (!seen && start < vmaStart) return -EFAULT;
    // Keep the gaps between source VMAs at the destination.
    const offset = seen ? vmaStart - lastEnd : 0;
    lastEnd = vmaEnd;
    r.vma = vma;
    r.addr = addr;
    r.newAddr = targetAddr + offset;
    r.oldLen = len;
    r.newLen = len;
    let resVma = checkPrepVma(mm, r);
    if (resVma === 0) resVma = mremapTo(mm, r);
    if (resVma < 0) return resVma;
    if (!seen) res = resVma;
    seen = true;
    targetAddr = resVma + len;
    // The iterator resumes after the VMA as it was (mas_pause: index = last + 1); it never
    // goes back, even if the copy merged with the VMA it came from.
    vma = vmaEnd < end ? mm.findVma(vmaEnd) : 0;
  }
  return res;
}

/** mremap_to(): move (and maybe shrink) to r.newAddr (FIXED) or a new place (DONTUNMAP). */
function mremapTo(mm: MmStruct, r: RemapState): number {
  if (r.flags & MREMAP_FIXED) {
    const err = doMunmap(mm, r.newAddr, r.newLen);
    if (err < 0) return err;
    // Unmapping the target may have split the source VMA.
    r.vma = mm.vmaLookup(r.addr);
    if (r.vma === 0) return -EFAULT;
  }
  if (r.type === REMAP_SHRINK) {
    const err = doMunmap(mm, r.addr + r.newLen, r.delta);
    if (err < 0) return err;
    r.vma = mm.vmaLookup(r.addr);
    if (r.vma === 0) return -EFAULT;
    r.oldLen = r.newLen;
  }
  const err = setNewAddr(mm, r);
  if (err < 0) return err;
  return moveVma(mm, r);
}

/** mremap_at(): resize in place, moving only if it must and may. */
function mremapAt(mm: MmStruct, r: RemapState): number {
  if (r.type === REMAP_NO_RESIZE) return r.addr;
  if (r.type === REMAP_SHRINK) {
    // shrink_vma(vrm, drop_lock = true): the shrink is the whole call, the lock may go.
    const err = doMunmap(mm, r.addr + r.newLen, r.delta, true);
    return err < 0 ? err : r.addr;
  }
  // expand_vma(): in place if [addr, old_len) ends the VMA and the pages after it are free.
  const v = mm.vmas;
  if (v.end(r.vma) - r.addr === r.oldLen && vmaExpandable(mm, r.vma, r.delta)) {
    const vma = vmaMergeExtend(mm, r.vma, r.delta);
    if (vma === 0) return -ENOMEM;
    return r.addr;
  }
  if (!(r.flags & MREMAP_MAYMOVE)) return -ENOMEM;
  const err = setNewAddr(mm, r);
  if (err < 0) return err;
  return moveVma(mm, r);
}

/** vma_expandable(): nothing in [end, end + delta) and still below TASK_SIZE. */
function vmaExpandable(mm: MmStruct, vma: number, delta: number): boolean {
  const v = mm.vmas;
  const end = v.end(vma) + delta;
  const next = mm.findVma(v.end(vma));
  if (next !== 0 && v.start(next) < end) return false;
  // get_unmapped_area(NULL, vm_start, end - vm_start, 0, MAP_FIXED) refuses past TASK_SIZE.
  return end - v.start(vma) <= TASK_SIZE && v.start(vma) <= TASK_SIZE - (end - v.start(vma));
}

/** vma_merge_extend(): grow `vma` by delta, merging with the next VMA if it now touches it. */
function vmaMergeExtend(mm: MmStruct, vma: number, delta: number): number {
  const v = mm.vmas;
  const end = v.end(vma);
  const g = vmg.initFromVma(mm, vma, vma, end, end + delta);
  g.next = mm.findVma(end);
  g.middle = 0;
  return vmaMergeNewRange(g);
}

/** Which allocator get_unmapped_area() uses for this VMA's backing object. */
function areaKind(mm: MmStruct, vma: number): AreaKind {
  const file = mm.vmas.file(vma);
  if (file === 0) return AREA_ANON;
  return mm.files.isShmem(file) ? AREA_SHMEM : AREA_REGULAR_FILE;
}

/** vrm_set_new_addr(): choose the destination (MAP_FIXED for MREMAP_FIXED, else a hint or 0). */
function setNewAddr(mm: MmStruct, r: RemapState): number {
  const v = mm.vmas;
  const vma = r.vma;
  const pgoff = v.pgoff(vma) + (r.addr - v.start(vma)) / PAGE_SIZE;
  const hint = impliesNewAddr(r) ? r.newAddr : 0;
  let mapFlags = 0;
  if (r.flags & MREMAP_FIXED) mapFlags |= MAP_FIXED;
  if (v.flags(vma) & VM_MAYSHARE) mapFlags |= MAP_SHARED;
  const res = getUnmappedArea(mm, areaKind(mm, vma), hint, r.newLen, pgoff, mapFlags);
  if (res < 0) return res;
  r.newAddr = res;
  return 0;
}

/**
 * can_realign_addr() for the PMD level: the move starts at the same offset into a 2 MiB region
 * on both sides (not at its start), reaches the next boundary, and each side's VMA starts there
 * with nothing mapped below it down to the boundary; the tables then move from the boundary.
 */
function canRealign(
  mm: MmStruct,
  vma: number,
  addr: number,
  newVma: number,
  newAddr: number,
  len: number,
): boolean {
  const align = addr % PMD_SIZE;
  if (align === 0 || align !== newAddr % PMD_SIZE || len < PMD_SIZE - align) return false;
  return (
    canAlignDown(mm, vma, addr - align, addr) && canAlignDown(mm, newVma, newAddr - align, newAddr)
  );
}

/** can_align_down(): `vma` starts at `addr` and no VMA lies in [masked, addr). */
function canAlignDown(mm: MmStruct, vma: number, masked: number, addr: number): boolean {
  if (mm.vmas.start(vma) !== addr) return false;
  const below = mm.findVma(masked);
  return below === 0 || mm.vmas.start(below) >= addr;
}

/** move_vma(): copy the VMA to r.newAddr, then unmap the source (unless DONTUNMAP). */
function moveVma(mm: MmStruct, r: RemapState): number {
  const v = mm.vmas;
  let vma = r.vma;
  // prep_move_vma(): room for a copy that does not merge plus a split source.
  if (mm.mapCount + 2 > mm.maxMapCount) return -ENOMEM;
  if (!canMergeRemoveVma(mm, vma)) {
    // special_mapping_split(): a special mapping moves only as a whole.
    if (v.start(vma) !== r.addr || v.end(vma) !== r.addr + r.oldLen) return -EINVAL;
  }
  vmaStartWrite(mm, vma);
  const vmaStart = v.start(vma);
  const newPgoff = v.pgoff(vma) + (r.addr - vmaStart) / PAGE_SIZE;
  const newVma = copyVma(mm, vma, r.newAddr, r.newLen, newPgoff);
  if (newVma === 0) return -ENOMEM;
  // move_page_tables(): the pages go with the mapping.
  pagesMove(
    mm,
    r.addr,
    r.oldLen,
    r.newAddr,
    canRealign(mm, vma, r.addr, newVma, r.newAddr, r.oldLen),
  );
  // The source may have been merged into the copy (never-faulted anonymous memory).
  if (vmaStart >= v.start(newVma) && vmaStart < v.end(newVma)) vma = newVma;
  // total_vm now counts the copy and the source: the unmap below would raise hiwater_vm to that
  // passing sum, so move_vma() puts the high-water mark back afterwards.
  const hiwaterVm = mm.hiwaterVm;
  if (r.flags & MREMAP_DONTUNMAP) {
    // dontunmap_complete(): the old VMA can no longer be mlock()ed, and if it was moved whole
    // its anon_vma links are dropped (its pages went to the copy).
    let f = v.flags(vma);
    if (f & VM_LOCKED_MASK) f &= ~VM_LOCKED_MASK;
    if (newVma !== vma && r.addr === v.start(vma) && r.addr + r.oldLen === v.end(vma)) {
      f &= ~ANON_VMA_BITS;
    }
    if (f !== v.flags(vma)) {
      vmaStartWrite(mm, vma);
      v.setFlags(vma, f);
    }
  } else {
    // unmap_source_vma(): VM_ACCOUNT is cleared around the unmap only to keep the commit
    // accounting right; the remaining parts get it back, so the flags end up unchanged. A
    // failing unmap (old_len 0: duplicating a shared mapping) leaves the source in place.
    doMunmap(mm, r.addr, r.oldLen);
  }
  mm.hiwaterVm = hiwaterVm;
  return r.newAddr;
}

/**
 * copy_vma(): a VMA for [addr, addr + len) with `vma`'s attributes and `pgoff`, merged into a
 * neighbour when possible. Returns its id, or 0 (-> ENOMEM).
 */
function copyVma(mm: MmStruct, vma: number, addr: number, len: number, pgoffIn: number): number {
  const v = mm.vmas;
  let pgoff = pgoffIn;
  // A never-faulted anonymous VMA takes the new location's pgoff, to merge there.
  if (vmaIsAnonymous(mm, vma) && !hasAnonVma(mm, vma)) pgoff = addr / PAGE_SIZE;
  const end = addr + len;
  const next = mm.findVma(addr);
  if (next !== 0 && v.start(next) < end) return 0;
  const g = vmg.initFromVma(mm, 0, vma, addr, end);
  g.prev = mm.findVmaPrev(addr);
  g.pgoff = pgoff;
  g.next = next;
  const merged = vmaMergeCopiedRange(g);
  if (merged !== 0) return merged;
  const nu = mm.dupVma(vma);
  if (nu === 0) return 0;
  v.setRange(nu, addr, end, pgoff);
  // vma_link(): write-locked before it is stored.
  vmaStartWrite(mm, nu);
  vmaMarkAttached(mm, nu);
  try {
    indexStore(mm, addr, end, nu);
  } catch (e) {
    if (!(e instanceof IndexFullError)) throw e;
    mm.discardVma(nu);
    return 0;
  }
  mm.mapCount = mm.mapCount + 1;
  return nu;
}
