/**
 * The range checks and the VMA walk every madvise-style call shares: mm/madvise.c (Linux 6.18)
 * madvise_should_skip()'s range part and madvise_walk_vmas(). Used by madvise() and by
 * prctl(PR_SET_VMA_ANON_NAME), which the kernel runs through the same walk.
 */
import { EINVAL, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { add64, offsetInPage, pageAlign64 } from './u64.js';

/**
 * The end of [start, start + PAGE_ALIGN(lenIn)), or -EINVAL: an unaligned start, a length that
 * PAGE_ALIGN wraps to 0 (a small negative one), or an end that wraps. `end === start`: nothing to
 * do (the call answers 0).
 */
export function madviseRangeEnd(start: number, lenIn: number): number {
  if (offsetInPage(start)) return -EINVAL;
  const len = pageAlign64(lenIn);
  if (lenIn !== 0 && len === 0) return -EINVAL;
  const end = add64(start, len);
  if (end < start) return -EINVAL;
  return end;
}

/**
 * What the walk does to one VMA: [start, end) lies inside `vma`; `prev` is the VMA before
 * `start` (`vma` itself when start is inside it). Returns the VMA now covering the range (which
 * may extend beyond it after a merge), or -errno to stop the walk with that error.
 */
export type MadviseVisitor = (prev: number, vma: number, start: number, end: number) => number;

/**
 * madvise_walk_vmas(): visits each VMA part of [startIn, lastEnd) in address order. The first
 * error stops the walk and is returned (the VMAs before it keep their change); holes do not stop
 * it, the walk returns ENOMEM at the end instead; no VMA at or after the next start: ENOMEM.
 */
export function madviseWalkVmas(
  mm: MmStruct,
  startIn: number,
  lastEnd: number,
  visit: MadviseVisitor,
): number {
  const v = mm.vmas;
  let start = startIn;
  let unmappedError = 0;
  let vma = mm.findVma(start);
  let prev = vma !== 0 && start > v.start(vma) ? vma : mm.findVmaPrev(start);
  for (;;) {
    if (vma === 0) return -ENOMEM;
    if (start < v.start(vma)) {
      // A gap in the range: carry on, report ENOMEM at the end.
      unmappedError = -ENOMEM;
      start = v.start(vma);
      if (start >= lastEnd) break;
    }
    let end = Math.min(v.end(vma), lastEnd);
    const res = visit(prev, vma, start, end);
    if (res < 0) return res;
    vma = res;
    prev = vma;
    if (end < v.end(vma)) end = v.end(vma);
    if (end >= lastEnd) break;
    vma = mm.findVma(v.end(vma));
    start = end;
  }
  return unmappedError;
}
