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
 */
export class IndexCursor {
  id = 0;
  start = 0;
  end = 0;
  private readonly path = new Int32Array(MAX_INDEX_HEIGHT);
  private readonly pos = new Int32Array(MAX_INDEX_HEIGHT);
  private leafDepth = -1;

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
      this.path[d] = n;
      this.pos[d] = i;
      if (i32[b32 + NODE_I32_LEVEL] === 0) {
        this.leafDepth = d;
        this.load();
        return true;
      }
      n = i32[b32 + PTR32 + i];
    }
    this.leafDepth = -1;
    this.id = 0;
    return false;
  }

  /** Advance to the next entry. False at the end. */
  next(): boolean {
    let d = this.leafDepth;
    if (d < 0) return false;
    const i32 = this.i32;
    // Climb until a level has a next item.
    while (d >= 0) {
      const c = Math.min(i32[this.nb32 + this.path[d] * W32 + NODE_I32_COUNT], F);
      if (this.pos[d] + 1 < c) break;
      d--;
    }
    if (d < 0) {
      this.leafDepth = -1;
      this.id = 0;
      return false;
    }
    this.pos[d]++;
    // Descend leftmost.
    while (d < this.leafDepth) {
      const child = i32[this.nb32 + this.path[d] * W32 + PTR32 + this.pos[d]];
      d++;
      this.path[d] = child;
      this.pos[d] = 0;
    }
    this.load();
    return true;
  }

  private load(): void {
    const n = this.path[this.leafDepth];
    const i = this.pos[this.leafDepth];
    const b64 = this.nb64 + n * W64;
    this.start = this.f64[b64 + LO64 + i];
    this.end = this.f64[b64 + HI64 + i];
    this.id = this.i32[this.nb32 + n * W32 + PTR32 + i];
  }
}
