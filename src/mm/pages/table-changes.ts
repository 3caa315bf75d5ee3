/**
 * What faults and syscalls do to an mm's page tables (table-regions.ts keeps which it has): a
 * table that outlives the pages it mapped becomes a bare one; a freed table loses its bare entry
 * (its pages are gone by then). Linux 6.18, x86-64, mm/memory.c and mm/mremap.c:
 *
 *   faultUpperTables   __handle_mm_fault's pud_alloc/pmd_alloc for a fault that maps nothing
 *                      (SIGBUS past the end of a file); one that maps a page implies them
 *   zapKeepingTables   zap_page_range: the tables stay, also emptied; MADV_DONTNEED's zap
 *                      (`reclaim`, CONFIG_PT_RECLAIM) frees those of regions it empties whole
 *   freePgtables       free_pgtables()/free_pgd_range() after an unmap: the tables of regions
 *                      no VMA is left in (none of the VMA below or above them)
 *   planTableMove / applyTableMove   move_page_tables(), extent by extent
 *   copyTables         copy_page_range() into a fork child
 *
 * A PMD (PUD) table stays while a VMA is in its GiB (512 GiB) even when every PTE (PMD) table
 * below it went: such a table is recorded bare (`settleUpper`). Page lock held throughout.
 */
import type { PagePool } from './page-pool.js';
import {
  addBare,
  bareIntervals,
  dropBare,
  hasTable,
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PUD,
  LEVELS,
  regionOf,
  regionPages,
  tableIntervals,
} from './table-regions.js';

/** A fault at vp that mapped nothing still allocated the PUD and PMD tables on its way down. */
export function faultUpperTables(pool: PagePool, head: number, vp: number): void {
  if (!hasTable(pool, head, LEVEL_PMD, vp))
    addBare(pool, head, LEVEL_PMD, regionOf(LEVEL_PMD, vp), regionOf(LEVEL_PMD, vp) + 1);
}

/** The upper regions (GiB, 512 GiB) meeting pages [lo, hi) that have a table now, per level. */
function upperTables(pool: PagePool, head: number, lo: number, hi: number): number[][] {
  return [LEVEL_PMD, LEVEL_PUD].map((level) => upperWithTables(pool, head, level, lo, hi));
}

/** Regions a range may meet before upperWithTables walks its pages instead of looking each up. */
const LOOKUPS_MAX = 16;

/**
 * The regions of `level` meeting pages [lo, hi) that have a table: a lookup each when they are
 * few (an unmap or a VMA meets one or two, and then the pages of a whole GiB are not walked),
 * else from the runs and bare tables in the range (a huge range: the pages it holds, not each
 * of its regions).
 */
function upperWithTables(pool: PagePool, head: number, level: number, lo: number, hi: number) {
  const first = regionOf(level, lo);
  const last = regionOf(level, hi - 1);
  const out: number[] = [];
  if (last - first < LOOKUPS_MAX) {
    const n = regionPages(level);
    for (let idx = first; idx <= last; idx++)
      if (hasTable(pool, head, level, idx * n)) out.push(idx);
    return out;
  }
  const iv = tableIntervals(pool, head, level, lo, hi);
  for (let k = 0; k < iv.length; k += 2)
    for (let idx = iv[k]; idx < iv[k + 1]; idx++) out.push(idx);
  return out;
}

/**
 * After tables below were dropped in pages [lo, hi): an upper table that was there (`before`,
 * from `upperTables`) and is not freed itself (`freed(level, index)`) stays, bare if nothing
 * below it says so any more; a freed one loses its bare entry.
 */
function settleUpper(
  pool: PagePool,
  head: number,
  before: number[][],
  freed: (level: number, index: number) => boolean,
): void {
  [LEVEL_PMD, LEVEL_PUD].forEach((level, i) => {
    const n = regionPages(level);
    for (const idx of before[i]) {
      if (freed(level, idx)) dropBare(pool, head, level, idx, idx + 1);
      else if (!hasTable(pool, head, level, idx * n)) addBare(pool, head, level, idx, idx + 1);
    }
  });
}

