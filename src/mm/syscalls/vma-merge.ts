/**
 * VMA merging, as mm/vma.c does it (Linux 6.18), for never-faulted memory.
 *
 * Mirrors:
 *   is_mergeable_vma(), can_vma_merge_before/after(), can_vma_merge_left/right(),
 *   can_merge_remove_vma(), commit_merge(), vma_expand(), vma_merge_new_range(),
 *   vma_merge_existing_range(), vma_merge_copied_range().
 *
 * The rules:
 *   - two VMAs merge when adjacent, with equal vm_flags (VM_SOFTDIRTY ignored), the same file,
 *     equal anon names (by content) and contiguous vm_pgoff (the left one's pgoff + its pages ==
 *     the right one's pgoff); anonymous private VMAs carry pgoff = start >> PAGE_SHIFT, so they
 *     are contiguous exactly when adjacent;
 *   - VM_SPECIAL (VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP) VMAs never merge;
 *   - a VMA with a close op (special mappings) is never removed by a merge;
 *   - is_mergeable_anon_vma() always passes: memory is never faulted except where mmap() itself
 *     populates it, and those anon_vmas are taken as compatible (anon-vma.ts); mempolicy and
 *     userfaultfd contexts are all NULL.
 *
 * Store updates follow commit_merge(): the surviving ("target") VMA record is resized in place
 * and published over its new range with one index store, which drops or trims the entries of the
 * VMAs it absorbs; absorbed VMAs are then detached and retired.
 */
import type { MmStruct } from '../mm-struct.js';
import { pagesSplitHuge } from '../pages/page-hooks.js';
import { hasCloseOp } from '../special-mappings.js';
import { PAGE_SIZE, VM_IGNORE_MERGE, VM_SPECIAL } from '../vm-flags.js';
import { ANON_VMA_BITS, anonVmaOf, dupAnonVma, isForkChildFlags } from './anon-vma.js';
import { indexStore } from './index-ops.js';
import { vmaMarkDetached, vmaStartWrite } from './vma-lock-hooks.js';

/**
 * struct vma_merge_struct: the proposed range and attributes, the neighbours, and the plan.
 * One instance per thread (`vmg`), reset by each user, so merging allocates nothing.
 */
export class MergeState {
  mm!: MmStruct;
  prev = 0;
  middle = 0;
  next = 0;
  target = 0;
  start = 0;
  end = 0;
  /** vm_pgoff of `start` for the proposed attributes, in pages. */
  pgoff = 0;
  flags = 0;
  file = 0;
  anonName = 0;
  /** vmg->anon_vma as flag bits (anon-vma.ts): that of the VMA the range comes from, or 0. */
  anonFlags = 0;
  /** vma_merge_copied_range(): the VMA mremap() copies from (its anon_vma would be cloned). */
  copiedFrom = 0;
  /** do_brk_flags(): only expand prev, never merge next. */
  justExpand = false;
  removeMiddle = false;
  removeNext = false;
  adjustMiddleStart = false;
  adjustNextStart = false;

  /** VMG_STATE: a proposed new range with explicit attributes. */
  init(
    mm: MmStruct,
    start: number,
    end: number,
    flags: number,
    file: number,
    pgoff: number,
    anonName: number,
  ): this {
    this.mm = mm;
    this.prev = 0;
    this.middle = 0;
    this.next = 0;
    this.target = 0;
    this.start = start;
    this.end = end;
    this.pgoff = pgoff;
    this.flags = flags;
    this.file = file;
    this.anonName = anonName;
    this.anonFlags = 0;
    this.copiedFrom = 0;
    this.justExpand = false;
    this.removeMiddle = false;
    this.removeNext = false;
    this.adjustMiddleStart = false;
    this.adjustNextStart = false;
    return this;
  }

  /**
   * VMG_VMA_STATE: a range [start, end) inside `vma` keeping vma's attributes (callers then
   * override the attribute they change); pgoff is vma's pgoff at `start`.
   */
  initFromVma(mm: MmStruct, prev: number, vma: number, start: number, end: number): this {
    const v = mm.vmas;
    this.init(
      mm,
      start,
      end,
      v.flags(vma),
      v.file(vma),
      v.pgoff(vma) + (start - v.start(vma)) / PAGE_SIZE,
      v.anonName(vma),
    );
    this.prev = prev;
    this.middle = vma;
    this.anonFlags = v.flags(vma);
    return this;
  }
}

/** This thread's merge state. */
export const vmg = new MergeState();

function pages(bytes: number): number {
  return bytes / PAGE_SIZE;
}

/** is_mergeable_vma(): `other` has the proposed flags (modulo VM_IGNORE_MERGE), file and name. */
export function isMergeableVma(g: MergeState, other: number): boolean {
  const v = g.mm.vmas;
  if (((v.flags(other) ^ g.flags) & ~(VM_IGNORE_MERGE | ANON_VMA_BITS)) !== 0) return false;
  if (v.file(other) !== g.file) return false;
  return g.mm.anonNames.equalContent(v.anonName(other), g.anonName);
}

