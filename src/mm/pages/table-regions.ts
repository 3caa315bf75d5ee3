/**
 * Which page tables an mm has (x86-64, 4-level paging): a PTE table per 2 MiB region, a PMD
 * table per 1 GiB region, a PUD table per 512 GiB region. A table's life is not a page's: it is
 * allocated on the way down to a page (a fault, mremap's move, fork's copy) and freed only by
 * free_pgtables() when an unmap leaves no VMA in its region, by MADV_DONTNEED over a whole 2 MiB
 * region (CONFIG_PT_RECLAIM), by zapping a whole huge PMD, or at exit (table-changes.ts says
 * which call does what). So a region can hold a table and no page, and that shows: VmPTE
 * (mm_pgtables_bytes), whether a fault there may map a transparent huge page (pmd_none), and
 * whether a read past the end of a file maps the file's last page.
 *
 * Most tables map pages, and those are not stored: a region holding a present page (a run of
 * the page table, page-table.ts; a huge PMD too, whose deposited table mm_pgtables_bytes counts)
 * has its PTE table, and above it its PMD and PUD tables. Only "bare" tables are stored: a PTE
 * table whose region holds no page, a PMD table whose GiB holds no PTE table, a PUD table whose
 * 512 GiB hold no PMD table. A table is there when a page or a bare table below or at its level
 * says so (a bare entry may also repeat what a page says: harmless, never counted twice). An
 * untouched mm and one whose tables all map pages cost nothing here.
 *
 * Storage: one run list (run-list.ts) of the page-state pool per mm, in a record the page-table
 * head's word R_TABLES names (0: none). A run is a stretch of consecutive regions of one level;
 * its key is `level * LEVEL_KEY_SPAN + region index` (the levels never touch), its count the
 * number of regions. Everything here runs under the page lock.
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
export const LEVELS = 3;
/** log2 of a level's region size in pages. */
const REGION_SHIFT = [9, 18, 27];
/** Keys of one level: region indexes stay far below this (TASK_SIZE / 2 MiB < 2^27). */
const LEVEL_KEY_SPAN = 2 ** 40;
/** Word of the page-table head record naming the tables record (page-table.ts leaves it free). */
const R_TABLES = 3;
/** Pages below TASK_SIZE (2^47 bytes). */
const USER_PAGES = 2 ** 35;

/** Pages in a region of `level`. */
export function regionPages(level: number): number {
  return 2 ** REGION_SHIFT[level];
}

/** The index of page vp's region at `level`. */
export function regionOf(level: number, vp: number): number {
  return Math.floor(vp / regionPages(level));
}

/** The word holding the bare list's first run (0 when `create` is false and there is none). */
function bareWord(pool: PagePool, head: number, create: boolean): number {
  const at = pool.w(head) + R_TABLES;
  let t = pool.i32[at];
  if (t === 0) {
    if (!create) return 0;
    t = pool.alloc();
    pool.i32[at] = t;
  }
  return pool.w(t) + R_COUNT;
}

/** Whether the mm has any bare table (a racy read is fine for a caller that only skips work). */
export function hasBareTables(pool: PagePool, head: number): boolean {
  const w = bareWord(pool, head, false);
  return w !== 0 && pool.i32[w] !== 0;
}

/** Bare tables of `level` for regions [lo, hi). */
export function addBare(pool: PagePool, head: number, level: number, lo: number, hi: number) {
  if (lo >= hi) return;
  const w = bareWord(pool, head, true);
  const kLo = level * LEVEL_KEY_SPAN + lo;
  const kHi = level * LEVEL_KEY_SPAN + hi;
  const r0 = findRun(pool, w, kLo);
  if (r0 !== 0 && pool.key(r0) + pool.count(r0) >= kHi) return; // all there already
  unlinkRange(pool, w, kLo, kHi, (r) => pool.free(r));
  const r = pool.alloc();
  pool.setKey(r, kLo);
  pool.setOpage(r, kLo); // continues(): keys and "object pages" both contiguous
  pool.setCount(r, kHi - kLo);
  linkRun(pool, w, r);
  coalesce(pool, w, kLo, kHi);
}

/** No bare table of `level` for regions [lo, hi) any more. */
export function dropBare(pool: PagePool, head: number, level: number, lo: number, hi: number) {
  const w = bareWord(pool, head, false);
  if (w === 0 || lo >= hi) return;
  const base = level * LEVEL_KEY_SPAN;
  unlinkRange(pool, w, base + lo, base + hi, (r) => pool.free(r));
}

/** Whether a bare table of `level` is stored for one of regions [lo, hi). */
function bareIn(pool: PagePool, w: number, level: number, lo: number, hi: number): boolean {
  const base = level * LEVEL_KEY_SPAN;
  const r = firstRunFrom(pool, w, base + lo);
  return r !== 0 && pool.key(r) < base + hi;
}

/** Whether a page run of the mm meets pages [lo, hi). */
function pagesIn(pool: PagePool, head: number, lo: number, hi: number): boolean {
  const r = firstRunFrom(pool, pool.w(head) + R_COUNT, lo);
  return r !== 0 && pool.key(r) < hi;
}

/** Whether the mm has a table of `level` for page vp's region (head 0: no page table at all). */
export function hasTable(pool: PagePool, head: number, level: number, vp: number): boolean {
  if (head === 0) return false;
  const n = regionPages(level);
  const lo = Math.floor(vp / n) * n;
  if (pagesIn(pool, head, lo, lo + n)) return true;
  const w = bareWord(pool, head, false);
  if (w === 0) return false;
  for (let l = 0; l <= level; l++) {
    const m = regionPages(l);
    if (bareIn(pool, w, l, lo / m, (lo + n) / m)) return true;
  }
  return false;
}

