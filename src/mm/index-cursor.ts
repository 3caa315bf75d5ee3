import {
  I32_INDEX_ROOT,
  MAX_INDEX_HEIGHT,
  NODE_I32_COUNT,
  NODE_I32_LEVEL,
} from './arena-layout.js';
import { F, HI64, LO64, PTR32, W32, W64 } from './index-nodes.js';

/**
 * Ordered iteration over one snapshot of the index (the root loaded by `seek`). Valid as long as
 * the caller stays inside the RCU read section in which it called `seek` (or holds the mmap
 * lock). After `seek`/`next` return true, `id`, `start`, `end` describe the current entry.
 *
 * The leaf the cursor is on is kept as plain fields (its word offsets, its item count and the
 * position in it), so that `next` within a leaf — all but one step in F — is an increment, a
 * compare and three loads. Caching the count is exact: a node reachable from a published root is
 * never modified (vma-index.ts), and the snapshot's nodes are not reused before the caller's RCU
 * read section ends.
 */
export class IndexCursor {
  id = 0;
  start = 0;
  end = 0;
  /** Inner levels of the path: node and item index per depth [0, leafDepth). */
  private readonly path = new Int32Array(MAX_INDEX_HEIGHT);
  private readonly pos = new Int32Array(MAX_INDEX_HEIGHT);
  /** Depth of the leaf level (-1: not positioned; then `leafCount` is 0). */
  private leafDepth = -1;
  /**
   * The leaf: the word offsets of its starts, ends (Float64) and ids (Int32), its item count
   * (clamped) and the position.
   */
  private leafLo = 0;
  private leafHi = 0;
  private leafPtr = 0;
  private leafCount = 0;
  private leafPos = 0;

  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
    private readonly nb32: number,
    private readonly nb64: number,
  ) {}

  /** Position at the first entry with end > addr. False when there is none. */
  seek(addr: number): boolean {
    const i32 = this.i32;
    let n = Atomics.load(i32, I32_INDEX_ROOT);
    for (let d = 0; n !== 0 && d < MAX_INDEX_HEIGHT; d++) {
      const b32 = this.nb32 + n * W32;
      const hb = this.nb64 + n * W64 + HI64;
      let c = i32[b32 + NODE_I32_COUNT];
      if (c > F) c = F;
      let i = 0;
      while (i < c && this.f64[hb + i] <= addr) i++;
      if (i === c) break;
      if (i32[b32 + NODE_I32_LEVEL] === 0) {
        this.leafDepth = d;
        this.enterLeaf(n, c, i);
        return true;
      }
      this.path[d] = n;
      this.pos[d] = i;
      n = i32[b32 + PTR32 + i];
    }
    this.leafDepth = -1;
    this.leafCount = 0;
    this.id = 0;
    return false;
  }

  /**
   * Advance to the next entry. False at the end. Written for V8's inliner (this runs once per
   * line of a maps read, inlined into the reader's loop only while it is small): the step within
   * the leaf; `leafCount` is 0 when not positioned, so that case takes `nextLeaf` too.
   */
  next(): boolean {
    const i = this.leafPos + 1;
    if (i >= this.leafCount) return this.nextLeaf();
    this.leafPos = i;
    this.load(i);
    return true;
  }

  /**
   * `next` past the end of the current leaf (or not positioned): climb to an inner item with a
   * successor, descend.
   */
  private nextLeaf(): boolean {
    const i32 = this.i32;
    const leafDepth = this.leafDepth;
    if (leafDepth < 0) return false;
    let d = leafDepth - 1;
    while (d >= 0) {
      const c = Math.min(i32[this.nb32 + this.path[d] * W32 + NODE_I32_COUNT], F);
      if (this.pos[d] + 1 < c) break;
      d--;
    }
    if (d < 0) {
      this.leafDepth = -1;
      this.leafCount = 0;
      this.id = 0;
      return false;
    }
    this.pos[d]++;
    // Descend leftmost.
    let n = i32[this.nb32 + this.path[d] * W32 + PTR32 + this.pos[d]];
    while (++d < leafDepth) {
      this.path[d] = n;
      this.pos[d] = 0;
      n = i32[this.nb32 + n * W32 + PTR32];
    }
    this.enterLeaf(n, Math.min(i32[this.nb32 + n * W32 + NODE_I32_COUNT], F), 0);
    return true;
  }

  private enterLeaf(n: number, count: number, i: number): void {
    this.leafLo = this.nb64 + n * W64 + LO64;
    this.leafHi = this.nb64 + n * W64 + HI64;
    this.leafPtr = this.nb32 + n * W32 + PTR32;
    this.leafCount = count;
    this.leafPos = i;
    this.load(i);
  }

  private load(i: number): void {
    this.start = this.f64[this.leafLo + i];
    this.end = this.f64[this.leafHi + i];
    this.id = this.i32[this.leafPtr + i];
  }
}
