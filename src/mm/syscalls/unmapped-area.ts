/**
 * get_unmapped_area(): where a new mapping goes.
 *
 * Mirrors (Linux 6.18, x86-64):
 *   mm/mmap.c            __get_unmapped_area()
 *   arch/x86/kernel/sys_x86_64.c  arch_get_unmapped_area_topdown(), arch_get_unmapped_area()
 *   mm/vma.c             unmapped_area_topdown(), unmapped_area()
 *   mm/huge_memory.c     __thp_get_unmapped_area() (anonymous PMD-multiple lengths, regular files)
 *   mm/shmem.c           shmem_get_unmapped_area() (shared anonymous memory: plain placement
 *                        with the host's shmem_enabled=never)
 *
 * Order of checks in __get_unmapped_area():
 *   1. len > TASK_SIZE                                  -> ENOMEM
 *   2. the allocator: the file's (shmem / THP-aligning), else the THP rule for anonymous
 *      private mappings without hint whose length is a PMD multiple, else the mm's top-down one
 *      (which returns MAP_FIXED addresses unchecked, tries the hint, searches top-down below
 *      mmap_base, and falls back to bottom-up from TASK_UNMAPPED_BASE)
 *   3. addr > TASK_SIZE - len                           -> ENOMEM
 *   4. addr not page aligned                            -> EINVAL
 *   5. security_mmap_addr: addr < mmap_min_addr without CAP_SYS_RAWIO -> EPERM
 *
 * The searches walk the VMA list through the index (O(log n) per step). The kernel's maple
 * tree finds the gap in O(log n) using per-node gap sizes; this walk visits every VMA between
 * mmap_base and the gap it finds, once: index-ops.ts remembers how far down nothing fits, so
 * repeated top-down mappings resume there until something above is unmapped.
 */