/** The VMA has an anon_vma inherited through fork (vma_is_fork_child). */
function isForkChild(g: MergeState, id: number): boolean {
  return id !== 0 && isForkChildFlags(g.mm.vmas.flags(id));
}

/**
 * is_mergeable_anon_vma(): g.anonFlags is the proposal's anon_vma state (vmg->anon_vma: that of
 * the VMA the range comes from, none for a new mapping); see anon-vma.ts.
 */
function isMergeableAnonVma(g: MergeState, tgt: number): boolean {
  const src = anonVmaOf(g.anonFlags);
  const tgtFlags = g.mm.vmas.flags(tgt);
  const dst = anonVmaOf(tgtFlags);
  // Case 1: the target would take the source's anon_vma (not from a fork child).
  if (dst === 0 && src !== 0) return !isForkChild(g, g.middle) && !isForkChild(g, g.copiedFrom);
  // Case 2: the source would use the target's anon_vma (not a fork child's).
  if (dst !== 0 && src === 0) return !isForkChildFlags(tgtFlags);
  // Case 3: the anon_vmas are already shared (or there are none).
  return src === dst;
}

/** can_vma_merge_before(): the proposed range can be merged in front of g.next. */
function canVmaMergeBefore(g: MergeState): boolean {
  return (
    isMergeableVma(g, g.next) &&
    isMergeableAnonVma(g, g.next) &&
    g.mm.vmas.pgoff(g.next) === g.pgoff + pages(g.end - g.start)
  );
}

/** can_vma_merge_after(): the proposed range can be merged behind g.prev. */
function canVmaMergeAfter(g: MergeState): boolean {
  const v = g.mm.vmas;
  return (
    isMergeableVma(g, g.prev) &&
    isMergeableAnonVma(g, g.prev) &&
    v.pgoff(g.prev) + pages(v.end(g.prev) - v.start(g.prev)) === g.pgoff
  );
}

/** can_vma_merge_left(). */
function canVmaMergeLeft(g: MergeState): boolean {
  return g.prev !== 0 && g.mm.vmas.end(g.prev) === g.start && canVmaMergeAfter(g);
}

/**
 * can_vma_merge_right(): when prev can be merged too, prev's and next's anon_vmas must also be
 * compatible with each other (one of them none, or the same).
 */
function canVmaMergeRight(g: MergeState, canMergeLeft: boolean): boolean {
  if (g.next === 0 || g.end !== g.mm.vmas.start(g.next) || !canVmaMergeBefore(g)) return false;
  if (!canMergeLeft) return true;
  const a = anonVmaOf(g.mm.vmas.flags(g.prev));
  const b = anonVmaOf(g.mm.vmas.flags(g.next));
  return a === 0 || b === 0 || a === b;
}

/** can_merge_remove_vma(): VMAs with a close op (special mappings) cannot be merged away. */
export function canMergeRemoveVma(mm: MmStruct, id: number): boolean {
  return !hasCloseOp(mm.vmas.ops(id));
}

/**
 * Free a VMA that a merge absorbed (vma_complete's remove path): already dropped from the index
 * by the target's store. No close op runs (can_merge_remove_vma() excluded those).
 */
function removeMergedVma(mm: MmStruct, id: number): void {
  vmaMarkDetached(mm, id);
  mm.mapCount = mm.mapCount - 1;
  mm.retireVma(id);
}

/**
 * commit_merge(): apply the plan in `g`. The target (or, when next's start is adjusted, middle)
 * gets [g.start, g.end) with g.pgoff; middle or next are trimmed or removed as planned.
 */
function commitMerge(g: MergeState): void {
  const mm = g.mm;
  const v = mm.vmas;
  if (g.adjustNextStart) {
    // Shrink middle to [g.start, g.end) and move next's start down to g.end.
    const next = g.next;
    dupAnonVma(mm, next, g.middle);
    v.setRange(g.middle, g.start, g.end, g.pgoff);
    const nextPgoff = v.pgoff(next) - pages(v.start(next) - g.end);
    v.setRange(next, g.end, v.end(next), nextPgoff);
    indexStore(mm, g.end, v.end(next), next);
    pagesSplitHuge(mm, g.end); // vma_adjust_trans_huge(): the moved boundary
  } else {
    const target = g.target;
    // dup_anon_vma(): the target takes the anon_vma of what it absorbs.
    if ((g.removeMiddle || g.adjustMiddleStart) && g.middle !== target)
      dupAnonVma(mm, target, g.middle);
    if (g.removeNext) dupAnonVma(mm, target, g.next);
    dupAnonVma(mm, target, g.copiedFrom);
    v.setRange(target, g.start, g.end, g.pgoff);
    if (g.adjustMiddleStart) {
      const middle = g.middle;
      v.setRange(middle, g.end, v.end(middle), v.pgoff(middle) + pages(g.end - v.start(middle)));
    }
    indexStore(mm, g.start, g.end, target);
    if (g.adjustMiddleStart) pagesSplitHuge(mm, g.end); // vma_adjust_trans_huge()
  }
  if (g.removeMiddle) removeMergedVma(mm, g.middle);
  if (g.removeNext) removeMergedVma(mm, g.next);
}

