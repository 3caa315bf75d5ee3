import { NODE_MIN_FILL } from './arena-layout.js';
import { F, type IndexNodes, ItemList } from './index-nodes.js';

/**
 * How the VMA index's writer (index-rebuild.ts; mmap write lock) packs rebuilt items into new
 * nodes: evenly, or, where a leaf overflows at a run of ascending or descending inserts, split at
 * the insert so that the leaves the run has passed stay full, as B-trees (and the maple tree, at
 * its ends) do for sequential inserts. Half-full leaves would stay half full for good: twice the
 * index bytes per VMA (issue 11's memory budget: <= 256 B per hosted VMA).
 */
export class IndexPacker {
  /** The entry the current mutation inserts (lo and id), or id 0 for an erase (set per mutation). */
  insLo = 0;
  insId = 0;

  constructor(private readonly nodes: IndexNodes) {}

  /**
   * Nodes at `level` for rebuilt items (the children of one internal node): evenly filled, or,
   * for leaves overflowing at a run of ascending or descending inserts, split at the insert so
   * that the leaves the run has passed stay full (appendCut, prependCut).
   */
  children(items: ItemList, level: number, prevInsLo: number): ItemList {
    if (level === 0 && items.length > F) {
      const up = this.appendCut(items, prevInsLo);
      if (up > 0) return this.packAtInsert(items, up);
      const down = this.prependCut(items, prevInsLo);
      if (down >= 0) return this.packBeforeInsert(items, down);
    }
    return this.pack(items, level);
  }

  /** Pack items (at `level`) into as few nodes as fit, evenly filled; returns their items. */
  pack(items: ItemList, level: number): ItemList {
    const n = items.length;
    const out = new ItemList();
    if (n === 0) return out;
    const m = Math.ceil(n / F);
    const base = Math.floor(n / m);
    let extra = n - base * m;
    let pos = 0;
    for (let k = 0; k < m; k++) {
      const size = base + (extra > 0 ? 1 : 0);
      if (extra > 0) extra--;
      const node = this.nodes.makeNode(level, items, pos, size);
      out.push(items.lo[pos], items.hi[pos + size - 1], node);
      pos += size;
    }
    return out;
  }

  /**
   * Where to split overflowing leaf items for an ascending append: when the inserted entry comes
   * right after the previous mutation's insert and is followed by fewer than NODE_MIN_FILL
   * entries (mmap after mmap at rising addresses below the stack, a fork or an import copying in
   * order), the index just past it; else -1 (an even split). Splitting there keeps the leaves
   * behind the append point full, as B-trees do for rightmost appends; halves would leave each
   * of them half empty for good (twice the index bytes per VMA; issue 11's memory budget).
   */
  private appendCut(items: ItemList, prevInsLo: number): number {
    if (this.insId === 0) return -1;
    for (let i = items.length - 1; i > 0 && items.length - i <= NODE_MIN_FILL; i--) {
      if (items.ptr[i] === this.insId && items.lo[i] === this.insLo) {
        return items.lo[i - 1] === prevInsLo ? i + 1 : -1;
      }
    }
    return -1;
  }

  /**
   * Leaves for items split at `cut`: full leaves up to the cut (the last takes the remainder),
   * then one leaf with what follows (below minimum fill: the next update there merges it with
   * its left neighbour again).
   */
  private packAtInsert(items: ItemList, cut: number): ItemList {
    const out = new ItemList();
    const emit = (pos: number, size: number) => {
      const node = this.nodes.makeNode(0, items, pos, size);
      out.push(items.lo[pos], items.hi[pos + size - 1], node);
    };
    for (let pos = 0; pos < cut; pos += F) emit(pos, Math.min(F, cut - pos));
    if (cut < items.length) emit(cut, items.length - cut);
    return out;
  }

  /**
   * Where to split overflowing leaf items for a descending run of inserts: when the inserted
   * entry comes right before the previous mutation's insert (mmap after mmap top-down, an import
   * or copy in descending order), the index of the inserted entry; else -1. The mirror of
   * appendCut: the entries from the insert on go to full leaves, the ones before it stay
   * together, and the next insert, below this one, is prepended to the insert's leaf (gapChild).
   */
  private prependCut(items: ItemList, prevInsLo: number): number {
    if (this.insId === 0) return -1;
    for (let i = 0; i + 1 < items.length; i++) {
      if (items.ptr[i] === this.insId && items.lo[i] === this.insLo) {
        return items.lo[i + 1] === prevInsLo ? i : -1;
      }
    }
    return -1;
  }

  /**
   * Leaves for items split before `cut`: what precedes it evenly packed (one leaf, possibly
   * below minimum fill: the next update there merges it with a neighbour), then full leaves from
   * the end back to the cut, the first of them taking the remainder (where the next, lower,
   * inserts go).
   */
  private packBeforeInsert(items: ItemList, cut: number): ItemList {
    const out = new ItemList();
    if (cut > 0) {
      const head = new ItemList();
      for (let i = 0; i < cut; i++) head.push(items.lo[i], items.hi[i], items.ptr[i]);
      out.append(this.pack(head, 0));
    }
    const rest = items.length - cut;
    let pos = cut;
    for (let size = rest - Math.floor((rest - 1) / F) * F; pos < items.length; size = F) {
      const node = this.nodes.makeNode(0, items, pos, size);
      out.push(items.lo[pos], items.hi[pos + size - 1], node);
      pos += size;
    }
    return out;
  }
}
