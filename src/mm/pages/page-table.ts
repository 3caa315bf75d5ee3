/**
 * An mm's page table: the present pages of its address space, as runs keyed by virtual page
 * (like the kernel's page tables, keyed by address and not by VMA, so a VMA split, merge or
 * mprotect leaves the pages where they are; munmap zaps them, mremap moves them, fork copies
 * them, exit drops them all). Nothing is stored per VMA: an untouched mm costs nothing, a touched
 * one costs a head record plus one 32-byte run per stretch of identical pages.
 *
 * The mm arena's I32_PAGE_TABLE word holds the head record (0: nothing ever mapped). Head record:
 * word R_COUNT = first run, R_BITS / R_OBJ / R_NEXT = resident anonymous / file / shmem pages
 * (mm->rss_stat), slot R_KEY = the high-water mark of their sum (hiwater_rss), word 3 the record
 * of the tables the mm has (table-regions.ts), all under the page lock (page-pool.ts). Run bits are the PTE's state (PTE_*); `obj` the page object with the
 * pages' mapcounts (page-objects.ts), 0 for exclusive anonymous pages.
 */
import { I32_PAGE_TABLE } from '../arena-layout.js';
import type { MmStruct } from '../mm-struct.js';
import { adjustObject, markObjectAccessed, OBJ_DIRTY } from './page-objects.js';
import { type PagePool, R_BITS, R_COUNT, R_NEXT, R_OBJ } from './page-pool.js';
import { coalesce, findRun, forEachInside, linkRun, splitAt, unlinkRange } from './run-list.js';
import { freeAllTables } from './table-regions.js';

/** The PTE allows writes (a write needs no fault). */
export const PTE_WRITE = 1;
/** The PTE is dirty (smaps: *_Dirty). */
export const PTE_DIRTY = 2;
/** The PTE is young (smaps: Referenced); fork's copies start old. */
export const PTE_YOUNG = 4;
/** The page is an anonymous folio (smaps: Anonymous; RssAnon). */
export const PTE_ANON = 8;
/** The page is a shmem folio (RssShmem; Pss_Shmem). Neither ANON nor SHMEM: page cache (RssFile). */
export const PTE_SHMEM = 16;
/** The shared zero page: present, read-only, counted nowhere. */
export const PTE_ZERO = 32;
/**
 * The folio was marked accessed (mark_page_accessed: GUP with FOLL_TOUCH, i.e. MAP_POPULATE /
 * mlock population): smaps counts the page Referenced even where its PTE is old (a fork
 * child's copy), as the host shows. A plain fault only makes the PTE young.
 */
export const PTE_ACCESSED = 128;
/**
 * The pages are mapped by PMDs (a transparent huge page each, pages/thp.ts): the run starts on a
 * 512-page boundary and spans whole 512-page blocks, one PMD each. A change that cuts a block
 * (an edge of a zap, protection change, move or VMA split inside it) splits that PMD first
 * (__split_huge_pmd): its pages stay, as PTEs with the same bits.
 */
export const PTE_HUGE = 256;

/** Pages per PMD (HPAGE_PMD_NR). */
const PMD_PAGES = 512;

export const PAGE_SHIFT_DIV = 4096;

/** The head record of mm's page table, created when `create` (page lock). */
export function tableHead(mm: MmStruct, create: boolean): number {
  let h = mm.i32[I32_PAGE_TABLE];
  if (h === 0 && create) {
    h = mm.pages.alloc();
    Atomics.store(mm.i32, I32_PAGE_TABLE, h);
  }
  return h;
}

export function runsWord(pool: PagePool, head: number): number {
  return pool.w(head) + R_COUNT;
}

/**
 * __split_huge_pmd() at page `vp`: when `vp` falls strictly inside a block of a PMD-mapped run,
 * that block becomes PTE-mapped (page lock). A boundary on a 2 MiB edge splits nothing.
 */
export function splitHugeAt(pool: PagePool, w: number, vp: number): void {
  const off = vp % PMD_PAGES;
  if (off === 0) return;
  const r = findRun(pool, w, vp);
  if (r === 0 || !(pool.bits(r) & PTE_HUGE)) return;
  const block = vp - off;
  splitAt(pool, w, block);
  splitAt(pool, w, block + PMD_PAGES);
  const b = findRun(pool, w, block);
  pool.setBits(b, pool.bits(b) & ~PTE_HUGE);
}

function counterWord(pool: PagePool, head: number, bits: number): number {
  if (bits & PTE_ZERO) return -1;
  if (bits & PTE_ANON) return pool.w(head) + R_BITS;
  if (bits & PTE_SHMEM) return pool.w(head) + R_NEXT;
  return pool.w(head) + R_OBJ;
}

function account(pool: PagePool, head: number, bits: number, n: number): void {
  const w = counterWord(pool, head, bits);
  if (w < 0) return;
  pool.i32[w] += n;
  if (n > 0) {
    const b = pool.w(head);
    const total = pool.i32[b + R_BITS] + pool.i32[b + R_OBJ] + pool.i32[b + R_NEXT];
    if (total > pool.key(head)) pool.setKey(head, total);
  }
}

