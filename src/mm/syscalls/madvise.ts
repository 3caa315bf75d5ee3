/**
 * madvise(2), Linux 6.18 (mm/madvise.c: madvise_should_skip(), madvise_walk_vmas(),
 * madvise_vma_behavior(), madvise_update_vma(), madvise_dontneed_free(); mm/huge_memory.c
 * hugepage_madvise()), for the advice values the engine models:
 *
 *   MADV_HUGEPAGE     the VMA gets VM_HUGEPAGE (VmFlags `hg`) and loses VM_NOHUGEPAGE
 *   MADV_NOHUGEPAGE   the VMA gets VM_NOHUGEPAGE (`nh`) and loses VM_HUGEPAGE
 *   MADV_DONTNEED     the pages of the range are zapped (Rss drops; private anonymous memory
 *                     reads back as zeroes); a VM_LOCKED or VM_PFNMAP VMA: EINVAL
 *   MADV_DONTFORK     the VMA gets VM_DONTCOPY (`dc`): a fork child does not get it
 *   MADV_DOFORK       the VMA loses VM_DONTCOPY; a VM_IO VMA: EINVAL
 *
 * Order of checks: an advice value the engine does not model (Linux knows more: MADV_NORMAL,
 * MADV_FREE, ...) is EINVAL like an unknown one, before the range; then the range
 * (madvise-walk.ts: unaligned start, wrapping length or end: EINVAL; length 0: 0); then the walk:
 * no VMA at or after the start ENOMEM, a hole in the range ENOMEM after every VMA in it was
 * advised, the first per-VMA error stops the walk (the VMAs before it keep their change). A flag
 * change splits the VMA at the range's edges and merges it with neighbours that now have equal
 * flags, exactly as mprotect does (vma_modify_flags); a split refused at max_map_count is ENOMEM
 * reported as EAGAIN. A split inside a PMD-mapped huge page splits that page's PMD (the pages
 * stay, PTE-mapped: vma-split.ts).
 *
 * The caller holds the mmap write lock (the kernel takes it for the flag changes and only the
 * per-VMA read lock for MADV_DONTNEED; the engine's stronger lock gives the same result).
 */
import { EAGAIN, EINVAL, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { pagesZap } from '../pages/page-hooks.js';
import {
  VM_DONTCOPY,
  VM_HUGEPAGE,
  VM_IO,
  VM_LOCKED,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
} from '../vm-flags.js';
import { ANON_VMA_BITS } from './anon-vma.js';
import { madviseRangeEnd, madviseWalkVmas } from './madvise-walk.js';
import { vmaStartWrite } from './vma-lock-hooks.js';
import { vmaModifyFlags } from './vma-modify.js';

export const MADV_DONTNEED = 4;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;

/** The advice values the engine models, by the name the API uses. */
export const MADVISE_ADVICE = {
  dontneed: MADV_DONTNEED,
  hugepage: MADV_HUGEPAGE,
  nohugepage: MADV_NOHUGEPAGE,
  dontfork: MADV_DONTFORK,
  dofork: MADV_DOFORK,
} as const;

const MODELLED: ReadonlySet<number> = new Set(Object.values(MADVISE_ADVICE));

/** madvise(addr, len, advice): 0 or -errno. */
export function madvise(mm: MmStruct, start: number, lenIn: number, advice: number): number {
  if (!MODELLED.has(advice)) return -EINVAL;
  const end = madviseRangeEnd(start, lenIn);
  if (end <= start) return Math.min(end, 0);
  if (advice === MADV_DONTNEED) {
    return madviseWalkVmas(mm, start, end, (_prev, vma, s, e) => dontneed(mm, vma, s, e));
  }
  return madviseWalkVmas(mm, start, end, (prev, vma, s, e) => {
    const res = flagAdvise(mm, prev, vma, s, e, advice);
    return res === -ENOMEM ? -EAGAIN : res;
  });
}

/**
 * madvise_dontneed_free() for MADV_DONTNEED: zap_page_range_single() over [start, end), which
 * frees the PTE tables of the 2 MiB regions it empties whole (CONFIG_PT_RECLAIM).
 */
function dontneed(mm: MmStruct, vma: number, start: number, end: number): number {
  if (mm.vmas.flags(vma) & (VM_LOCKED | VM_PFNMAP)) return -EINVAL;
  pagesZap(mm, start, end, true);
  return vma;
}

/** madvise_vma_behavior()'s new flags for a flag advice, or -EINVAL. */
function advisedFlags(old: number, advice: number): number {
  switch (advice) {
    case MADV_HUGEPAGE: // hugepage_madvise()
      return ((old & ~VM_NOHUGEPAGE) | VM_HUGEPAGE) >>> 0;
    case MADV_NOHUGEPAGE:
      return ((old & ~VM_HUGEPAGE) | VM_NOHUGEPAGE) >>> 0;
    case MADV_DONTFORK:
      return (old | VM_DONTCOPY) >>> 0;
    default: // MADV_DOFORK
      return old & VM_IO ? -EINVAL : (old & ~VM_DONTCOPY) >>> 0;
  }
}

/** A flag advice + madvise_update_vma(): the VMA now covering [start, end), or -errno. */
function flagAdvise(
  mm: MmStruct,
  prev: number,
  vma: number,
  start: number,
  end: number,
  advice: number,
): number {
  const old = mm.vmas.flags(vma);
  const newFlags = advisedFlags(old, advice);
  if (newFlags < 0 || newFlags === old) return newFlags < 0 ? newFlags : vma;
  const res = vmaModifyFlags(mm, prev, vma, start, end, newFlags);
  if (res < 0) return res;
  vmaStartWrite(mm, res);
  // The anon_vma is not a flag in Linux: keep what the (possibly merged) VMA has.
  mm.vmas.setFlags(res, ((newFlags & ~ANON_VMA_BITS) | (mm.vmas.flags(res) & ANON_VMA_BITS)) >>> 0);
  return res;
}
