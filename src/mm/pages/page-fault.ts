/**
 * What the MMU and handle_mm_fault() do to the page state of one page (Linux 6.18 on x86-64,
 * 4 KiB pages, 2 MiB transparent huge pages where the mm's THP mode allows them: pages/thp.ts).
 * The caller (syscalls/touch.ts) holds the VMA read lock or the mmap read lock, has done the
 * access check and given the VMA its anon_vma when `faultNeedsAnonVma`; these functions take the
 * page lock themselves.
 *
 *   private anonymous   read: the zero page (or, without one, a new page: writable and dirty in
 *                       a writable VMA, clean in a read-only one); write: a new dirty page, or a
 *                       copy of a zero-page / fork-shared page (do_wp_page: reuse when exclusive)
 *   ... THP-eligible    a fault in a 2 MiB block inside the VMA with nothing mapped in it maps
 *                       the whole block with one PMD (do_huge_pmd_anonymous_page): a new huge
 *                       page, dirty (and writable in a writable VMA) even for a read when the
 *                       machine has no zero page; else a read maps the huge zero page. A write to
 *                       the huge zero page allocates a huge page (do_huge_zero_wp_pmd); a write
 *                       to a write-protected huge page reuses it when no fork relative maps it,
 *                       else splits the PMD and copies the one page (do_huge_pmd_wp_page)
 *   private file        read: fault-around maps the window's page-cache pages read-only; write:
 *                       an anonymous dirty copy (do_cow_fault / wp_page_copy), no fault-around
 *   shared file (ext4)  read: fault-around, read-only PTEs (page_mkwrite: write-notify); write:
 *                       writable dirty PTE, the page-cache page dirty for every mapping
 *   shared shmem        read: allocates the page in the object, fault-around over the pages the
 *                       object holds, PTEs writable (no write-notify) and clean; write: dirty
 *   past the end of the object (file size, shmem size): SIGBUS; a read maps the fault-around
 *                       window's pages inside the object first, a write nothing
 */