/**
 * `zap` removes the pages [lo, hi) (page-table.ts zapPages); the PTE tables of the regions it
 * emptied stay, bare, except with `reclaim` (MADV_DONTNEED) those of the regions lying wholly
 * inside [lo, hi): zap_pte_range frees a table it emptied over its whole range (and a whole huge
 * PMD's deposit goes with zap_huge_pmd).
 */
export function zapKeepingTables(
  pool: PagePool,
  head: number,
  lo: number,
  hi: number,
  reclaim: boolean,
  zap: () => void,
): void {
  const had = tableIntervals(pool, head, LEVEL_PTE, lo, hi);
  const before = reclaim ? upperTables(pool, head, lo, hi) : null;
  zap();
  const n = regionPages(LEVEL_PTE);
  const inLo = Math.ceil(lo / n);
  const inHi = Math.floor(hi / n);
  for (let k = 0; k < had.length; k += 2) {
    // The regions wholly inside have no page left; the two edge regions may still hold some.
    const a = had[k];
    const b = had[k + 1];
    if (!reclaim) addBare(pool, head, LEVEL_PTE, Math.max(a, inLo), Math.min(b, inHi));
    for (const idx of [a, b - 1]) {
      const edge = idx < inLo || idx >= inHi;
      if (edge && !hasTable(pool, head, LEVEL_PTE, idx * n))
        addBare(pool, head, LEVEL_PTE, idx, idx + 1);
    }
  }
  if (before !== null) {
    dropBare(pool, head, LEVEL_PTE, inLo, inHi);
    settleUpper(pool, head, before, () => false);
  }
}

/**
 * free_pgtables() / free_pgd_range() after an unmap of pages [lo, hi) (its pages already
 * zapped): at each level, the tables of the regions that meet [lo, hi) and hold no VMA left —
 * no part of the VMA below (ending at page `floor`, 0 if none) or above (starting at page
 * `ceiling`, Infinity if none).
 */
export function freePgtables(
  pool: PagePool,
  head: number,
  lo: number,
  hi: number,
  floor: number,
  ceiling: number,
): void {
  if (lo >= hi) return;
  const before = upperTables(pool, head, lo, hi);
  const first: number[] = [];
  const last: number[] = [];
  for (let level = 0; level < LEVELS; level++) {
    const n = regionPages(level);
    let a = Math.floor(lo / n);
    let b = Math.floor((hi - 1) / n);
    if (a * n < floor) a++;
    if ((b + 1) * n > ceiling) b--;
    first.push(a);
    last.push(b);
    dropBare(pool, head, level, a, b + 1);
  }
  settleUpper(pool, head, before, (level, idx) => idx >= first[level] && idx <= last[level]);
}

/** get_extent(): pages from `old` to the next `level` boundary of either side, within `end`. */
function extentAt(old: number, nu: number, end: number, level: number): number {
  const n = regionPages(level);
  return Math.min(n - (old % n), n - (nu % n), end - old);
}

// Steps of a table move (planTableMove), each with its page(s).
const PUD_AT = 0; // alloc_new_pud at nu
const PMD_AT = 1; // alloc_new_pmd at nu
const PTE_AT = 2; // pte_alloc at nu; the source region keeps its PTE table (move_ptes)
const MOVE_PTE = 3; // move_normal_pmd / move_huge_pmd: the PTE table goes from old to nu
const MOVE_PMD = 4; // move_normal_pud: the PMD table (and the PTE tables below) go

/**
 * move_page_tables() of pages [from, end) to `to` (both already realigned by the caller, as
 * try_realign_addr() does), decided on the tables before the pages move: where the source has a
 * PMD table the destination gets a PUD table, where it has a PTE table a PMD table; a whole
 * aligned 1 GiB or 2 MiB extent moves its table when the destination has none, anything else
 * gets a destination PTE table and the source keeps its own, even emptied. Returns the steps
 * for `applyTableMove`, to run once the pages moved.
 */
