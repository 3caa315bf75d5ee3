/**
 * Sorted singly-linked lists of page runs in the page-state pool (page lock held throughout).
 * A list is named by the Int32 word that holds its head (`headWord`); runs do not overlap and
 * are kept in ascending `key` order. Used for an mm's page table (key = virtual page) and for an
 * object's mapcounts (key = object page). Two neighbouring runs are merged when they continue
 * each other: contiguous keys and object pages, equal bits and obj.
 *
 * Every lookup starts from the list's skip-list index (run-index.ts): O(log runs) to reach a
 * page, then a walk over the runs the operation touches. Runs are linked and unlinked only
 * here (`insertAfter`, `removeAfter`, `freeList`), which keep the index in step.
 */
import type { PagePool } from './page-pool.js';
import { freeIndex, indexInsert, indexRemove, lastRunBefore } from './run-index.js';

export { lastRunBefore } from './run-index.js';

/** Link run `r` (not in any list) after `prev` (0: at the head) and index it. */
export function insertAfter(pool: PagePool, headWord: number, prev: number, r: number): void {
  if (prev === 0) {
    pool.setNext(r, pool.i32[headWord]);
    pool.i32[headWord] = r;
  } else {
    pool.setNext(r, pool.next(prev));
    pool.setNext(prev, r);
  }
  indexInsert(pool, headWord, r);
}

/** Unlink the run after `prev` (0: the first run) and return it (not freed). */
export function removeAfter(pool: PagePool, headWord: number, prev: number): number {
  const r = prev === 0 ? pool.i32[headWord] : pool.next(prev);
  indexRemove(pool, headWord, r);
  if (prev === 0) pool.i32[headWord] = pool.next(r);
  else pool.setNext(prev, pool.next(r));
  if (pool.i32[headWord] === 0) freeIndex(pool, headWord);
  return r;
}

/** Free every run of the list and its index; the list is left empty. */
export function freeList(pool: PagePool, headWord: number): void {
  freeIndex(pool, headWord);
  for (let r = pool.i32[headWord]; r !== 0; ) {
    const next = pool.next(r);
    pool.free(r);
    r = next;
  }
  pool.i32[headWord] = 0;
}

/** The first run of the list after `prev` (0: the first run of the list). */
export function runAfter(pool: PagePool, headWord: number, prev: number): number {
  return prev === 0 ? pool.i32[headWord] : pool.next(prev);
}

/**
 * The first run that ends after `page` (contains it or lies above it), or 0: where a walk over
 * the runs from `page` upwards starts.
 */
export function firstRunFrom(pool: PagePool, headWord: number, page: number): number {
  const r = lastRunBefore(pool, headWord, page, true);
  if (r !== 0 && page < pool.key(r) + pool.count(r)) return r;
  return runAfter(pool, headWord, r);
}

/** The run containing `page`, or 0. */
export function findRun(pool: PagePool, headWord: number, page: number): number {
  const r = lastRunBefore(pool, headWord, page, true);
  if (r !== 0 && page < pool.key(r) + pool.count(r)) return r;
  return 0;
}

/** Make `page` a run boundary: a run covering it strictly inside is cut in two. */
export function splitAt(pool: PagePool, headWord: number, page: number): void {
  const r = findRun(pool, headWord, page);
  if (r === 0) return;
  const k = pool.key(r);
  if (k === page) return;
  const nu = pool.alloc();
  const left = page - k;
  pool.setKey(nu, page);
  pool.setOpage(nu, pool.opage(r) + left);
  pool.setCount(nu, pool.count(r) - left);
  pool.setBits(nu, pool.bits(r));
  pool.setObj(nu, pool.obj(r));
  pool.setCount(r, left);
  insertAfter(pool, headWord, r, nu);
}

/**
 * Unlink the runs inside [lo, hi) (edges split first) and hand each to `take` (which frees or
 * keeps it). The list is left without them.
 */
export function unlinkRange(
  pool: PagePool,
  headWord: number,
  lo: number,
  hi: number,
  take: (r: number) => void,
): void {
  splitAt(pool, headWord, lo);
  splitAt(pool, headWord, hi);
  const prev = lastRunBefore(pool, headWord, lo, false);
  for (let r = runAfter(pool, headWord, prev); r !== 0 && pool.key(r) < hi; ) {
    take(removeAfter(pool, headWord, prev));
    r = runAfter(pool, headWord, prev);
  }
}

/** Link run `r` (not in any list; its range is free in this list) in order. */
export function linkRun(pool: PagePool, headWord: number, r: number): void {
  insertAfter(pool, headWord, lastRunBefore(pool, headWord, pool.key(r), false), r);
}

function continues(pool: PagePool, a: number, b: number): boolean {
  const n = pool.count(a);
  return (
    pool.key(a) + n === pool.key(b) &&
    pool.bits(a) === pool.bits(b) &&
    pool.obj(a) === pool.obj(b) &&
    pool.opage(a) + n === pool.opage(b)
  );
}

/** Merge neighbouring runs that continue each other, for runs touching [lo, hi]. */
export function coalesce(pool: PagePool, headWord: number, lo: number, hi: number): void {
  // Runs before the last one starting below lo end below lo: they touch nothing in [lo, hi].
  let r = lastRunBefore(pool, headWord, lo, false);
  if (r === 0) r = pool.i32[headWord];
  while (r !== 0) {
    const next = pool.next(r);
    if (next === 0) return;
    if (pool.key(next) > hi) return;
    if (pool.key(r) + pool.count(r) >= lo && continues(pool, r, next)) {
      pool.setCount(r, pool.count(r) + pool.count(next));
      pool.free(removeAfter(pool, headWord, r));
      continue;
    }
    r = next;
  }
}

/** Apply `fn(r)` to each run overlapping [lo, hi) after splitting at the edges (so runs lie inside). */
export function forEachInside(
  pool: PagePool,
  headWord: number,
  lo: number,
  hi: number,
  fn: (r: number) => void,
): void {
  splitAt(pool, headWord, lo);
  splitAt(pool, headWord, hi);
  const prev = lastRunBefore(pool, headWord, lo, false);
  for (let r = runAfter(pool, headWord, prev); r !== 0 && pool.key(r) < hi; r = pool.next(r)) {
    fn(r);
  }
}
