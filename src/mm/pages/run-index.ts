/**
 * The search index of a run list (run-list.ts): a skip list over the list's runs, built of
 * page-pool records (so every thread sees it) and protected, like the list, by the page lock.
 * It makes finding a page's run O(log runs) instead of a walk from the head, the way the
 * kernel's page-table walk is a fixed number of levels whatever the size of the address space.
 *
 * Level 0 is the run list itself. A run's tower height is a hash of its record number, so it is
 * deterministic: 1 run in 8 reaches level 1, 1 in 64 level 2, ... up to MAX_LEVEL (expected
 * cost: a seventh of a 32-byte record per run, ~4.6 B; a lookup visits ~4 records per level).
 * Runs never overlap and have at least one page, so a key names one run; a run's key never
 * changes while it is linked (movers unlink, re-key, relink).
 *   index record   slot R_KEY = the run's key; word R_COUNT = down (the index record one level
 *                  below, the run itself at level 1); word R_NEXT = next at its level
 *   header record  words 0..MAX_LEVEL-1 = the first index record of levels 1..MAX_LEVEL; one per
 *                  list that has a tower, freed with its last run. Its number is kept at word
 *                  `headWord - 2` (slot R_OPAGE of the page-table and object head records, which
 *                  nothing else uses).
 */
import { type PagePool, R_COUNT } from './page-pool.js';

const MAX_LEVEL = 8;
/** Where the header's record number is, relative to the list's head word. */
const HEADER = -2;

/** The number of index levels above run r (0..MAX_LEVEL), from a hash of its record number. */
function towerHeight(r: number): number {
  let h = Math.imul(r ^ (r >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h ^= h >>> 16;
  let level = 0;
  while (level < MAX_LEVEL && (h & 7) === 0) {
    level++;
    h >>>= 3;
  }
  return level;
}

function down(pool: PagePool, x: number): number {
  return pool.i32[pool.w(x) + R_COUNT];
}

/**
 * The last run of the list whose key is < `page` (or <= `page` when `inclusive`), 0 when there
 * is none (page lock).
 */
export function lastRunBefore(
  pool: PagePool,
  headWord: number,
  page: number,
  inclusive: boolean,
): number {
  const hdr = pool.i32[headWord + HEADER];
  let cur = 0;
  if (hdr !== 0) {
    const hb = pool.w(hdr);
    for (let l = MAX_LEVEL - 1; l >= 0; l--) {
      let x = cur === 0 ? pool.i32[hb + l] : pool.next(cur);
      while (x !== 0 && (pool.key(x) < page || (inclusive && pool.key(x) === page))) {
        cur = x;
        x = pool.next(x);
      }
      if (cur !== 0) cur = down(pool, cur);
    }
  }
  let x = cur === 0 ? pool.i32[headWord] : pool.next(cur);
  while (x !== 0 && (pool.key(x) < page || (inclusive && pool.key(x) === page))) {
    cur = x;
    x = pool.next(x);
  }
  return cur;
}

/** Per-thread scratch: the index record before key k at each level (0: before the first). */
const update = new Int32Array(MAX_LEVEL);

/** Fill `update` with the last index record below key `k` at each level of header `hb`. */
function findPredecessors(pool: PagePool, hb: number, k: number): void {
  let cur = 0;
  for (let l = MAX_LEVEL - 1; l >= 0; l--) {
    let x = cur === 0 ? pool.i32[hb + l] : pool.next(cur);
    while (x !== 0 && pool.key(x) < k) {
      cur = x;
      x = pool.next(x);
    }
    update[l] = cur;
    if (cur !== 0) cur = down(pool, cur);
  }
}

/** Index run r, just linked into the list (page lock). */
export function indexInsert(pool: PagePool, headWord: number, r: number): void {
  const height = towerHeight(r);
  if (height === 0) return;
  let hdr = pool.i32[headWord + HEADER];
  if (hdr === 0) {
    hdr = pool.alloc();
    pool.i32[headWord + HEADER] = hdr;
  }
  const hb = pool.w(hdr);
  const k = pool.key(r);
  findPredecessors(pool, hb, k);
  let below = r;
  for (let l = 0; l < height; l++) {
    const x = pool.alloc();
    pool.setKey(x, k);
    pool.setCount(x, below);
    const p = update[l];
    if (p === 0) {
      pool.setNext(x, pool.i32[hb + l]);
      pool.i32[hb + l] = x;
    } else {
      pool.setNext(x, pool.next(p));
      pool.setNext(p, x);
    }
    below = x;
  }
}

/** Drop run r's tower (r is still linked, its key unchanged) (page lock). */
export function indexRemove(pool: PagePool, headWord: number, r: number): void {
  const height = towerHeight(r);
  if (height === 0) return;
  const hb = pool.w(pool.i32[headWord + HEADER]);
  findPredecessors(pool, hb, pool.key(r));
  for (let l = 0; l < height; l++) {
    const p = update[l];
    const x = p === 0 ? pool.i32[hb + l] : pool.next(p);
    if (p === 0) pool.i32[hb + l] = pool.next(x);
    else pool.setNext(p, pool.next(x));
    pool.free(x);
  }
}

/** Free every index record and the header (the list is empty, or being freed whole) (page lock). */
export function freeIndex(pool: PagePool, headWord: number): void {
  const hdr = pool.i32[headWord + HEADER];
  if (hdr === 0) return;
  const hb = pool.w(hdr);
  for (let l = 0; l < MAX_LEVEL; l++) {
    for (let x = pool.i32[hb + l]; x !== 0; ) {
      const next = pool.next(x);
      pool.free(x);
      x = next;
    }
  }
  pool.free(hdr);
  pool.i32[headWord + HEADER] = 0;
}
