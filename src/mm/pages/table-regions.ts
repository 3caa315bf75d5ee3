/**
 * Which page tables an mm has (x86-64, 4-level paging): a PTE table per 2 MiB region, a PMD
 * table per 1 GiB region, a PUD table per 512 GiB region. A table's life is not a page's: it is
 * allocated on the way down to a page (a fault, mremap's move, fork's copy) and freed only by
 * free_pgtables() when an unmap leaves no VMA in its region, by MADV_DONTNEED over a whole 2 MiB
 * region (CONFIG_PT_RECLAIM), by zapping a whole huge PMD, or at exit. So a region can hold a
 * table and no page, and that shows: VmPTE (mm_pgtables_bytes), whether a fault in the region
 * may map a transparent huge page (pmd_none), and whether a read past the end of a file maps the
 * file's last page (filemap_map_pages installs the table only for a folio that is not the last).
 *
 * A region mapped by a huge PMD counts as holding a PTE table: the table deposited with the PMD
 * (pgtable_trans_huge_deposit) is counted in mm_pgtables_bytes, and the PMD is not none.
 *
 * Storage: one run list (run-list.ts) of the page-state pool per mm, in a record the page-table
 * head's word R_TABLES names (0: no table ever). A run is a stretch of consecutive regions of one
 * level; its key is `level * LEVEL_KEY_SPAN + region index` (the levels never touch), its count
 * the number of regions. Everything here runs under the page lock.
 */
import { type PagePool, R_COUNT } from './page-pool.js';
import {
  coalesce,
  findRun,
  firstRunFrom,
  freeList,
  linkRun,
  runAfter,
  unlinkRange,
} from './run-list.js';

/** Table levels, by the region a table maps. */
export const LEVEL_PTE = 0; // 2 MiB: 512 pages
export const LEVEL_PMD = 1; // 1 GiB
export const LEVEL_PUD = 2; // 512 GiB
const LEVELS = 3;
/** log2 of a level's region size in pages. */
const REGION_SHIFT = [9, 18, 27];
/** Keys of one level: region indexes stay far below this (TASK_SIZE / 2 MiB < 2^27). */
const LEVEL_KEY_SPAN = 2 ** 40;
/** Word of the page-table head record naming the tables record (page-table.ts leaves it free). */
const R_TABLES = 3;

/** Pages in a region of `level`. */
export function regionPages(level: number): number {
  return 2 ** REGION_SHIFT[level];
}

function key(level: number, page: number): number {
  return level * LEVEL_KEY_SPAN + Math.floor(page / regionPages(level));
}

/** The word holding the list's first run (0 when `create` is false and there is none). */
function listWord(pool: PagePool, head: number, create: boolean): number {
  const at = pool.w(head) + R_TABLES;
  let t = pool.i32[at];
  if (t === 0) {
    if (!create) return 0;
    t = pool.alloc();
    pool.i32[at] = t;
  }
  return pool.w(t) + R_COUNT;
}

/** Regions [lo, hi) (keys) are in the list. */
function addKeys(pool: PagePool, w: number, lo: number, hi: number): void {
  if (lo >= hi) return;
  const r0 = findRun(pool, w, lo);
  if (r0 !== 0 && pool.key(r0) + pool.count(r0) >= hi) return; // all there already
  unlinkRange(pool, w, lo, hi, (r) => pool.free(r));
  const r = pool.alloc();
  pool.setKey(r, lo);
  pool.setOpage(r, lo); // continues(): keys and "object pages" both contiguous
  pool.setCount(r, hi - lo);
  linkRun(pool, w, r);
  coalesce(pool, w, lo, hi);
}

function dropKeys(pool: PagePool, w: number, lo: number, hi: number): void {
  if (w !== 0 && lo < hi) unlinkRange(pool, w, lo, hi, (r) => pool.free(r));
}

/** Whether the mm has a table of `level` for page `vp`'s region. */
export function hasTable(pool: PagePool, head: number, level: number, vp: number): boolean {
  const w = head === 0 ? 0 : listWord(pool, head, false);
  return w !== 0 && findRun(pool, w, key(level, vp)) !== 0;
}

/** pmd_none() for page vp's 2 MiB region is false: a PTE table (or a huge PMD's deposit). */
export function hasPteTable(pool: PagePool, head: number, vp: number): boolean {
  return hasTable(pool, head, LEVEL_PTE, vp);
}

/**
 * The tables on the way down to page vp: pud_alloc() and pmd_alloc() (every fault that reaches
 * handle_mm_fault), and with `pte` the PTE table (pte_alloc, or a huge PMD's deposit).
 */