/** pmd_none() for page vp's 2 MiB region is false: a PTE table (or a huge PMD and its deposit). */
export function hasPteTable(pool: PagePool, head: number, vp: number): boolean {
  return hasTable(pool, head, LEVEL_PTE, vp);
}

/**
 * The regions of `level` meeting pages [lo, hi) that have a table, as sorted, disjoint
 * [first, end) index pairs: from the page runs there and the bare tables at or below `level`.
 */
export function tableIntervals(
  pool: PagePool,
  head: number,
  level: number,
  lo: number,
  hi: number,
): number[] {
  if (head === 0 || lo >= hi) return [];
  const n = regionPages(level);
  const pLo = Math.floor(lo / n) * n;
  const pHi = Math.ceil(hi / n) * n;
  const raw: number[] = [];
  const push = (a: number, b: number) => raw.push(Math.floor(a / n), Math.floor((b - 1) / n) + 1);
  const runsW = pool.w(head) + R_COUNT;
  for (let r = firstRunFrom(pool, runsW, pLo); r !== 0 && pool.key(r) < pHi; r = pool.next(r)) {
    push(Math.max(pool.key(r), pLo), Math.min(pool.key(r) + pool.count(r), pHi));
  }
  for (let l = 0; l <= level; l++) {
    const m = regionPages(l);
    const bare = bareIntervals(pool, head, l, pLo, pHi);
    for (let k = 0; k < bare.length; k += 2) push(bare[k] * m, bare[k + 1] * m);
  }
  return mergeIntervals(raw);
}

/** The bare tables of exactly `level` stored for pages [lo, hi), as [first, end) index pairs. */
export function bareIntervals(
  pool: PagePool,
  head: number,
  level: number,
  lo: number,
  hi: number,
): number[] {
  const w = head === 0 ? 0 : bareWord(pool, head, false);
  const out: number[] = [];
  const m = regionPages(level);
  const base = level * LEVEL_KEY_SPAN;
  const kLo = base + Math.floor(lo / m);
  const kHi = base + Math.ceil(hi / m);
  for (
    let r = w === 0 ? 0 : firstRunFrom(pool, w, kLo);
    r !== 0 && pool.key(r) < kHi;
    r = pool.next(r)
  ) {
    out.push(Math.max(pool.key(r), kLo) - base, Math.min(pool.key(r) + pool.count(r), kHi) - base);
  }
  return out;
}

/** Sorted [a, b) pairs merged where they overlap or touch. */
function mergeIntervals(raw: number[]): number[] {
  const order = Array.from({ length: raw.length / 2 }, (_, i) => i).sort(
    (x, y) => raw[2 * x] - raw[2 * y],
  );
  const out: number[] = [];
  for (const i of order) {
    const a = raw[2 * i];
    const b = raw[2 * i + 1];
    if (out.length > 0 && a <= out[out.length - 1]) {
      out[out.length - 1] = Math.max(out[out.length - 1], b);
    } else out.push(a, b);
  }
  return out;
}

/** The mm's page-table bytes (mm_pgtables_bytes: VmPTE), 4 KiB per table. */
export function pageTableBytes(pool: PagePool, head: number): number {
  let tables = 0;
  for (let level = 0; level < LEVELS; level++) {
    const iv = tableIntervals(pool, head, level, 0, USER_PAGES);
    for (let i = 0; i < iv.length; i += 2) tables += iv[i + 1] - iv[i];
  }
  return tables * 4096;
}

/** The bare list's runs as [key, count] pairs (snapshots). */
export function tableRuns(pool: PagePool, head: number): number[] {
  const w = head === 0 ? 0 : bareWord(pool, head, false);
  const out: number[] = [];
  for (let r = w === 0 ? 0 : runAfter(pool, w, 0); r !== 0; r = pool.next(r)) {
    out.push(pool.key(r), pool.count(r));
  }
  return out;
}

/** Adds bare runs as `tableRuns` gave them (a restore). */
export function addTableRuns(pool: PagePool, head: number, runs: ArrayLike<number>): void {
  for (let i = 0; i < runs.length; i += 2) {
    const level = Math.floor(runs[i] / LEVEL_KEY_SPAN);
    const lo = runs[i] - level * LEVEL_KEY_SPAN;
    addBare(pool, head, level, lo, lo + runs[i + 1]);
  }
}

/** A run `tableRuns` may give: level and region indexes in range. */
export function validTableRun(key: number, count: number): boolean {
  const level = Math.floor(key / LEVEL_KEY_SPAN);
  if (!Number.isSafeInteger(key) || key < 0 || level >= LEVELS || count < 1) return false;
  return key - level * LEVEL_KEY_SPAN + count <= USER_PAGES / regionPages(level);
}

/**
 * The tables pages [lo, hi) have when they were all faulted in before the engine saw them (a
 * process the differential harness imports after its helper touched its own pages).
 */
export function addTablesOver(pool: PagePool, head: number, lo: number, hi: number): void {
  if (lo < hi)
    addBare(pool, head, LEVEL_PTE, regionOf(LEVEL_PTE, lo), regionOf(LEVEL_PTE, hi - 1) + 1);
}

/** Every bare table freed (exit_mmap), the tables record too. */
export function freeAllTables(pool: PagePool, head: number): void {
  const at = pool.w(head) + R_TABLES;
  const t = pool.i32[at];
  if (t === 0) return;
  freeList(pool, pool.w(t) + R_COUNT);
  pool.free(t);
  pool.i32[at] = 0;
}