/** Map [vp, vp + n) (nothing mapped there) with one run (page lock). */
export function mapRun(
  mm: MmStruct,
  head: number,
  vp: number,
  n: number,
  bits: number,
  obj: number,
  opage: number,
): void {
  const pool = mm.pages;
  const r = pool.alloc();
  pool.setKey(r, vp);
  pool.setCount(r, n);
  pool.setBits(r, bits);
  pool.setObj(r, obj);
  pool.setOpage(r, obj === 0 ? vp : opage);
  const w = runsWord(pool, head);
  linkRun(pool, w, r);
  account(pool, head, bits, n);
  coalesce(pool, w, vp, vp + n);
}

/** Drop run r (already unlinked): counters, mapcounts, record (page lock). */
function dropRun(pool: PagePool, head: number, r: number, unmap: boolean): void {
  const n = pool.count(r);
  const bits = pool.bits(r);
  account(pool, head, bits, -n);
  const obj = pool.obj(r);
  // zap_pte_range(): a dirty PTE of a page-cache/shmem page dirties the folio as it goes, so
  // the other mappings of the page see it dirty from then on; a young one marks it accessed.
  const dirty = (bits & (PTE_DIRTY | PTE_ANON)) === PTE_DIRTY ? OBJ_DIRTY : 0;
  if (obj !== 0 && unmap && (bits & (PTE_YOUNG | PTE_ANON)) === PTE_YOUNG) {
    markObjectAccessed(pool, obj, pool.opage(r), n);
  }
  if (obj !== 0) adjustObject(pool, obj, pool.opage(r), n, -1, dirty);
  pool.free(r);
}

/**
 * Unmap every page in [lo, hi) pages (page lock). `unmap`: zap_page_range of an unmapping
 * (munmap, MAP_FIXED over, MADV_DONTNEED, exit), which marks the page-cache folios of young PTEs
 * accessed; false: the engine re-mapping a page with other bits (a fault replacing its PTE).
 */
export function zapPages(mm: MmStruct, head: number, lo: number, hi: number, unmap = false): void {
  const pool = mm.pages;
  splitHugeEdges(pool, runsWord(pool, head), lo, hi);
  unlinkRange(pool, runsWord(pool, head), lo, hi, (r) => dropRun(pool, head, r, unmap));
}

/** Apply `fn(bits) -> bits` to the runs in [lo, hi) pages (page lock). */
export function updatePages(
  mm: MmStruct,
  head: number,
  lo: number,
  hi: number,
  fn: (bits: number, obj: number) => number,
): void {
  const pool = mm.pages;
  const w = runsWord(pool, head);
  splitHugeEdges(pool, w, lo, hi);
  forEachInside(pool, w, lo, hi, (r) => pool.setBits(r, fn(pool.bits(r), pool.obj(r))));
  coalesce(pool, w, lo, hi);
}

/**
 * folio_mark_accessed() on the page mapped at `vp` (page lock; nothing if none): a page-cache or
 * shmem folio's own referenced/active state changes, which every mapping of it shows (another
 * VMA, a fork child's old PTE); an anonymous page's mark stays on its PTE (`PTE_ACCESSED`: no
 * other mapping has the folio until a fork copies the PTE with it).
 */
export function markPageAccessed(mm: MmStruct, head: number, vp: number): void {
  const pool = mm.pages;
  const r = findRun(pool, runsWord(pool, head), vp);
  if (r === 0) return;
  const obj = pool.obj(r);
  if (obj !== 0 && !(pool.bits(r) & PTE_ANON)) {
    markObjectAccessed(pool, obj, pool.opage(r) + (vp - pool.key(r)), 1);
  } else {
    updatePages(mm, head, vp, vp + 1, (bits) => bits | PTE_ACCESSED);
  }
}

/** Split the PMDs that straddle `lo` or `hi` (page lock). */
function splitHugeEdges(pool: PagePool, w: number, lo: number, hi: number): void {
  splitHugeAt(pool, w, lo);
  splitHugeAt(pool, w, hi);
}

/** Scratch for moves (one per thread). */
const moving: number[] = [];

/** move_page_tables: the runs of [lo, hi) pages move to start at page `to` (page lock). */
export function movePages(mm: MmStruct, head: number, lo: number, hi: number, to: number): void {
  const pool = mm.pages;
  const w = runsWord(pool, head);
  moving.length = 0;
  splitHugeEdges(pool, w, lo, hi);
  unlinkRange(pool, w, lo, hi, (r) => moving.push(r));
  const delta = to - lo;
  for (const r of moving) {
    // move_huge_pmd() only when both ends are PMD aligned; otherwise the PMD is split.
    if (delta % PMD_PAGES !== 0) pool.setBits(r, pool.bits(r) & ~PTE_HUGE);
    pool.setKey(r, pool.key(r) + delta);
    if (pool.obj(r) === 0) pool.setOpage(r, pool.key(r));
    linkRun(pool, w, r);
  }
  moving.length = 0;
  coalesce(pool, w, to, to + (hi - lo));
}

/** Free the whole table (exit_mmap after every page was zapped) (page lock). */
export function freeTable(mm: MmStruct, head: number): void {
  const pool = mm.pages;
  zapPages(mm, head, 0, 2 ** 40, true);
  freeAllTables(pool, head);
  pool.free(head);
  Atomics.store(mm.i32, I32_PAGE_TABLE, 0);
}
