/**
 * What the syscalls do to the page tables (they hold the mmap write lock and the VMA write locks;
 * each function takes the page lock). Addresses in bytes, page aligned.
 *
 *   pagesZap      munmap / MAP_FIXED over / mremap shrink and unmap of the source (zap_page_range),
 *                 MADV_DONTNEED (zap_page_range_single, which also frees emptied PTE tables)
 *   pagesFreeTables  free_pgtables() after an unmap: the tables of regions no VMA is left in
 *   pagesMove     mremap's move_page_tables
 *   pagesProtect  mprotect's change_protection: write permission removed from every PTE of the
 *                 range, given back only to exclusive anonymous pages (can_change_pte_writable)
 *                 and to dirty or shmem pages of shared mappings; PROT_NONE makes PTEs inaccessible
 *   pagesFork     dup_mmap's copy_page_range for one VMA that needs it (an anon_vma, a PFN map)
 *   pagesExit     exit_mmap
 *   pagesTablesOver  the tables of a range whose pages were faulted before the engine saw them
 *   pagesShmemCreated  a new shmem object's size (SIGBUS past it, also after mremap grows it)
 *   pagesSplitHuge     a VMA boundary now at `addr` (a split, or a merge that moves a boundary):
 *                 vma_adjust_trans_huge() splits the PMD-mapped huge page across it
 */
import type { MmStruct } from '../mm-struct.js';
import { VM_ACCESS_FLAGS, VM_SHARED, VM_WRITE } from '../vm-flags.js';
import { PTE_PROTNONE } from './page-fault.js';
import {
  adjustObject,
  createObject,
  fileObject,
  OBJ_ANON,
  readFirstPage,
  setFileSize,
} from './page-objects.js';
import {
  freeTable,
  mapRun,
  movePages,
  PTE_ANON,
  PTE_DIRTY,
  PTE_SHMEM,
  PTE_WRITE,
  PTE_YOUNG,
  PTE_ZERO,
  runsWord,
  splitHugeAt,
  tableHead,
  updatePages,
  zapPages,
} from './page-table.js';
import { coalesce, lastRunBefore, runAfter, splitAt } from './run-list.js';
import {
  applyTableMove,
  copyTables,
  freePgtables,
  planTableMove,
  zapKeepingTables,
} from './table-changes.js';
import { addTablesOver, hasBareTables, LEVEL_PTE, regionPages } from './table-regions.js';

const PAGE = 4096;
/**
 * Records fork reserves: splitting the range's edges; per run copied (object, splits, run), each
 * with room for its share of skip-list index records (run-index.ts: a seventh of a record per run
 * on average, so this covers the expected case; an unlucky tall tower is charged as it comes).
 */
const FORK_EDGE_RECORDS = 12;
const FORK_RUN_RECORDS = 11;

function locked(mm: MmStruct, fn: (head: number) => void): void {
  const pool = mm.pages;
  pool.lock();
  try {
    const head = tableHead(mm, false);
    if (head !== 0) fn(head);
  } finally {
    pool.unlock();
  }
}

/**
 * `reclaimTables`: MADV_DONTNEED's zap (CONFIG_PT_RECLAIM, on in x86-64 Linux 6.18 builds): a
 * 2 MiB region zapped whole loses its PTE table (also a huge PMD's: zap_huge_pmd withdraws its
 * deposit). An unmap's zap leaves the tables to `pagesFreeTables`.
 */
export function pagesZap(mm: MmStruct, start: number, end: number, reclaimTables = false): void {
  const lo = start / PAGE;
  const hi = end / PAGE;
  locked(mm, (head) =>
    zapKeepingTables(mm.pages, head, lo, hi, reclaimTables, () => zapPages(mm, head, lo, hi, true)),
  );
}

/**
 * Whether an unmap's `pagesFreeTables` may have anything to free: only bare tables can go (the
 * unmap's zaps left those of its regions bare), so none at all means nothing to do, and the
 * caller skips its neighbour lookups. A racy read: a fault racing with it adds tables only in the
 * regions of a VMA it holds, which the free never touches.
 */
export function pagesMayHaveTables(mm: MmStruct): boolean {
  const head = tableHead(mm, false);
  return head !== 0 && hasBareTables(mm.pages, head);
}

/**
 * free_pgtables() after [start, end) was unmapped: `floor` is the end of the VMA below it (0:
 * none), `ceiling` the start of the VMA above it (Infinity: none).
 */
export function pagesFreeTables(
  mm: MmStruct,
  start: number,
  end: number,
  floor: number,
  ceiling: number,
): void {
  locked(mm, (head) =>
    freePgtables(mm.pages, head, start / PAGE, end / PAGE, floor / PAGE, ceiling / PAGE),
  );
}

/**
 * move_page_tables() of [from, from + len) to `to`; `realign`: try_realign_addr() found nothing
 * between either address and the 2 MiB boundary below it, so the tables move from there.
 */
export function pagesMove(
  mm: MmStruct,
  from: number,
  len: number,
  to: number,
  realign = false,
): void {
  locked(mm, (head) => {
    const lo = from / PAGE;
    const back = realign ? lo % regionPages(LEVEL_PTE) : 0;
    const steps = planTableMove(mm.pages, head, lo - back, lo + len / PAGE, to / PAGE - back);
    movePages(mm, head, lo, lo + len / PAGE, to / PAGE);
    applyTableMove(mm.pages, head, steps);
  });
}