export function planTableMove(
  pool: PagePool,
  head: number,
  from: number,
  end: number,
  to: number,
): number[] {
  const steps: number[] = [];
  for (let old = from, nu = to; old < end; ) {
    let extent = extentAt(old, nu, end, LEVEL_PMD);
    if (hasTable(pool, head, LEVEL_PMD, old)) {
      steps.push(PUD_AT, old, nu);
      if (extent === regionPages(LEVEL_PMD) && !hasTable(pool, head, LEVEL_PMD, nu)) {
        steps.push(MOVE_PMD, old, nu);
      } else {
        extent = extentAt(old, nu, end, LEVEL_PTE);
        if (hasTable(pool, head, LEVEL_PTE, old)) {
          steps.push(PMD_AT, old, nu);
          const whole = extent === regionPages(LEVEL_PTE) && !hasTable(pool, head, LEVEL_PTE, nu);
          steps.push(whole ? MOVE_PTE : PTE_AT, old, nu);
        }
      }
    }
    old += extent;
    nu += extent;
  }
  return steps;
}

/** The steps of `planTableMove` after the pages moved (movePages). */
export function applyTableMove(pool: PagePool, head: number, steps: readonly number[]): void {
  const ensure = (level: number, vp: number) => {
    if (!hasTable(pool, head, level, vp))
      addBare(pool, head, level, regionOf(level, vp), regionOf(level, vp) + 1);
  };
  for (let i = 0; i < steps.length; i += 3) {
    const old = steps[i + 1];
    const nu = steps[i + 2];
    switch (steps[i]) {
      case PUD_AT:
        ensure(LEVEL_PUD, nu);
        break;
      case PMD_AT:
        ensure(LEVEL_PMD, nu);
        break;
      case PTE_AT:
        ensure(LEVEL_PTE, nu);
        ensure(LEVEL_PTE, old);
        break;
      case MOVE_PTE:
        moveBare(pool, head, LEVEL_PTE, old, nu);
        ensure(LEVEL_PTE, nu);
        ensure(LEVEL_PMD, old); // the source's PMD table stays
        break;
      case MOVE_PMD:
        moveBare(pool, head, LEVEL_PMD, old, nu);
        ensure(LEVEL_PMD, nu);
        ensure(LEVEL_PUD, old); // the source's PUD table stays
        break;
    }
  }
}

/** The bare tables at or below `level` of old's `level` region move to nu's. */
function moveBare(pool: PagePool, head: number, level: number, old: number, nu: number): void {
  const n = regionPages(level);
  const lo = Math.floor(old / n) * n;
  const shift = Math.floor(nu / n) * n - lo;
  for (let l = level; l >= 0; l--) {
    const m = regionPages(l);
    const bare = bareIntervals(pool, head, l, lo, lo + n);
    dropBare(pool, head, l, lo / m, (lo + n) / m);
    for (let k = 0; k < bare.length; k += 2) {
      addBare(pool, head, l, bare[k] + shift / m, bare[k + 1] + shift / m);
    }
  }
}

/**
 * copy_page_range() into a fork child for pages [lo, hi) of a VMA it copies (vma_needs_copy), the
 * child's pages already copied: the child gets a table wherever the parent has one in the VMA's
 * regions (copy_pud_range/pud_alloc, copy_pmd_range/pmd_alloc, copy_pte_range/pte_alloc or
 * copy_huge_pmd's deposit), even one that maps no page. `childHead` gives (creating it) the
 * child's page-table head.
 */
export function copyTables(
  pool: PagePool,
  parent: number,
  childHead: () => number,
  lo: number,
  hi: number,
): void {
  const give = (level: number, idx: number) => {
    const child = childHead();
    const n = regionPages(level);
    if (!hasTable(pool, child, level, idx * n)) addBare(pool, child, level, idx, idx + 1);
  };
  // PTE tables from the parent's pages and bare tables in the VMA's regions (not each region
  // of a large VMA); the few GiB and 512 GiB regions it meets one by one.
  const iv = tableIntervals(pool, parent, LEVEL_PTE, lo, hi);
  for (let k = 0; k < iv.length; k += 2) {
    for (let idx = iv[k]; idx < iv[k + 1]; idx++) give(LEVEL_PTE, idx);
  }
  for (const level of [LEVEL_PMD, LEVEL_PUD]) {
    for (const idx of upperWithTables(pool, parent, level, lo, hi)) give(level, idx);
  }
}
