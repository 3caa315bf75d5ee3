/**
 * Transparent huge pages for anonymous memory, as Linux 6.18 decides them on x86-64 with 4 KiB
 * pages and one THP size, the PMD (2 MiB; every other mTHP size `never`, 2048kB `inherit`, as on
 * the reference host): mm/huge_memory.c __thp_vma_allowable_orders(), include/linux/huge_mm.h
 * thp_vma_allowable_orders() and thp_vma_suitable_order(), mm/memory.c __handle_mm_fault().
 *
 * The mode is the machine's `/sys/kernel/mm/transparent_hugepage/enabled` (a capability of the mm,
 * `MmStruct.thpMode`): `always` — every anonymous VMA without VM_NOHUGEPAGE; `madvise` — only VMAs
 * with VM_HUGEPAGE (madvise(MADV_HUGEPAGE)); `never` — none.
 *
 * Only private anonymous VMAs (vma_is_anonymous: no file, no special-mapping ops) get huge pages:
 * shmem runs with shmem_enabled `never` (host setting), regular files without
 * CONFIG_READ_ONLY_THP_FOR_FS and without a ->huge_fault op (ext4 without DAX) are never eligible.
 */
import type { MmStruct } from '../mm-struct.js';
import { VM_HUGEPAGE, VM_NOHUGEPAGE } from '../vm-flags.js';
import { hasPteTable } from './table-regions.js';

/** Pages in a PMD-mapped huge page (HPAGE_PMD_NR). */
export const HPAGE_PMD_NR = 512;
const HPAGE_PMD_SIZE = HPAGE_PMD_NR * 4096;

export const THP_MODES = ['always', 'madvise', 'never'] as const;
export type ThpMode = (typeof THP_MODES)[number];

/** thp_vma_allowable_orders()'s sysfs and VM_(NO)HUGEPAGE part for the PMD order. */
function modeAllows(mode: ThpMode, flags: number): boolean {
  if (flags & VM_NOHUGEPAGE) return false; // vma_thp_disabled()
  if (mode === 'always') return true;
  return mode === 'madvise' && (flags & VM_HUGEPAGE) !== 0;
}

/**
 * smaps' THPeligible: thp_vma_allowable_orders(vma, TVA_SMAPS): an anonymous VMA the mode allows
 * that holds a whole 2 MiB-aligned block (the suitable-order check at vm_end - HPAGE_PMD_SIZE).
 * The protection does not matter (a PROT_NONE VMA with VM_HUGEPAGE shows 1).
 */
export function thpEligible(
  mode: ThpMode,
  flags: number,
  start: number,
  end: number,
  anonymous: boolean,
): boolean {
  if (!anonymous || !modeAllows(mode, flags)) return false;
  const haddr = Math.floor((end - HPAGE_PMD_SIZE) / HPAGE_PMD_SIZE) * HPAGE_PMD_SIZE;
  return haddr >= start && haddr + HPAGE_PMD_SIZE <= end;
}

/**
 * The first page of the 2 MiB block a fault on page `vp` of VMA `id` maps with one PMD, or -1:
 * __handle_mm_fault()'s pmd_none() and thp_vma_allowable_order(TVA_PAGEFAULT), then
 * do_huge_pmd_anonymous_page()'s thp_vma_suitable_order() (the block lies inside the VMA).
 * `head`: the mm's page-table head, 0 when it has none (page lock held by the caller). pmd_none
 * is "no PTE table in the region" (table-regions.ts): a table kept after the block's pages were
 * zapped (MADV_DONTNEED of part of it, an mremap that moved its pages) keeps faults there small.
 */
export function hugeFaultBlock(mm: MmStruct, id: number, vp: number, head: number): number {
  const v = mm.vmas;
  if (v.file(id) !== 0 || v.ops(id) !== 0) return -1;
  if (!modeAllows(mm.thpMode, v.flags(id))) return -1;
  const block = vp - (vp % HPAGE_PMD_NR);
  if (block * 4096 < v.start(id) || (block + HPAGE_PMD_NR) * 4096 > v.end(id)) return -1;
  if (head !== 0 && hasPteTable(mm.pages, head, vp)) return -1;
  return block;
}
