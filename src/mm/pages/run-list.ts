/**
 * Sorted singly-linked lists of page runs in the page-state pool (page lock held throughout).
 * A list is named by the Int32 word that holds its head (`headWord`); runs do not overlap and
 * are kept in ascending `key` order. Used for an mm's page table (key = virtual page) and for an
 * object's mapcounts (key = object page). Two neighbouring runs are merged when they continue
 * each other: contiguous keys and object pages, equal bits and obj.
 */
import type { PagePool } from './page-pool.js';

/** The run containing `page`, or 0; `prevOut[0]` gets the run before it (or the last run before `page`). */
export function findRun(
  pool: PagePool,
  headWord: number,
  page: number,
  prevOut?: number[],
): number {
  let prev = 0;
  let r = pool.i32[headWord];
  while (r !== 0) {
    const k = pool.key(r);
    if (k > page) break;
    if (page < k + pool.count(r)) {
      if (prevOut) prevOut[0] = prev;
      return r;
    }
    prev = r;
    r = pool.next(r);
  }
  if (prevOut) prevOut[0] = prev;
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
  pool.setNext(nu, pool.next(r));
  pool.setCount(r, left);
  pool.setNext(r, nu);
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
  let prev = 0;
  let r = pool.i32[headWord];
  while (r !== 0 && pool.key(r) < lo) {
    prev = r;
    r = pool.next(r);
  }
  while (r !== 0 && pool.key(r) < hi) {
    const next = pool.next(r);
    take(r);
    r = next;
  }
  if (prev === 0) pool.i32[headWord] = r;
  else pool.setNext(prev, r);
}

/** Link run `r` (not in any list; its range is free in this list) in order. */
export function linkRun(pool: PagePool, headWord: number, r: number): void {
  const key = pool.key(r);
  let prev = 0;
  let cur = pool.i32[headWord];
  while (cur !== 0 && pool.key(cur) < key) {
    prev = cur;
    cur = pool.next(cur);
  }
  pool.setNext(r, cur);
  if (prev === 0) pool.i32[headWord] = r;
  else pool.setNext(prev, r);
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
  let r = pool.i32[headWord];
  while (r !== 0) {
    const next = pool.next(r);
    if (next === 0) return;
    if (pool.key(next) > hi) return;
    if (pool.key(r) + pool.count(r) >= lo && continues(pool, r, next)) {
      pool.setCount(r, pool.count(r) + pool.count(next));
      pool.setNext(r, pool.next(next));
      pool.free(next);
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
  for (let r = pool.i32[headWord]; r !== 0 && pool.key(r) < hi; r = pool.next(r)) {
    if (pool.key(r) >= lo) fn(r);
  }
}
