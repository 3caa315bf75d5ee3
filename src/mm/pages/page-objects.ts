/**
 * Page objects: what a mapped page belongs to, with each page's mapcount (CONFIG_PAGE_MAPCOUNT:
 * exact per page), so Pss and Shared/Private are exact across processes.
 *
 *   file     a regular file's page cache (one object per FileTable id; every page is taken to be
 *            cached, as on a machine that has read the file; pages past `size` do not exist;
 *            a page written through a shared mapping stays dirty while unmapped: no writeback)
 *   shmem    a shmem file (MAP_SHARED|MAP_ANONYMOUS): pages exist once faulted (OBJ_RESIDENT),
 *            also while nothing maps them; `size` is the object's size (SIGBUS past it)
 *   anon     anonymous pages shared copy-on-write after fork: created by fork for the pages it
 *            shares; a page leaves it when a write breaks the sharing (or its last mapping goes)
 * An exclusive anonymous page has no object (mapcount 1, obj 0 in its page-table run).
 *
 * Object head record: word R_COUNT = head of its runs, R_BITS = kind, slot R_KEY = size in pages
 * (-1: unknown, no end). Object run: key = first object page, opage = key, R_BITS = mapcount,
 * R_OBJ = OBJ_* flags. Everything under the page lock (page-pool.ts).
 */
import { type PagePool, R_COUNT } from './page-pool.js';
import {
  coalesce,
  firstRunFrom,
  forEachInside,
  freeList,
  insertAfter,
  lastRunBefore,
  removeAfter,
  runAfter,
} from './run-list.js';

export const OBJ_ANON = 1;
export const OBJ_FILE = 2;
export const OBJ_SHMEM = 3;

/** The folio is dirty (written through a shared mapping: every mapping sees it dirty). */
export const OBJ_DIRTY = 1;
/** A shmem page that exists in the object (kept while unmapped). */
export const OBJ_RESIDENT = 2;
/** The folio's PG_referenced / PG_active (mark_page_accessed() on the classic LRU): smaps counts
 * a referenced page `Referenced` even through an old PTE (a fork child's copy). */
export const OBJ_REFERENCED = 4;
const OBJ_ACTIVE = 8;
/** What an unmapped page keeps: shmem pages exist, dirty page-cache pages stay dirty (there is
 * no writeback: a later mapping of the page shows it `*_Dirty`, as on the host within the
 * dirty-expire interval). */
const OBJ_KEPT = OBJ_RESIDENT | OBJ_DIRTY | OBJ_REFERENCED | OBJ_ACTIVE;

export function objHeadWord(pool: PagePool, obj: number): number {
  return pool.w(obj) + R_COUNT;
}

export function objKind(pool: PagePool, obj: number): number {
  return pool.bits(obj);
}

/** Size in pages, or -1 when unknown. */
export function objSize(pool: PagePool, obj: number): number {
  return pool.key(obj);
}

export function createObject(pool: PagePool, kind: number, sizePages: number): number {
  const o = pool.alloc();
  pool.setBits(o, kind);
  pool.setKey(o, sizePages);
  pool.setObj(o, 0); // the head's flags (HEAD_*)
  return o;
}

/** Head flag (word R_OBJ of an object's head): the file's last read ended in its first page. */
const HEAD_READ_IN_PAGE0 = 1;

/**
 * A read of the first page of file object `obj` through the page cache, as read() does it (the
 * ELF header read of PROCMAP_QUERY's build id): filemap_read marks the folio accessed unless the
 * file's last read ended in the same folio (`ra->prev_pos`), so only the first of a run of such
 * reads marks it (measured on the host: one, two or four build-id queries leave the page
 * Referenced; a populate before or after one turns it into a second mark). A regular file's
 * object, which has no size here (every page exists). Page lock.
 */
export function readFirstPage(pool: PagePool, obj: number): void {
  const head = pool.obj(obj);
  if (head & HEAD_READ_IN_PAGE0) return;
  markObjectAccessed(pool, obj, 0, 1);
  pool.setObj(obj, head | HEAD_READ_IN_PAGE0);
}

/** The object of a file (created on first use). */
export function fileObject(pool: PagePool, fileId: number, shmem: boolean): number {
  let o = pool.fileObject(fileId);
  if (o === 0) {
    o = createObject(pool, shmem ? OBJ_SHMEM : OBJ_FILE, -1);
    pool.setFileObject(fileId, o);
  }
  return o;
}

/**
 * The last reference to file `fileId` is gone (no VMA maps it, fput of the last file): its
 * object and every run in it are freed, so the FileTable id, reused after a grace period,
 * starts without pages (page lock).
 */
export function dropFileObject(pool: PagePool, fileId: number): void {
  const o = pool.fileObject(fileId);
  if (o === 0) return;
  freeList(pool, objHeadWord(pool, o));
  pool.free(o);
  pool.setFileObject(fileId, 0);
}

