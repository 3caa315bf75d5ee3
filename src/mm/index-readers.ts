import {
  I32_INDEX_ROOT,
  MAX_INDEX_HEIGHT,
  NODE_I32_COUNT,
  NODE_I32_LEVEL,
} from './arena-layout.js';
import { F, HI64, LO64, PTR32, W32, W64 } from './index-nodes.js';

/**
 * The readers of the VMA index (vma-index.ts): the point searches and the ordered cursor.
 * They walk published, immutable nodes from one `Atomics.load` of the root; the caller is inside
 * an RCU read section (or holds the mmap lock), which keeps the nodes from reuse.
 */

// The node layout as this module's own constants: V8 (Node 20) loads an imported binding from
// its module cell at every use, while a module's own `const` folds into the optimised code
// (measured: findNext 141 -> 129 ns a lookup at 65,000 VMAs).
const ROOT = I32_INDEX_ROOT;
const HEIGHT = MAX_INDEX_HEIGHT;
const COUNT = NODE_I32_COUNT;
const LEVEL = NODE_I32_LEVEL;
const FAN = F;
const NODE32 = W32;
const NODE64 = W64;
const HI = HI64;
const LO = LO64;
const PTR = PTR32;

/**
 * The read side of VmaIndex (its base class): the point searches and ordered iteration. A search
 * finds its item in a node by counting the node's keys on one side of addr (the keys are sorted,
 * so the count is the position) rather than by a loop that stops at the first key past addr: that
 * loop's exit is a branch that a random lookup mispredicts at every level (measured: findNext 163
 * -> 141 ns a lookup at 65,000 VMAs). `c > FAN` is only possible when walking recycled memory
 * outside RCU.
 */
export class IndexReaders {
  protected readonly i32: Int32Array;
  protected readonly f64: Float64Array;
  /** Int32 / Float64 index of node 0 (IndexNodes.nb32 / nb64). */
  protected readonly nb32: number;
  protected readonly nb64: number;

  constructor(i32: Int32Array, f64: Float64Array, nb32: number, nb64: number) {
    this.i32 = i32;
    this.f64 = f64;
    this.nb32 = nb32;
    this.nb64 = nb64;
  }

  /** Current root node id (acquire). */
  root(): number {
    return Atomics.load(this.i32, ROOT);
  }

  /** First entry with end > addr: its VMA id, or 0 (find_vma / vma_next). */
  findNext(addr: number): number {
    return this.descendTo(addr, false);
  }

  /** Entry containing addr (start <= addr < end): its VMA id, or 0 (mas_walk). */
  lookup(addr: number): number {
    return this.descendTo(addr, true);
  }

  /** Last entry with start < addr: its VMA id, or 0 (find_vma_prev / vma_prev). */
  findPrev(addr: number): number {
    const i32 = this.i32;
    const f64 = this.f64;
    let n = Atomics.load(i32, ROOT);
    for (let depth = 0; n !== 0 && depth < HEIGHT; depth++) {
      const b32 = this.nb32 + n * NODE32;
      const lb = this.nb64 + n * NODE64 + LO;
      let c = i32[b32 + COUNT];
      if (c > FAN) c = FAN;
      let below = 0;
      for (let k = 0; k < c; k++) below += +(f64[lb + k] < addr);
      if (below === 0) return 0;
      if (i32[b32 + LEVEL] === 0) return i32[b32 + PTR + below - 1];
      n = i32[b32 + PTR + below - 1];
    }
    return 0;
  }

  /** A cursor for ordered iteration over one snapshot of the tree (one root load). */
  cursor(): IndexCursor {
    return new IndexCursor(this.i32, this.f64, this.nb32, this.nb64);
  }

  /** Call fn(start, end, id) for each entry with end > from, in order; stop if fn returns false. */
  forEach(from: number, fn: (start: number, end: number, id: number) => boolean | undefined): void {
    const c = this.cursor();
    for (let ok = c.seek(from); ok; ok = c.next()) {
      if (fn(c.start, c.end, c.id) === false) return;
    }
  }

  /** All entries as [start, end, id] (tests and debugging). */
  entries(): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    this.forEach(0, (s, e, id) => {
      out.push([s, e, id]);
      return true;
    });
    return out;
  }

  /** The entry findNext finds; with `containing`, 0 unless it also starts at or below addr. */
  private descendTo(addr: number, containing: boolean): number {
    const i32 = this.i32;
    const f64 = this.f64;
    let n = Atomics.load(i32, ROOT);
    for (let depth = 0; n !== 0 && depth < HEIGHT; depth++) {
      const b32 = this.nb32 + n * NODE32;
      const b64 = this.nb64 + n * NODE64;
      let c = i32[b32 + COUNT];
      if (c > FAN) c = FAN;
      let i = 0;
      for (let k = 0; k < c; k++) i += +(f64[b64 + HI + k] <= addr);
      if (i === c || (containing && f64[b64 + LO + i] > addr)) return 0;
      if (i32[b32 + LEVEL] === 0) return i32[b32 + PTR + i];
      n = i32[b32 + PTR + i];
    }
    return 0;
  }
}

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
  private readonly path = new Int32Array(HEIGHT);
  private readonly pos = new Int32Array(HEIGHT);
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
    const f64 = this.f64;
    let n = Atomics.load(i32, ROOT);
    for (let d = 0; n !== 0 && d < HEIGHT; d++) {
      const b32 = this.nb32 + n * NODE32;
      const hb = this.nb64 + n * NODE64 + HI;
      let c = i32[b32 + COUNT];
      if (c > FAN) c = FAN;
      // Counted, not searched (as IndexReaders.findNext).
      let i = 0;
      for (let k = 0; k < c; k++) i += +(f64[hb + k] <= addr);
      if (i === c) break;
      if (i32[b32 + LEVEL] === 0) {
        this.leafDepth = d;
        this.enterLeaf(n, c, i);
        return true;
      }
      this.path[d] = n;
      this.pos[d] = i;
      n = i32[b32 + PTR + i];
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
      const c = Math.min(i32[this.nb32 + this.path[d] * NODE32 + COUNT], FAN);
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
    let n = i32[this.nb32 + this.path[d] * NODE32 + PTR + this.pos[d]];
    while (++d < leafDepth) {
      this.path[d] = n;
      this.pos[d] = 0;
      n = i32[this.nb32 + n * NODE32 + PTR];
    }
    this.enterLeaf(n, Math.min(i32[this.nb32 + n * NODE32 + COUNT], FAN), 0);
    return true;
  }

  private enterLeaf(n: number, count: number, i: number): void {
    this.leafLo = this.nb64 + n * NODE64 + LO;
    this.leafHi = this.nb64 + n * NODE64 + HI;
    this.leafPtr = this.nb32 + n * NODE32 + PTR;
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