export function allocTables(pool: PagePool, head: number, vp: number, pte: boolean): void {
  const w = listWord(pool, head, true);
  for (let level = pte ? LEVEL_PTE : LEVEL_PMD; level < LEVELS; level++) {
    const k = key(level, vp);
    addKeys(pool, w, k, k + 1);
  }
}

/** The PTE tables of the 2 MiB regions lying wholly inside pages [lo, hi) are freed. */
export function freePteTablesInside(pool: PagePool, head: number, lo: number, hi: number): void {
  const w = listWord(pool, head, false);
  const n = regionPages(LEVEL_PTE);
  dropKeys(pool, w, Math.ceil(lo / n), Math.floor(hi / n));
}

/**
 * free_pgtables() / free_pgd_range() after an unmap of pages [lo, hi): at each level, the tables
 * of the regions that meet [lo, hi) and hold no VMA left — no part of the VMA below (ending at
 * page `floor`, 0 if none) or the VMA above (starting at page `ceiling`, Infinity if none).
 */
export function freePgtables(
  pool: PagePool,
  head: number,
  lo: number,
  hi: number,
  floor: number,
  ceiling: number,
): void {
  const w = listWord(pool, head, false);
  if (w === 0 || lo >= hi) return;
  for (let level = 0; level < LEVELS; level++) {
    const n = regionPages(level);
    let first = Math.floor(lo / n);
    let last = Math.floor((hi - 1) / n);
    if (first * n < floor) first++;
    if ((last + 1) * n > ceiling) last--;
    const base = level * LEVEL_KEY_SPAN;
    dropKeys(pool, w, base + first, base + last + 1);
  }
}

/**
 * The tables of `level` the mm has in pages [lo, hi), as region indexes: `fn(first, end)` per
 * stretch of consecutive regions (clipped to the regions [lo, hi) meets).
 */
function forEachTable(
  pool: PagePool,
  w: number,
  level: number,
  lo: number,
  hi: number,
  fn: (first: number, end: number) => void,
): void {
  const base = level * LEVEL_KEY_SPAN;
  const kLo = key(level, lo);
  const kHi = key(level, hi - 1) + 1;
  for (let r = firstRunFrom(pool, w, kLo); r !== 0 && pool.key(r) < kHi; r = pool.next(r)) {
    fn(Math.max(pool.key(r), kLo) - base, Math.min(pool.key(r) + pool.count(r), kHi) - base);
  }
}

/**
 * copy_page_range() into a fork child for pages [lo, hi) of a VMA it copies: the child gets a
 * table wherever the parent has one in the VMA's regions (copy_pud_range/pud_alloc,
 * copy_pmd_range/pmd_alloc, copy_pte_range/pte_alloc or copy_huge_pmd's deposit), even one
 * that maps no page. `childHead` gives (creating it) the child's page-table head.
 */
export function copyTables(
  pool: PagePool,
  parent: number,
  childHead: () => number,
  lo: number,
  hi: number,
): void {
  const pw = listWord(pool, parent, false);
  if (pw === 0 || lo >= hi) return;
  const copies: number[] = [];
  for (let level = 0; level < LEVELS; level++) {
    const base = level * LEVEL_KEY_SPAN;
    forEachTable(pool, pw, level, lo, hi, (a, b) => copies.push(base + a, base + b));
  }
  if (copies.length === 0) return;
  const cw = listWord(pool, childHead(), true);
  for (let i = 0; i < copies.length; i += 2) addKeys(pool, cw, copies[i], copies[i + 1]);
}

/** get_extent(): pages from `old` to the next `level` boundary of either side, within `end`. */
function extentAt(old: number, nu: number, end: number, level: number): number {
  const n = regionPages(level);
  return Math.min(n - (old % n), n - (nu % n), end - old);
}

/**
 * move_page_tables() of pages [from, end) to `to` (both already realigned by the caller, as
 * try_realign_addr() does), extent by extent: where the source has a PMD table the destination
 * gets a PUD table (alloc_new_pud), where it has a PTE table a PMD table (alloc_new_pmd); a
 * whole aligned 1 GiB or 2 MiB extent moves its table when the destination has none
 * (move_normal_pud, move_normal_pmd, move_huge_pmd), anything else gets a destination PTE
 * table (pte_alloc) and the source keeps its own, even emptied.
 */