/**
 * vma_expand(): grow g.target to [g.start, g.end), absorbing g.next if the range reaches its
 * end. The caller has checked mergeability.
 */
export function vmaExpand(g: MergeState): void {
  const target = g.target;
  const next = g.next;
  vmaStartWrite(g.mm, target);
  const removeNext = next !== 0 && target !== next && g.end === g.mm.vmas.end(next);
  if (removeNext) {
    vmaStartWrite(g.mm, next);
    g.removeNext = true;
  }
  commitMerge(g);
}

/**
 * vma_merge_new_range(): a new range [g.start, g.end) with g's attributes is about to be mapped
 * into an empty gap between g.prev and g.next; expand a compatible neighbour (or both) instead.
 * Returns the VMA that now covers the range, or 0 when no merge is possible.
 */
export function vmaMergeNewRange(g: MergeState): number {
  const prev = g.prev;
  const next = g.next;
  const end = g.end;
  if ((g.flags & VM_SPECIAL) !== 0 || (prev === 0 && next === 0)) return 0;
  const canMergeLeft = canVmaMergeLeft(g);
  const canMergeRight = !g.justExpand && canVmaMergeRight(g, canMergeLeft);
  if (canMergeRight) {
    g.end = g.mm.vmas.end(next);
    g.target = next;
  }
  if (canMergeLeft) {
    g.start = g.mm.vmas.start(prev);
    g.target = prev;
    g.pgoff = g.mm.vmas.pgoff(prev);
    // Merging both would remove next; if that is not allowed, merge with prev only.
    if (canMergeRight && !canMergeRemoveVma(g.mm, next)) g.end = end;
  }
  if (g.target === 0) return 0;
  vmaExpand(g);
  return g.target;
}

/**
 * vma_merge_copied_range(): like vmaMergeNewRange for the destination of an mremap() move;
 * g.middle is the source VMA.
 */
export function vmaMergeCopiedRange(g: MergeState): number {
  g.copiedFrom = g.middle;
  g.middle = 0;
  return vmaMergeNewRange(g);
}

/**
 * vma_merge_existing_range(): [g.start, g.end) of the existing VMA g.middle is getting g's
 * attributes (g.prev is the VMA before g.start: g.middle itself when the range starts inside
 * it). Merge the range into prev and/or next when they match. Returns the merged VMA, or 0 when
 * no merge happened (nothing changed then).
 */
export function vmaMergeExistingRange(g: MergeState): number {
  const mm = g.mm;
  const v = mm.vmas;
  const middle = g.middle;
  const prev = g.prev;
  const start = g.start;
  const end = g.end;
  const leftSide = start === v.start(middle);
  const rightSide = end === v.end(middle);
  if ((g.flags & VM_SPECIAL) !== 0 || (!leftSide && !rightSide)) return 0;

  const mergeLeft = leftSide && canVmaMergeLeft(g);
  let mergeRight = false;
  let next = 0;
  if (rightSide) {
    next = mm.findVma(v.end(middle));
    if (next !== 0 && v.start(next) !== v.end(middle)) next = 0;
    g.next = next;
    mergeRight = canVmaMergeRight(g, mergeLeft);
  }
  if (!mergeLeft && !mergeRight) return 0;

  let mergeBoth = mergeLeft && mergeRight;
  // Spanning the whole of middle, a merge deletes it.
  g.removeMiddle = leftSide && rightSide;
  if (g.removeMiddle && !canMergeRemoveVma(mm, middle)) return 0;
  g.removeNext = mergeBoth;
  if (g.removeNext && !canMergeRemoveVma(mm, next)) {
    g.removeNext = false;
    mergeRight = false;
    mergeBoth = false;
  }

  vmaStartWrite(mm, middle);
  if (mergeRight) {
    vmaStartWrite(mm, next);
    g.target = next;
  }
  if (mergeLeft) {
    vmaStartWrite(mm, prev);
    g.target = prev;
  }

  if (mergeBoth) {
    // prev extends over middle and next; both are deleted.
    g.start = v.start(prev);
    g.end = v.end(next);
    g.pgoff = v.pgoff(prev);
  } else if (mergeLeft) {
    // prev extends over [start, end); middle shrinks from the left or is deleted.
    g.start = v.start(prev);
    g.pgoff = v.pgoff(prev);
    if (!g.removeMiddle) g.adjustMiddleStart = true;
  } else if (g.removeMiddle) {
    // next extends down over all of middle, which is deleted.
    const pglen = pages(end - start);
    g.end = v.end(next);
    g.pgoff = v.pgoff(next) - pglen;
  } else {
    // middle shrinks to [middle.start, start); next extends down to start.
    g.adjustNextStart = true;
    g.start = v.start(middle);
    g.end = start;
    g.pgoff = v.pgoff(middle);
  }
  commitMerge(g);
  return g.target;
}
