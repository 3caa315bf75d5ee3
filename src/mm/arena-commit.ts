/**
 * `ArenaCommit`: charges an arena's committed pages to the service's `MemoryBudget`. The arena's
 * allocators (VMA records, index nodes, the retire ring) use their slots from one end, so the
 * OS commits a region's pages as its high-water mark crosses into them; each allocator calls
 * `grow(prevEnd, newEnd)` (the ring, which grows down: `growDownForced`) with the byte offsets of
 * its used front before and after such a bump. The header page and the pivot page, which every
 * arena uses, are counted from creation (`countFixedPages`).
 *
 * An arena being built (a template, an import, a fork child: not shared with any thread yet) only
 * counts its pages; its creator charges them at once when it shares the arena (`admit`), so a
 * create the budget refuses charged nothing (and a build that throws leaks nothing). A shared
 * arena's views are `strict`: a growth past the limit is refused, the allocation fails and the
 * syscall answers ENOMEM, as Linux does when vm_area_alloc or the maple tree cannot allocate.
 *
 * The pages charged so far are kept in the arena header (I32_PAGES_CHARGED; written under the mmap
 * write lock, or before the arena is shared), so whoever frees the arena releases exactly them.
 */
import { FIXED_PAGES, I32_PAGES_CHARGED, PAGE_BYTES } from './arena-layout.js';
import type { MemoryBudget } from './memory-budget.js';

export class ArenaCommit {
  /** Per view: charge growth, refusing it past the limit (shared arenas), or only count it (builds). */
  strict: boolean;

  constructor(
    private readonly i32: Int32Array,
    readonly budget: MemoryBudget,
    strict: boolean,
  ) {
    this.strict = strict;
  }

  /** Bytes of this arena charged to the budget. */
  get chargedBytes(): number {
    return this.i32[I32_PAGES_CHARGED] * PAGE_BYTES;
  }

  /**
   * Counts the pages every arena commits, the header page and the pivot page (arena-layout.ts
   * FIXED_PAGES), of a fresh arena (once, by `MmStruct.create`; charged by `admit`).
   */
  countFixedPages(): void {
    this.i32[I32_PAGES_CHARGED] = FIXED_PAGES;
  }

  /**
   * The creator shares a built arena: charges its pages plus `extraBytes` (the creator's fixed
   * costs) at once, and makes this view strict. False (nothing charged) past the limit, unless
   * `force` (memory that exists already and must be kept: a restore, a fork child).
   */
  admit(extraBytes: number, force = false): boolean {
    if (force) this.budget.charge(this.chargedBytes + extraBytes);
    else if (!this.budget.tryCharge(this.chargedBytes + extraBytes)) return false;
    this.strict = true;
    return true;
  }

  /**
   * A region's used front grows from byte `prevEnd` to `newEnd` (arena offsets): charges the new
   * pages it reaches. False (nothing charged) if a strict view would pass the limit.
   */
  grow(prevEnd: number, newEnd: number): boolean {
    const pages = Math.ceil(newEnd / PAGE_BYTES) - Math.ceil(prevEnd / PAGE_BYTES);
    if (pages <= 0) return true;
    if (this.strict && !this.budget.tryCharge(pages * PAGE_BYTES)) return false;
    this.i32[I32_PAGES_CHARGED] += pages;
    return true;
  }

  /**
   * The retire ring's used front grows down from byte `prevLow` to `newLow` (the page holding
   * `prevLow` is already counted): charges the new pages it reaches, never refused (a retired
   * object must be queued; the next allocation sees the budget).
   */
  growDownForced(prevLow: number, newLow: number): void {
    const pages = Math.floor(prevLow / PAGE_BYTES) - Math.floor(newLow / PAGE_BYTES);
    if (pages <= 0) return;
    if (this.strict) this.budget.charge(pages * PAGE_BYTES);
    this.i32[I32_PAGES_CHARGED] += pages;
  }

  /** Gives back everything this arena was charged (when it is freed: exit, or a discarded create). */
  releaseAll(): void {
    this.budget.release(this.chargedBytes);
    this.i32[I32_PAGES_CHARGED] = 0;
  }
}