export function moveTables(pool: PagePool, head: number, from: number, end: number, to: number) {
  const w = listWord(pool, head, false);
  if (w === 0) return;
  const has = (level: number, vp: number) => findRun(pool, w, key(level, vp)) !== 0;
  const add = (level: number, vp: number) => addKeys(pool, w, key(level, vp), key(level, vp) + 1);
  for (let old = from, nu = to; old < end; ) {
    let extent = extentAt(old, nu, end, LEVEL_PMD);
    if (!has(LEVEL_PMD, old)) {
      old += extent;
      nu += extent;
      continue;
    }
    add(LEVEL_PUD, nu);
    if (extent === regionPages(LEVEL_PMD) && !has(LEVEL_PMD, nu)) {
      moveRegions(pool, w, LEVEL_PTE, old, nu, extent);
      moveRegions(pool, w, LEVEL_PMD, old, nu, extent);
    } else {
      extent = extentAt(old, nu, end, LEVEL_PTE);
      if (has(LEVEL_PTE, old)) {
        add(LEVEL_PMD, nu);
        if (extent === regionPages(LEVEL_PTE) && !has(LEVEL_PTE, nu)) {
          moveRegions(pool, w, LEVEL_PTE, old, nu, extent);
        } else {
          add(LEVEL_PTE, nu);
        }
      }
    }
    old += extent;
    nu += extent;
  }
}

/** The `level` tables of pages [old, old + n) move to start at page `nu` (aligned moves). */
function moveRegions(pool: PagePool, w: number, level: number, old: number, nu: number, n: number) {
  const moved: number[] = [];
  forEachTable(pool, w, level, old, old + n, (a, b) => moved.push(a, b));
  const base = level * LEVEL_KEY_SPAN;
  dropKeys(pool, w, key(level, old), key(level, old + n - 1) + 1);
  const shift = (nu - old) / regionPages(level);
  for (let i = 0; i < moved.length; i += 2) {
    addKeys(pool, w, base + moved[i] + shift, base + moved[i + 1] + shift);
  }
}

/** The mm's page-table bytes (mm_pgtables_bytes: VmPTE), 4 KiB per table. */
export function pageTableBytes(pool: PagePool, head: number): number {
  const w = head === 0 ? 0 : listWord(pool, head, false);
  let tables = 0;
  for (let r = w === 0 ? 0 : runAfter(pool, w, 0); r !== 0; r = pool.next(r)) {
    tables += pool.count(r);
  }
  return tables * 4096;
}

/** The runs of the list as [key, count] pairs (snapshots). */
export function tableRuns(pool: PagePool, head: number): number[] {
  const w = head === 0 ? 0 : listWord(pool, head, false);
  const out: number[] = [];
  for (let r = w === 0 ? 0 : runAfter(pool, w, 0); r !== 0; r = pool.next(r)) {
    out.push(pool.key(r), pool.count(r));
  }
  return out;
}

/** Adds runs of keys as `tableRuns` gave them (a restore). */
export function addTableRuns(pool: PagePool, head: number, runs: ArrayLike<number>): void {
  if (runs.length === 0) return;
  const w = listWord(pool, head, true);
  for (let i = 0; i < runs.length; i += 2) addKeys(pool, w, runs[i], runs[i] + runs[i + 1]);
}

/** A key `tableRuns` may give: level and region index in range. */
export function validTableKey(k: number, count: number): boolean {
  const level = Math.floor(k / LEVEL_KEY_SPAN);
  if (!Number.isSafeInteger(k) || k < 0 || level >= LEVELS || count < 1) return false;
  return k - level * LEVEL_KEY_SPAN + count <= 2 ** (47 - 12 - REGION_SHIFT[level]);
}

/**
 * The tables a process has when pages [lo, hi) were all faulted in (each region's tables at
 * every level): an image written before tables were kept, a process whose pages were faulted
 * before the engine saw it.
 */
export function addTablesOver(pool: PagePool, head: number, lo: number, hi: number): void {
  if (lo >= hi) return;
  const w = listWord(pool, head, true);
  for (let level = 0; level < LEVELS; level++)
    addKeys(pool, w, key(level, lo), key(level, hi - 1) + 1);
}

/** Every table freed (exit_mmap), the tables record too. */
export function freeAllTables(pool: PagePool, head: number): void {
  const at = pool.w(head) + R_TABLES;
  const t = pool.i32[at];
  if (t === 0) return;
  freeList(pool, pool.w(t) + R_COUNT);
  pool.free(t);
  pool.i32[at] = 0;
}

export { listWord as tablesListWord };
