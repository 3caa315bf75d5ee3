/**
 * What smaps, smaps_rollup and status need from the page state: the seam between the page
 * tables (src/mm/pages, i12-pages) and the formatters (src/procfs/smaps*, status*).
 *
 * `PageCounts` is the kernel's `struct mem_size_stats` (fs/proc/task_mmu.c): sizes in bytes,
 * the Pss family in bytes << PSS_SHIFT, accumulated page by page as smaps_account() does (each
 * page adds `(4096 << 12) / mapcount`, truncated, when its mapcount is >= 2), so a formatter
 * prints `pss / 2**PSS_SHIFT / 1024` truncated (`Math.floor`; the values stay below 2^53).
 *
 * Callers hold the mmap read lock (smaps does: m_start); the functions take the page-table lock
 * themselves (pages/page-table-lock), as the kernel's walk takes each PTE table's lock.
 */
import type { MmStruct } from '../mm-struct.js';

/** smaps' fixed-point shift for proportional sizes (PSS_SHIFT). */
export const PSS_SHIFT = 12;

/** `struct mem_size_stats`: bytes, except the pss* and swapPss fields (bytes << PSS_SHIFT). */
export interface PageCounts {
  /** Rss. */
  resident: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  /** Pages whose PTE is young (a fork child's copies start old: 0 there until touched). */
  referenced: number;
  /** Pages of anonymous folios (private writes, private anonymous memory, COW copies). */
  anonymous: number;
  /** Always 0 (no MADV_FREE modelled). */
  lazyFree: number;
  /** PMD-mapped anonymous THPs (AnonHugePages). */
  anonHugePages: number;
  /** Always 0 (shmem THP `never` here). */
  shmemPmdMapped: number;
  /** Always 0 (no file THPs modelled). */
  filePmdMapped: number;
  /** Always 0 (no swap). */
  swap: number;
  /** Always 0 (no hugetlbfs). */
  sharedHugetlb: number;
  privateHugetlb: number;
  /** Always 0 (KSM not running). */
  ksm: number;
  /** Proportional set size, bytes << PSS_SHIFT. */
  pss: number;
  pssAnon: number;
  pssFile: number;
  pssShmem: number;
  pssDirty: number;
  /** Pss of pages in VM_LOCKED VMAs (smaps' "Locked"). */
  pssLocked: number;
  swapPss: number;
}

export function newPageCounts(): PageCounts {
  return {
    resident: 0,
    sharedClean: 0,
    sharedDirty: 0,
    privateClean: 0,
    privateDirty: 0,
    referenced: 0,
    anonymous: 0,
    lazyFree: 0,
    anonHugePages: 0,
    shmemPmdMapped: 0,
    filePmdMapped: 0,
    swap: 0,
    sharedHugetlb: 0,
    privateHugetlb: 0,
    ksm: 0,
    pss: 0,
    pssAnon: 0,
    pssFile: 0,
    pssShmem: 0,
    pssDirty: 0,
    pssLocked: 0,
    swapPss: 0,
  };
}

/** Zero every field (reuse one object per read). */
export function resetPageCounts(c: PageCounts): void {
  Object.assign(c, newPageCounts());
}

/**
 * smap_gather_stats(vma, mss, start): adds the pages mapped in VMA `id` at addresses >= `from`
 * (0 = the whole VMA; smaps_rollup passes the last end it counted when it resumes inside a VMA)
 * to `acc`. Caller: mmap read lock (or the VMA read lock).
 */
export function gatherVmaPages(mm: MmStruct, id: number, acc: PageCounts, from = 0): void {
  // Zero until the page tables land (first landing of the seam): nothing is ever mapped.
  void mm;
  void id;
  void acc;
  void from;
}

/** The mm's RSS counters (mm->rss_stat) and high-water marks, in bytes, for /proc/PID/status. */
export interface MmRss {
  /** RssAnon: MM_ANONPAGES. */
  anon: number;
  /** RssFile: MM_FILEPAGES. */
  file: number;
  /** RssShmem: MM_SHMEMPAGES. */
  shmem: number;
  /** VmHWM before the max with the current RSS (status prints max(hiwater, anon+file+shmem)). */
  hiwaterRss: number;
  /** VmPTE: page-table bytes (mm_pgtables_bytes): PTE, PMD and PUD tables the mm has. */
  pageTableBytes: number;
}

/** The counters of `mm` (racy snapshot, as status reads them). */
export function mmRss(mm: MmStruct): MmRss {
  void mm;
  return { anon: 0, file: 0, shmem: 0, hiwaterRss: 0, pageTableBytes: 0 };
}