export function pagesProtect(mm: MmStruct, start: number, end: number, newFlags: number): void {
  const shared = (newFlags & VM_SHARED) !== 0;
  const accessible = (newFlags & VM_ACCESS_FLAGS) !== 0;
  const writable = (newFlags & VM_WRITE) !== 0;
  locked(mm, (head) =>
    updatePages(mm, head, start / PAGE, end / PAGE, (bits, obj) => {
      let b = bits & ~(PTE_WRITE | PTE_PROTNONE);
      if (!accessible) return b | PTE_PROTNONE;
      if (!writable || bits & PTE_ZERO) return b;
      if (shared ? bits & (PTE_DIRTY | PTE_SHMEM) : bits & PTE_ANON && obj === 0) b |= PTE_WRITE;
      return b;
    }),
  );
}

/**
 * copy_page_range() for [start, end) of a parent VMA into the child (one with an anon_vma, or a
 * PFN map such as [vvar]: vma_needs_copy): the child gets the parent's tables there and maps the
 * same pages (mapcount + 1), copied PTEs start old; anonymous pages become shared
 * copy-on-write (write-protected in both; the first fork gives exclusive pages an object).
 * False when the page-state records it needs cannot be charged to the memory budget (the copy
 * stops there; the caller fails the fork with ENOMEM and exits the child).
 */
export function pagesFork(parent: MmStruct, child: MmStruct, start: number, end: number): boolean {
  const pool = parent.pages;
  pool.lock();
  try {
    const ph = tableHead(parent, false);
    if (ph === 0) return true;
    if (!pool.canFault(FORK_EDGE_RECORDS)) return false;
    const lo = start / PAGE;
    const hi = end / PAGE;
    let ch = 0;
    const copies: number[] = [];
    updatePages(parent, ph, lo, hi, (bits) => bits); // split the huge pages at the edges
    const w = runsWord(pool, ph);
    // Runs at the VMA's edges are cut there (updatePages merged them back): pages of a
    // neighbour that is not copied (VM_DONTCOPY, VM_WIPEONFORK) must keep their PTEs as they
    // are; identical neighbours are merged again below.
    splitAt(pool, w, lo);
    splitAt(pool, w, hi);
    // The runs in [lo, hi).
    const before = lastRunBefore(pool, w, lo, false);
    for (let r = runAfter(pool, w, before); r !== 0 && pool.key(r) < hi; r = pool.next(r)) {
      copies.push(r);
    }
    for (const r of copies) {
      if (!pool.canFault(FORK_RUN_RECORDS)) return false;
      const n = pool.count(r);
      let bits = pool.bits(r);
      let obj = pool.obj(r);
      const vp = pool.key(r);
      if (bits & PTE_ANON) {
        if (obj === 0) {
          obj = createObject(pool, OBJ_ANON, -1);
          adjustObject(pool, obj, vp, n, 1, 0);
          pool.setObj(r, obj);
          pool.setOpage(r, vp);
        }
        bits &= ~PTE_WRITE;
        pool.setBits(r, bits);
      }
      if (obj !== 0) adjustObject(pool, obj, pool.opage(r), n, 1, 0);
      if (ch === 0) ch = tableHead(child, true);
      mapRun(child, ch, vp, n, bits & ~PTE_YOUNG, obj, pool.opage(r));
    }
    coalesce(pool, w, lo, hi);
    copyTables(pool, ph, () => (ch === 0 ? (ch = tableHead(child, true)) : ch), lo, hi);
    return true;
  } finally {
    pool.unlock();
  }
}

export function pagesExit(mm: MmStruct): void {
  locked(mm, (head) => freeTable(mm, head));
}

/**
 * The tables [start, end) has when its pages were faulted in before the engine saw them (a
 * process the differential harness imports after its helper touched its own pages).
 */
export function pagesTablesOver(mm: MmStruct, start: number, end: number): void {
  const pool = mm.pages;
  pool.lock();
  try {
    addTablesOver(pool, tableHead(mm, true), start / PAGE, end / PAGE);
  } finally {
    pool.unlock();
  }
}

export function pagesShmemCreated(mm: MmStruct, fileId: number, bytes: number): void {
  const pool = mm.pages;
  pool.lock();
  try {
    setFileSize(pool, fileId, true, bytes);
  } finally {
    pool.unlock();
  }
}

/**
 * Per file table, the files (by serial: unique over that table's life) whose first page this
 * thread has seen marked by a build-id read: later queries of them touch no page-pool memory (the
 * page lock and records writers on other threads keep writing), only this set. Sound because the
 * mark stays while the file's page object lives, and the object lives no longer than its serial.
 * Bounded: cleared when it grows past BUILD_ID_READ_SEEN_MAX.
 */
const buildIdReadSeen = new WeakMap<object, Set<number>>();
const BUILD_ID_READ_SEEN_MAX = 4096;

/**
 * PROCMAP_QUERY read the build id of regular file `fileId` (a VMA maps it while this runs): the
 * kernel reads the ELF header through the page cache, marking its first page accessed
 * (`readFirstPage`). A shmem file is left alone (its read path marks differently; not modelled).
 */
export function pagesBuildIdRead(mm: MmStruct, fileId: number): void {
  const files = mm.files;
  let seen = buildIdReadSeen.get(files);
  if (seen === undefined) buildIdReadSeen.set(files, (seen = new Set()));
  const serial = files.serial(fileId);
  if (seen.has(serial) || files.isShmem(fileId)) return;
  const pool = mm.pages;
  pool.lock();
  try {
    // A file whose last reference went meanwhile keeps no object (putFile drops it).
    if (files.refs(fileId) === 0) return;
    readFirstPage(pool, fileObject(pool, fileId, false));
  } finally {
    pool.unlock();
  }
  if (seen.size >= BUILD_ID_READ_SEEN_MAX) seen.clear();
  seen.add(serial);
}

export function pagesSplitHuge(mm: MmStruct, addr: number): void {
  locked(mm, (head) => splitHugeAt(mm.pages, runsWord(mm.pages, head), addr / PAGE));
}