/** Record a file's size in bytes (shmem objects at creation; regular files when known). */
export function setFileSize(pool: PagePool, fileId: number, shmem: boolean, bytes: number): void {
  pool.setKey(fileObject(pool, fileId, shmem), Math.ceil(bytes / 4096));
}

/**
 * Pages [opage, opage + n) of `obj`: mapcount += delta, flags |= setFlags. Runs whose mapcount
 * falls to 0 and that hold neither a resident shmem page nor a dirty page are dropped; an anonymous object left empty is
 * freed (returns false then, true while it lives).
 */
export function adjustObject(
  pool: PagePool,
  obj: number,
  opage: number,
  n: number,
  delta: number,
  setFlags: number,
): boolean {
  const head = objHeadWord(pool, obj);
  fillGaps(pool, head, opage, opage + n);
  let dead = false;
  forEachInside(pool, head, opage, opage + n, (r) => {
    pool.setBits(r, pool.bits(r) + delta);
    pool.setObj(r, pool.obj(r) | setFlags);
    if (pool.bits(r) <= 0 && (pool.obj(r) & OBJ_KEPT) === 0) dead = true;
  });
  if (dead) removeDead(pool, head, opage, opage + n);
  coalesce(pool, head, opage, opage + n);
  if (pool.i32[head] === 0 && objKind(pool, obj) === OBJ_ANON) {
    pool.free(obj);
    return false;
  }
  return true;
}

/**
 * folio_mark_accessed() on pages [opage, opage + n) of `obj` (zap of a young PTE): an
 * unreferenced folio becomes referenced, a referenced inactive one active and unreferenced, an
 * active one referenced (the host shows referenced after one and three marks, not after two).
 */
export function markObjectAccessed(pool: PagePool, obj: number, opage: number, n: number): void {
  const head = objHeadWord(pool, obj);
  fillGaps(pool, head, opage, opage + n);
  forEachInside(pool, head, opage, opage + n, (r) => {
    const f = pool.obj(r);
    if (!(f & OBJ_REFERENCED)) pool.setObj(r, f | OBJ_REFERENCED);
    else if (!(f & OBJ_ACTIVE)) pool.setObj(r, (f | OBJ_ACTIVE) & ~OBJ_REFERENCED);
  });
  coalesce(pool, head, opage, opage + n);
}

/** Drop the runs of [lo, hi) (edges already split there) left with no mapping and nothing kept. */
function removeDead(pool: PagePool, head: number, lo: number, hi: number): void {
  let prev = lastRunBefore(pool, head, lo, false);
  for (let r = runAfter(pool, head, prev); r !== 0 && pool.key(r) < hi; ) {
    if (pool.bits(r) <= 0 && (pool.obj(r) & OBJ_KEPT) === 0) {
      pool.free(removeAfter(pool, head, prev));
    } else {
      prev = r;
    }
    r = runAfter(pool, head, prev);
  }
}

/** Insert mapcount-0 runs over the parts of [lo, hi) no run covers. */
function fillGaps(pool: PagePool, head: number, lo: number, hi: number): void {
  // prev: the last run starting below `at`; r: the run after it.
  let prev = lastRunBefore(pool, head, lo, false);
  let r = runAfter(pool, head, prev);
  let at = lo;
  while (at < hi) {
    if (prev !== 0 && pool.key(prev) + pool.count(prev) > at) {
      // prev covers at
      at = pool.key(prev) + pool.count(prev);
      continue;
    }
    const gapEnd = r === 0 ? hi : Math.min(hi, pool.key(r));
    if (gapEnd > at) {
      const nu = pool.alloc();
      pool.setKey(nu, at);
      pool.setOpage(nu, at);
      pool.setCount(nu, gapEnd - at);
      insertAfter(pool, head, prev, nu);
      prev = nu;
      at = gapEnd;
      continue;
    }
    // r starts at `at`
    prev = r;
    r = pool.next(r);
  }
}

/**
 * Calls fn(first, count, mapcount, flags) for the object runs over [opage, opage + n), in order
 * (pages no run covers are reported with mapcount 0, flags 0). Does not change the list.
 */
export function forEachObjectPage(
  pool: PagePool,
  obj: number,
  opage: number,
  n: number,
  fn: (first: number, count: number, mapcount: number, flags: number) => void,
): void {
  const end = opage + n;
  let at = opage;
  const head = objHeadWord(pool, obj);
  for (let r = firstRunFrom(pool, head, opage); r !== 0 && at < end; r = pool.next(r)) {
    const k = pool.key(r);
    const e = k + pool.count(r);
    if (e <= at) continue;
    if (k > at) {
      const gap = Math.min(k, end) - at;
      fn(at, gap, 0, 0);
      at += gap;
      if (at >= end) break;
    }
    const c = Math.min(e, end) - at;
    fn(at, c, pool.bits(r), pool.obj(r));
    at += c;
  }
  if (at < end) fn(at, end - at, 0, 0);
}