import { EFAULT, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { VM_SHARED, VM_WRITE } from '../vm-flags.js';
import {
  adjustObject,
  fileObject,
  forEachObjectPage,
  OBJ_DIRTY,
  OBJ_RESIDENT,
  objSize,
} from './page-objects.js';
import type { PagePool } from './page-pool.js';
import {
  mapRun,
  PTE_ACCESSED,
  PTE_ANON,
  PTE_DIRTY,
  PTE_HUGE,
  PTE_SHMEM,
  PTE_WRITE,
  PTE_YOUNG,
  PTE_ZERO,
  runsWord,
  tableHead,
  updatePages,
  zapPages,
} from './page-table.js';
import { findRun } from './run-list.js';
import { faultUpperTables } from './table-changes.js';
import { hasPteTable } from './table-regions.js';
import { HPAGE_PMD_NR, hugeFaultBlock } from './thp.js';

/** A PTE that is present but inaccessible (mprotect PROT_NONE: x86's _PAGE_PROTNONE). */
export const PTE_PROTNONE = 64;

/** fault_around_bytes (64 KiB) in pages; PTRS_PER_PTE. */
const FAULT_AROUND_PAGES = 16;
const PTRS_PER_PTE = 512;

/**
 * The MMU's check: whether this access needs no fault; if so, the PTE's young/dirty bits are set
 * as the hardware sets them. Only the PTE: the folio stays clean for the other mappings (a shmem
 * page read-faulted, then written through its writable PTE, shows Shared_Clean in a duplicate
 * mapping of it on the host; test/differential touch-file-and-shmem-pages).
 */
export function accessWithoutFault(mm: MmStruct, vp: number, write: boolean): boolean {
  const pool = mm.pages;
  pool.lock();
  try {
    const head = tableHead(mm, false);
    if (head === 0) return false;
    const r = findRun(pool, runsWord(pool, head), vp);
    if (r === 0) return false;
    const bits = pool.bits(r);
    if (bits & PTE_PROTNONE) return false;
    if (write && !(bits & PTE_WRITE)) return false;
    const want = bits | PTE_YOUNG | (write ? PTE_DIRTY : 0);
    if (want === bits) return true;
    if (bits & PTE_HUGE) {
      // The MMU sets the PMD's bits: the whole huge page.
      const block = vp - (vp % HPAGE_PMD_NR);
      updatePages(mm, head, block, block + HPAGE_PMD_NR, () => want);
    } else {
      setPageBits(mm, head, r, vp, want);
    }
    return true;
  } finally {
    pool.unlock();
  }
}

/** Give page vp of run r new bits (splitting the run around it). */
function setPageBits(mm: MmStruct, head: number, r: number, vp: number, bits: number): void {
  const pool = mm.pages;
  const obj = pool.obj(r);
  const opage = pool.opage(r) + (vp - pool.key(r));
  // Re-map the one page with its new bits: unlink without touching the mapcount.
  if (obj !== 0) adjustObject(pool, obj, opage, 1, 1, 0);
  zapPages(mm, head, vp, vp + 1);
  mapRun(mm, head, vp, 1, bits, obj, opage);
}

/** The object page of vp in VMA id. */
function objectPage(mm: MmStruct, id: number, vp: number): number {
  return mm.vmas.pgoff(id) + (vp - mm.vmas.start(id) / 4096);
}

/**
 * Whether a fault on vp needs the VMA's anon_vma (vmf_anon_prepare / anon_vma_prepare): a private
 * write, a read that allocates (no zero page), or a fault that maps a huge page (the huge zero
 * page too: do_huge_pmd_anonymous_page prepares it first).
 */
export function faultWantsAnonPage(mm: MmStruct, id: number, vp: number, write: boolean): boolean {
  const f = mm.vmas.flags(id);
  if (f & VM_SHARED) return false;
  if (write || (mm.vmas.file(id) === 0 && mm.noZeroPage)) return true;
  const pool = mm.pages;
  pool.lock();
  try {
    const head = tableHead(mm, false);
    return hugeFaultBlock(mm, id, vp, head) >= 0;
  } finally {
    pool.unlock();
  }
}

/** Whether vp lies past the end of the VMA's file or shmem object (SIGBUS). */
export function pastEndOfObject(mm: MmStruct, id: number, vp: number): boolean {
  const file = mm.vmas.file(id);
  if (file === 0) return false;
  const pool = mm.pages;
  pool.lock();
  try {
    const o = pool.fileObject(file);
    if (o === 0) return false;
    const size = objSize(pool, o);
    return size >= 0 && objectPage(mm, id, vp) >= size;
  } finally {
    pool.unlock();
  }
}

/**
 * handle_mm_fault() for page vp of VMA id (access already checked). Returns 0, -EFAULT (SIGBUS:
 * past the end of the object) or -ENOMEM (the page-state pool is full: VM_FAULT_OOM).
 */
export function handlePageFault(mm: MmStruct, id: number, vp: number, write: boolean): number {
  const pool = mm.pages;
  pool.lock();
  try {
    // A run and an object run per fault-around page, a few splits, and their index records.
    if (!pool.canFault(FAULT_AROUND_PAGES * 3 + 6)) return -ENOMEM;
    const v = mm.vmas;
    const f = v.flags(id);
    const file = v.file(id);
    const head = tableHead(mm, true);
    const r = findRun(pool, runsWord(pool, head), vp);
    if (file === 0 && !(f & VM_SHARED)) {
      const block = r === 0 ? hugeFaultBlock(mm, id, vp, head) : -1;
      if (block >= 0) hugeAnonFault(mm, head, block, write, f);
      else if (r !== 0 && pool.bits(r) & PTE_HUGE) hugeWpFault(mm, head, r, vp);
      else anonFault(mm, head, r, vp, write, f);
      return 0;
    }
    const shmem = mm.files.isShmem(file);
    const obj = fileObject(pool, file, shmem);
    const opage = objectPage(mm, id, vp);
    const size = objSize(pool, obj);
    if (size >= 0 && opage >= size) {
      // SIGBUS from ->fault; a read has run do_fault_around first, which maps the window's pages
      // inside the object (filemap_map_pages stops at i_size, not at the faulting page). The
      // PMD and PUD tables are there either way (__handle_mm_fault), the PTE table only if
      // fault-around installed it (it then maps a page, or the table was there: a page
      // implies its tables, table-regions.ts).
      const bits = readFaultBits(f, shmem);
      const pte =
        !write && faultAround(mm, head, id, vp, obj, shmem, bits, hasPteTable(pool, head, vp));
      if (!pte) faultUpperTables(pool, head, vp);
      return -EFAULT;
    }
    if (!(f & VM_SHARED)) {
      if (write) {
        if (r !== 0 && pool.bits(r) & PTE_ANON) {
          // do_wp_page on a page this mapping already copied (an anonymous folio, write-protected
          // by a fork): reused when nobody else maps it (keeping its accessed mark), else copied,
          // as in an anonymous VMA.
          anonFault(mm, head, r, vp, true, f);
          return 0;
        }
        if (r !== 0) zapPages(mm, head, vp, vp + 1);
        if (shmem && r === 0) adjustObject(pool, obj, opage, 1, 0, OBJ_RESIDENT);
        mapRun(mm, head, vp, 1, PTE_ANON | PTE_WRITE | PTE_DIRTY | PTE_YOUNG, 0, vp);
        return 0;
      }
      faultAround(mm, head, id, vp, obj, shmem, readFaultBits(f, shmem), true);
      return 0;
    }
    if (write) {
      const base = PTE_YOUNG | (shmem ? PTE_SHMEM : 0);
      // do_shared_fault / do_page_mkwrite: writable, dirty, the page dirty for every mapping.
      if (r !== 0) {
        adjustObject(pool, obj, opage, 1, 1, 0);
        zapPages(mm, head, vp, vp + 1);
      } else {
        adjustObject(pool, obj, opage, 1, 1, OBJ_DIRTY | (shmem ? OBJ_RESIDENT : 0));
      }
      adjustObject(pool, obj, opage, 1, 0, OBJ_DIRTY);
      mapRun(mm, head, vp, 1, base | PTE_WRITE | PTE_DIRTY, obj, opage);
      return 0;
    }
    faultAround(mm, head, id, vp, obj, shmem, readFaultBits(f, shmem), true);
    return 0;
  } finally {
    pool.unlock();
  }
}

/** The PTE bits a read fault of a file or shmem VMA maps its pages with. */
function readFaultBits(flags: number, shmem: boolean): number {
  const base = PTE_YOUNG | (shmem ? PTE_SHMEM : 0);
  // No write-notify on shared shmem: its PTEs are writable from the start in a writable VMA.
  return flags & VM_SHARED && shmem && flags & VM_WRITE ? base | PTE_WRITE : base;
}

function anonFault(
  mm: MmStruct,
  head: number,
  r: number,
  vp: number,
  write: boolean,
  flags: number,
): void {
  const fresh = PTE_ANON | PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
  if (r !== 0) {
    // do_wp_page: an anonymous page nobody else maps is reused (the same folio: it keeps its
    // accessed mark), anything else (zero page, a page shared with a fork relative) copied into
    // a new folio; either way the page is now exclusive and writable.
    const kept = reusedAnonPage(mm.pages, r, vp) ? mm.pages.bits(r) & PTE_ACCESSED : 0;
    zapPages(mm, head, vp, vp + 1);
    mapRun(mm, head, vp, 1, fresh | kept, 0, vp);
    return;
  }
  if (write) {
    mapRun(mm, head, vp, 1, fresh, 0, vp);
  } else if (mm.noZeroPage) {
    const rw = flags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0;
    mapRun(mm, head, vp, 1, PTE_ANON | PTE_YOUNG | rw, 0, vp);
  } else {
    mapRun(mm, head, vp, 1, PTE_ZERO | PTE_YOUNG, 0, vp);
  }
}

/** wp_can_reuse_anon_folio(): the anonymous page of run r at vp is mapped by this PTE alone. */
function reusedAnonPage(pool: PagePool, r: number, vp: number): boolean {
  if (pool.bits(r) & PTE_ZERO) return false;
  const obj = pool.obj(r);
  if (obj === 0) return true;
  let mapcount = 0;
  forEachObjectPage(pool, obj, pool.opage(r) + (vp - pool.key(r)), 1, (_a, _n, m) => {
    mapcount = m;
  });
  return mapcount === 1;
}

/** do_huge_pmd_anonymous_page(): the block mapped by one PMD. */
function hugeAnonFault(mm: MmStruct, head: number, block: number, write: boolean, flags: number) {
  if (!write && !mm.noZeroPage) {
    mapRun(mm, head, block, HPAGE_PMD_NR, PTE_ZERO | PTE_YOUNG | PTE_HUGE, 0, block);
    return;
  }
  // __do_huge_pmd_anonymous_page(): pmd_mkdirty, maybe_pmd_mkwrite.
  const w = flags & VM_WRITE ? PTE_WRITE : 0;
  mapRun(mm, head, block, HPAGE_PMD_NR, PTE_ANON | PTE_DIRTY | PTE_YOUNG | PTE_HUGE | w, 0, block);
}

/**
 * do_huge_pmd_wp_page() (a write to a write-protected PMD; the VMA is writable): the huge zero
 * page is replaced by a new huge page (do_huge_zero_wp_pmd); a huge page no fork relative maps
 * any more is reused; one still shared splits its PMD and the page is copied (the PTE fallback).
 */
function hugeWpFault(mm: MmStruct, head: number, r: number, vp: number): void {
  const pool = mm.pages;
  const block = vp - (vp % HPAGE_PMD_NR);
  const obj = pool.obj(r);
  const fresh = PTE_ANON | PTE_WRITE | PTE_DIRTY | PTE_YOUNG | PTE_HUGE;
  if (pool.bits(r) & PTE_ZERO || obj === 0 || !sharedWithRelative(mm, r, block)) {
    // Reused (the same folio keeps its accessed mark) or, for the huge zero page, a new one.
    const kept = pool.bits(r) & PTE_ZERO ? 0 : pool.bits(r) & PTE_ACCESSED;
    zapPages(mm, head, block, block + HPAGE_PMD_NR);
    mapRun(mm, head, block, HPAGE_PMD_NR, fresh | kept, 0, block);
    return;
  }
  zapPages(mm, head, vp, vp + 1); // splits the PMD first (splitHugeAt)
  mapRun(mm, head, vp, 1, fresh & ~PTE_HUGE, 0, vp);
}

/** Whether a page of the huge page at `block` (run r, with an object) has mapcount > 1. */
function sharedWithRelative(mm: MmStruct, r: number, block: number): boolean {
  let shared = false;
  const opage = mm.pages.opage(r) + (block - mm.pages.key(r));
  forEachObjectPage(mm.pages, mm.pages.obj(r), opage, HPAGE_PMD_NR, (_a, _n, mapcount) => {
    if (mapcount > 1) shared = true;
  });
  return shared;
}

/**
 * do_read_fault -> do_fault_around: maps, in one fault, the pages of the 16-page window the
 * object holds (a regular file: all of them, up to its size; shmem: the resident ones) that have
 * no PTE yet; the window is aligned down to 16 pages of the address but starts no lower than the
 * VMA and the page table, and stops at the VMA end and the page-table end. The faulting page
 * itself is then mapped (shmem allocates it).
 *
 * `hasTable`: the region has a PTE table (pmd_none is false). Without one, filemap_map_pages
 * installs the table only when the first page it finds is not a regular file's last page (it
 * maps across i_size with no PMD, and skips the PMD step, table included, for the last folio):
 * then nothing is mapped. That shows only for a read past the end of the file, whose window
 * holds the last page alone; for any other read ->fault maps the page anyway. Returns whether
 * the region has a PTE table afterwards (a page was found in the window, or it had one).
 */
function faultAround(
  mm: MmStruct,
  head: number,
  id: number,
  vp: number,
  obj: number,
  shmem: boolean,
  bits: number,
  hasTable: boolean,
): boolean {
  const pool = mm.pages;
  const v = mm.vmas;
  const vmaFirst = v.start(id) / 4096;
  const vmaPages = v.end(id) / 4096 - vmaFirst;
  const pteOff = vp % PTRS_PER_PTE;
  const vmaOff = vp - vmaFirst;
  const from = Math.max(pteOff - (pteOff % FAULT_AROUND_PAGES), pteOff - Math.min(pteOff, vmaOff));
  const to = Math.min(from + FAULT_AROUND_PAGES, PTRS_PER_PTE, pteOff + (vmaPages - vmaOff));
  const size = objSize(pool, obj);
  const w = runsWord(pool, head);
  const first = vp - pteOff;
  const found = firstFoundPage(mm, id, obj, shmem, vp, first + from, first + to, size);
  if (found < 0) return hasTable;
  if (!hasTable && !shmem && objectPage(mm, id, found) === size - 1) return false;
  // Each stretch of pages to map is mapped at once (one object update, one run): the same
  // state as page by page, since mapping one page changes nothing the others are checked for.
  let stretch = first + from;
  const flush = (end: number) => {
    if (end > stretch) {
      const opage = objectPage(mm, id, stretch);
      adjustObject(pool, obj, opage, end - stretch, 1, shmem ? OBJ_RESIDENT : 0);
      mapRun(mm, head, stretch, end - stretch, bits, obj, opage);
    }
  };
  for (let p = first + from; p < first + to; p++) {
    const opage = objectPage(mm, id, p);
    const skip =
      findRun(pool, w, p) !== 0 ||
      (size >= 0 && opage >= size) ||
      (shmem && p !== vp && !residentShmemPage(mm, obj, opage));
    if (!skip) continue;
    flush(p);
    stretch = p + 1;
  }
  flush(first + to);
  return true;
}

/**
 * The first page of [lo, hi) whose folio filemap_map_pages finds (next_uptodate_folio): inside
 * the object, and for shmem resident or the faulting page; mapped or not. -1: none.
 */
function firstFoundPage(
  mm: MmStruct,
  id: number,
  obj: number,
  shmem: boolean,
  vp: number,
  lo: number,
  hi: number,
  size: number,
): number {
  for (let p = lo; p < hi; p++) {
    const opage = objectPage(mm, id, p);
    if (size >= 0 && opage >= size) continue;
    if (shmem && p !== vp && !residentShmemPage(mm, obj, opage)) continue;
    return p;
  }
  return -1;
}

function residentShmemPage(mm: MmStruct, obj: number, opage: number): boolean {
  let resident = false;
  forEachObjectPage(mm.pages, obj, opage, 1, (_a, _n, _m, flags) => {
    resident = (flags & OBJ_RESIDENT) !== 0;
  });
  return resident;
}