import { EINVAL, ENOMEM, EPERM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import {
  isPageAligned,
  MAP_32BIT,
  MAP_ABOVE4G,
  MAP_FIXED,
  MAP_SHARED,
  PAGE_SIZE,
  pageAlign,
  pageAlignDown,
  TASK_SIZE,
  VM_GROWSDOWN,
} from '../vm-flags.js';
import { recordTopdownFloor, topdownSearchStart } from './index-ops.js';
import {
  CAPABLE,
  MMAP_MIN_ADDR,
  PMD_SIZE,
  STACK_GUARD_GAP,
  TASK_UNMAPPED_BASE,
  THP_ENABLED,
} from './tunables.js';

/** Which allocator a mapping's backing object brings (file->f_op->get_unmapped_area). */
export const AREA_ANON = 0;
/** shmem: shared anonymous memory, memfd, tmpfs files. */
export const AREA_SHMEM = 1;
/** A regular file on a THP-aligning filesystem (ext4, xfs: thp_get_unmapped_area). */
export const AREA_REGULAR_FILE = 2;
export type AreaKind = typeof AREA_ANON | typeof AREA_SHMEM | typeof AREA_REGULAR_FILE;

const SIZE_4G = 0x1_0000_0000;
/** x86 MAP_32BIT window (find_start_end); the kernel randomises the base within 32 MiB. */
const MAP_32BIT_BEGIN = 0x40000000;
const MAP_32BIT_END = 0x80000000;

/**
 * The free gap the last successful top-down search on this thread found (one per thread): nothing
 * is mapped in [lo, hi), `prev` is the VMA below it and `next` the VMA above (0: none), as of
 * index root `root`. mmap_region() takes the neighbours of a new mapping inside that gap from
 * here instead of looking them up again; doMmap() clears it before its search, and the root
 * check refuses a record from before any later index change.
 */
export class FoundGap {
  valid = false;
  root = 0;
  lo = 0;
  hi = 0;
  prev = 0;
  next = 0;

  /** The neighbours recorded are those of [start, end) in `mm` now. */
  holds(mm: MmStruct, start: number, end: number): boolean {
    return this.valid && this.lo <= start && end <= this.hi && this.root === mm.index.writerRoot();
  }
}

export const foundGap = new FoundGap();

/** vm_start_gap(): a VM_GROWSDOWN VMA claims stack_guard_gap below its start. */
export function vmStartGap(mm: MmStruct, id: number): number {
  const start = mm.vmas.start(id);
  if ((mm.vmas.flags(id) & VM_GROWSDOWN) === 0) return start;
  return start > STACK_GUARD_GAP ? start - STACK_GUARD_GAP : 0;
}

/**
 * unmapped_area_topdown(): the highest address `a` with [a, a + length) in a gap inside
 * [lowLimit, highLimit), honouring the guard gap below VM_GROWSDOWN VMAs. -ENOMEM if none.
 */
export function unmappedAreaTopdown(
  mm: MmStruct,
  length: number,
  lowLimit: number,
  highLimit: number,
): number {
  const low = Math.max(lowLimit, MMAP_MIN_ADDR);
  let high = highLimit;
  let retried = false;
  for (;;) {
    // vma_iter_area_highest(low, high, length): highest gap [gs, ge) clipped to [low, high).
    if (high <= low || high - low < length) return -ENOMEM;
    // Resume below what an earlier search proved too small (index-ops.ts), if anything.
    let top = retried ? high : topdownSearchStart(mm, length, high);
    let prev = mm.findVmaPrev(top);
    let gapEnd = -1;
    for (;;) {
      const gs = prev === 0 ? 0 : mm.vmas.end(prev);
      const from = Math.max(gs, low);
      if (top > from && top - from >= length) {
        gapEnd = top;
        break;
      }
      if (prev === 0) return -ENOMEM;
      top = mm.vmas.start(prev);
      if (top <= low || top - low < length) return -ENOMEM;
      prev = mm.findVmaPrev(top);
    }
    // The VMA above the gap may be a stack that claims a guard gap below itself. (The kernel
    // also checks vm_end_gap() of the VMA below; on x86 that is vm_end, never inside the gap.)
    const next = mm.findVma(gapEnd);
    if (next !== 0 && (mm.vmas.flags(next) & VM_GROWSDOWN) !== 0) {
      const sg = vmStartGap(mm, next);
      if (sg < gapEnd) {
        high = sg;
        retried = true;
        continue;
      }
    }
    if (!retried) recordTopdownFloor(mm, length, highLimit, gapEnd);
    const g = foundGap;
    g.valid = true;
    g.root = mm.index.writerRoot();
    g.lo = prev === 0 ? 0 : mm.vmas.end(prev);
    g.hi = next === 0 ? Number.POSITIVE_INFINITY : mm.vmas.start(next);
    g.prev = prev;
    g.next = next;
    return gapEnd - length;
  }
}

/**
 * unmapped_area(): the lowest address with [a, a + length) in a gap inside [lowLimit,
 * highLimit), honouring guard gaps. -ENOMEM if none.
 */
export function unmappedArea(
  mm: MmStruct,
  length: number,
  lowLimit: number,
  highLimit: number,
): number {
  let low = Math.max(lowLimit, MMAP_MIN_ADDR);
  const high = highLimit;
  for (;;) {
    if (high <= low || high - low < length) return -ENOMEM;
    // vma_iter_area_lowest(low, high, length): lowest gap clipped to [low, high).
    let bottom = low;
    let next = mm.findVma(bottom);
    let gapStart = -1;
    for (;;) {
      const ge = next === 0 ? high : Math.min(mm.vmas.start(next), high);
      if (ge > bottom && ge - bottom >= length) {
        gapStart = bottom;
        break;
      }
      if (next === 0) return -ENOMEM;
      bottom = mm.vmas.end(next);
      if (bottom >= high || high - bottom < length) return -ENOMEM;
      next = mm.findVma(bottom);
    }
    // A stack above the gap claims a guard gap below itself (vm_end_gap() of the VMA below is
    // vm_end on x86, never inside the gap).
    if (next !== 0 && (mm.vmas.flags(next) & VM_GROWSDOWN) !== 0) {
      if (vmStartGap(mm, next) < gapStart + length - 1) {
        low = mm.vmas.end(next);
        continue;
      }
    }
    return gapStart;
  }
}

/** The hint check shared by both x86 allocators: nothing (or only guard gap) in the way. */
function hintFits(mm: MmStruct, addr: number, len: number): boolean {
  const vma = mm.findVma(addr);
  return vma === 0 || addr + len <= vmStartGap(mm, vma);
}

/** arch_get_unmapped_area() (x86, bottom-up; the top-down allocator's fallback). */
function archGetUnmappedArea(mm: MmStruct, addr: number, len: number, flags: number): number {
  if (flags & MAP_FIXED) return addr;
  let begin = TASK_UNMAPPED_BASE;
  let end = TASK_SIZE;
  if (flags & MAP_32BIT) {
    begin = MAP_32BIT_BEGIN;
    end = MAP_32BIT_END;
  }
  if (len > end) return -ENOMEM;
  if (addr !== 0) {
    const a = pageAlign(addr);
    if (end - len >= a && hintFits(mm, a, len)) return a;
  }
  return unmappedArea(mm, len, begin, end);
}

/** arch_get_unmapped_area_topdown() (x86), the allocator of every ordinary process. */
export function archGetUnmappedAreaTopdown(
  mm: MmStruct,
  addr0: number,
  len: number,
  flags: number,
): number {
  if (len > TASK_SIZE) return -ENOMEM;
  if (flags & MAP_FIXED) return addr0;
  if (flags & MAP_32BIT) return archGetUnmappedArea(mm, addr0, len, flags);
  if (addr0 !== 0) {
    const addr = pageAlignDown(addr0);
    // mmap_address_hint_valid(): with 4-level paging, just "fits below TASK_SIZE".
    if (TASK_SIZE - len >= addr && hintFits(mm, addr, len)) return addr;
  }
  const low = flags & MAP_ABOVE4G ? SIZE_4G : PAGE_SIZE;
  const found = unmappedAreaTopdown(mm, len, low, mm.mmapBase);
  if (found >= 0) return found;
  return archGetUnmappedArea(mm, addr0, len, flags);
}

/**
 * __thp_get_unmapped_area(): search with the length padded by one PMD and place the mapping on
 * a PMD boundary congruent with the file offset; 0 when the rule does not apply or the padded
 * search fails (the caller then searches without padding).
 */
function thpGetUnmappedArea(
  mm: MmStruct,
  addr: number,
  len: number,
  off: number,
  flags: number,
): number {
  const offEnd = off + len;
  const offAlign = Math.ceil(off / PMD_SIZE) * PMD_SIZE;
  if (offEnd <= offAlign || offEnd - offAlign < PMD_SIZE) return 0;
  const lenPad = len + PMD_SIZE;
  const ret = archGetUnmappedAreaTopdown(mm, addr, lenPad, flags);
  if (ret < 0) return 0;
  // Do not try to align to THP boundary if allocation at the address hint succeeds.
  if (ret === addr) return addr;
  const offSub = (((off - ret) % PMD_SIZE) + PMD_SIZE) % PMD_SIZE;
  // Top-down: an already aligned start is moved up by one PMD, to the top of the padded area.
  if (offSub === 0) return ret + PMD_SIZE;
  return ret + offSub;
}

/**
 * __get_unmapped_area(file, addr, len, pgoff, flags): the start address for a new mapping of
 * `len` bytes (page aligned, > 0), or -errno. `kind` says which allocator the backing object
 * brings; `pgoff` is in pages (ignored for anonymous memory).
 */
export function getUnmappedArea(
  mm: MmStruct,
  kind: AreaKind,
  addr: number,
  len: number,
  pgoff: number,
  flags: number,
): number {
  if (len > TASK_SIZE) return -ENOMEM;
  let res: number;
  if (kind === AREA_REGULAR_FILE && THP_ENABLED) {
    // thp_get_unmapped_area(): padded search first, plain search if that gives nothing.
    res = thpGetUnmappedArea(mm, addr, len, pgoff * PAGE_SIZE, flags);
    if (res === 0) res = archGetUnmappedAreaTopdown(mm, addr, len, flags);
  } else if (kind === AREA_SHMEM || (kind === AREA_ANON && flags & MAP_SHARED)) {
    // shmem_get_unmapped_area(): the mm's allocator; with shmem_enabled=never no realignment.
    res = archGetUnmappedAreaTopdown(mm, addr, len, flags);
  } else if (THP_ENABLED && kind === AREA_ANON && addr === 0 && len % PMD_SIZE === 0) {
    // Larger anonymous mappings are THP aligned (pgoff treated as zero for anonymous memory).
    res = thpGetUnmappedArea(mm, 0, len, 0, flags);
    if (res === 0) res = archGetUnmappedAreaTopdown(mm, 0, len, flags);
  } else {
    res = archGetUnmappedAreaTopdown(mm, addr, len, flags);
  }
  if (res < 0) return res;
  if (res > TASK_SIZE - len) return -ENOMEM;
  if (!isPageAligned(res)) return -EINVAL;
  if (res < MMAP_MIN_ADDR && !CAPABLE) return -EPERM;
  return res;
}
