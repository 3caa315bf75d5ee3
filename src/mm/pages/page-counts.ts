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
import { VM_LOCKED } from '../vm-flags.js';
import { forEachObjectPage, OBJ_DIRTY, OBJ_REFERENCED } from './page-objects.js';
import { type PagePool, R_BITS, R_NEXT, R_OBJ } from './page-pool.js';
import {
  PTE_ACCESSED,
  PTE_ANON,
  PTE_DIRTY,
  PTE_HUGE,
  PTE_SHMEM,
  PTE_YOUNG,
  PTE_ZERO,
  runsWord,
  tableHead,
} from './page-table.js';
import { firstRunFrom } from './run-list.js';
import { pageTableBytes } from './table-regions.js';

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
  /** PMD-mapped anonymous THPs (AnonHugePages; a split PMD's pages no longer count). */
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
  const v = mm.vmas;
  const lo = Math.max(v.start(id), from) / PAGE;
  const hi = v.end(id) / PAGE;
  if (lo >= hi) return;
  const vmLocked = (v.flags(id) & VM_LOCKED) !== 0;
  const pool = mm.pages;
  pool.lock();
  try {
    const head = tableHead(mm, false);
    if (head === 0) return;
    const w = runsWord(pool, head);
    for (let r = firstRunFrom(pool, w, lo); r !== 0; r = pool.next(r)) {
      const k = pool.key(r);
      if (k >= hi) break;
      const a = Math.max(k, lo);
      const b = Math.min(k + pool.count(r), hi);
      if (a >= b) continue;
      accountRun(pool, r, a, b - a, vmLocked, acc);
    }
  } finally {
    pool.unlock();
  }
}

const PAGE = 4096;
const PAGE_PSS = PAGE * 2 ** PSS_SHIFT;

/** smaps_account() for pages [vp, vp + n) of run r. */
function accountRun(
  pool: PagePool,
  r: number,
  vp: number,
  n: number,
  vmLocked: boolean,
  acc: PageCounts,
): void {
  const bits = pool.bits(r);
  if (bits & PTE_ZERO) return; // vm_normal_page() is NULL for the zero page
  const size = n * PAGE;
  acc.resident += size;
  const young = (bits & (PTE_YOUNG | PTE_ACCESSED)) !== 0;
  if (young) acc.referenced += size;
  if (bits & PTE_ANON) acc.anonymous += size;
  if (bits & PTE_HUGE) acc.anonHugePages += size; // smaps_pmd_entry(): only anonymous THPs here
  const obj = pool.obj(r);
  if (obj === 0) {
    accumulate(acc, bits, size, n * PAGE_PSS, (bits & PTE_DIRTY) !== 0, vmLocked, true);
    return;
  }
  const opage = pool.opage(r) + (vp - pool.key(r));
  forEachObjectPage(pool, obj, opage, n, (_first, count, mapcount, flags) => {
    const m = Math.max(mapcount, 1);
    const perPage = m >= 2 ? Math.floor(PAGE_PSS / m) : PAGE_PSS;
    const dirty = (bits & PTE_DIRTY) !== 0 || (flags & OBJ_DIRTY) !== 0;
    if (!young && flags & OBJ_REFERENCED) acc.referenced += count * PAGE;
    accumulate(acc, bits, count * PAGE, count * perPage, dirty, vmLocked, m < 2);
  });
}

/** smaps_page_accumulate(). */
function accumulate(
  acc: PageCounts,
  bits: number,
  size: number,
  pss: number,
  dirty: boolean,
  vmLocked: boolean,
  exclusive: boolean,
): void {
  acc.pss += pss;
  if (bits & PTE_ANON) acc.pssAnon += pss;
  else if (bits & PTE_SHMEM) acc.pssShmem += pss;
  else acc.pssFile += pss;
  if (vmLocked) acc.pssLocked += pss;
  if (dirty) {
    acc.pssDirty += pss;
    if (exclusive) acc.privateDirty += size;
    else acc.sharedDirty += size;
  } else if (exclusive) acc.privateClean += size;
  else acc.sharedClean += size;
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
  /**
   * VmPTE: page-table bytes (mm_pgtables_bytes): the PTE, PMD and PUD tables the mm has
   * (table-regions.ts), 4 KiB each.
   */
  pageTableBytes: number;
}

/** The counters of `mm` (taken under the page lock; status reads them racily in Linux). */
export function mmRss(mm: MmStruct): MmRss {
  const pool = mm.pages;
  pool.lock();
  try {
    const head = tableHead(mm, false);
    if (head === 0) return { anon: 0, file: 0, shmem: 0, hiwaterRss: 0, pageTableBytes: 0 };
    const w = pool.w(head);
    return {
      anon: pool.i32[w + R_BITS] * PAGE,
      file: pool.i32[w + R_OBJ] * PAGE,
      shmem: pool.i32[w + R_NEXT] * PAGE,
      hiwaterRss: pool.key(head) * PAGE,
      pageTableBytes: pageTableBytes(pool, head),
    };
  } finally {
    pool.unlock();
  }
}
