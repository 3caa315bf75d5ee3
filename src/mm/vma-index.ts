import {
  type ArenaGeometry,
  type ArenaViews,
  I32_INDEX_COUNT,
  I32_INDEX_ROOT,
  I32_NODE_FREE_HEAD,
  I32_NODE_HIGH_WATER,
  I32_NODE_IN_USE,
  MAX_INDEX_HEIGHT,
  NODE_BYTES,
  NODE_FANOUT,
  NODE_HI_BYTES,
  NODE_I32_COUNT,
  NODE_I32_FREE_NEXT,
  NODE_I32_LEVEL,
  NODE_LO_BYTES,
  NODE_MIN_FILL,
  NODE_PTR_BYTES,
} from './arena-layout.js';
import type { DeferredFree } from './deferred-free.js';

const F = NODE_FANOUT;
const W32 = NODE_BYTES / 4;
const W64 = NODE_BYTES / 8;
const LO64 = NODE_LO_BYTES / 8;
const HI64 = NODE_HI_BYTES / 8;
const PTR32 = NODE_PTR_BYTES / 4;

/** Thrown by a mutation when the arena has no free index node; the index is left unchanged. */
export class IndexFullError extends Error {
  constructor() {
    super('VMA index node arena exhausted');
    this.name = 'IndexFullError';
  }
}

/**
 * Per-thread writer scratch shared by every VmaIndex on the thread (a thread runs one mutation at
 * a time): node ids allocated by the current mutation (for rollback) and node ids it replaced
 * (retired after the new root is published). Grown on demand, never shrunk, so the hot path
 * allocates nothing.
 */
class NodeIdList {
  ids = new Int32Array(64);
  n = 0;
  push(id: number): void {
    if (this.n === this.ids.length) {
      const bigger = new Int32Array(this.ids.length * 2);
      bigger.set(this.ids);
      this.ids = bigger;
    }
    this.ids[this.n++] = id;
  }
  /** Index of id in the list, or -1. */
  indexOf(id: number): number {
    for (let i = this.n - 1; i >= 0; i--) if (this.ids[i] === id) return i;
    return -1;
  }
}
const opAllocated = new NodeIdList();
const opRetired = new NodeIdList();
// Fast-path scratch: the root-to-leaf path and the rebuilt leaf (at most F + 2 items).
const pathNode = new Int32Array(MAX_INDEX_HEIGHT);
const pathPos = new Int32Array(MAX_INDEX_HEIGHT);
const leafLo = new Float64Array(F + 2);
const leafHi = new Float64Array(F + 2);
const leafPtr = new Int32Array(F + 2);

/** A growable list of (lo, hi, ptr) items: node contents being rebuilt by a writer. */
class ItemList {
  lo: number[] = [];
  hi: number[] = [];
  ptr: number[] = [];
  get length(): number {
    return this.ptr.length;
  }
  push(lo: number, hi: number, ptr: number): void {
    this.lo.push(lo);
    this.hi.push(hi);
    this.ptr.push(ptr);
  }
  append(o: ItemList): void {
    for (let i = 0; i < o.length; i++) this.push(o.lo[i], o.hi[i], o.ptr[i]);
  }
}

/**
 * `VmaIndex`: the ordered index of an address space, a copy-on-write B+tree in the mm arena
 * mapping non-overlapping [start, end) ranges to VMA ids (the role of Linux's maple tree).
 *
 * Concurrency:
 *  - Writers (mmap write lock held; one at a time) never modify a published node. A mutation
 *    builds new nodes for the changed path, publishes the new root with one `Atomics.store`, and
 *    retires the replaced nodes to the arena's deferred-free list; they are reused only after an
 *    RCU grace period. So a single mutation (`store`, `erase`) is atomic for readers: they see the
 *    whole tree before or after it, never a transient gap.
 *  - Readers (inside an RCU read section, src/sync) load the root with `Atomics.load` and walk
 *    plain-loaded immutable nodes. A reader needs no lock and never writes.
 *
 * Cost: a mutation copies one root-to-leaf path per touched leaf (O(log n) for a mutation that
 * removes O(1) entries; erasing k entries costs O(k/F + log n)).
 */
export class VmaIndex {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly nb32: number;
  private readonly nb64: number;
  /** Number of node slots, including the unused slot 0. */
  readonly nodeCapacity: number;
  private readonly deferred: DeferredFree;
  private readonly onReclaimVma: (id: number) => void;
  // ---- per-thread writer state (not shared) ----
  private countDelta = 0;
  private readonly u8: Uint8Array;

  constructor(
    views: ArenaViews,
    geometry: ArenaGeometry,
    deferred: DeferredFree,
    onReclaimVma: (id: number) => void,
  ) {
    this.i32 = views.i32;
    this.f64 = views.f64;
    this.nb32 = geometry.nodeBase / 4;
    this.nb64 = geometry.nodeBase / 8;
    this.nodeCapacity = geometry.nodeCapacity;
    this.deferred = deferred;
    this.onReclaimVma = onReclaimVma;
    this.u8 = new Uint8Array(views.buffer);
  }

  // ======================================= readers =========================================

  /** Current root node id (acquire). */
  root(): number {
    return Atomics.load(this.i32, I32_INDEX_ROOT);
  }

  /** Number of entries (exact for the writer; a racy hint for readers). */
  get count(): number {
    return this.i32[I32_INDEX_COUNT];
  }

  /** First entry with end > addr: its VMA id, or 0 (find_vma / vma_next). */
  findNext(addr: number): number {
    const i32 = this.i32;
    const f64 = this.f64;
    let n = Atomics.load(i32, I32_INDEX_ROOT);
    for (let depth = 0; n !== 0 && depth < MAX_INDEX_HEIGHT; depth++) {
      const b32 = this.nb32 + n * W32;
      const hb = this.nb64 + n * W64 + HI64;
      let c = i32[b32 + NODE_I32_COUNT];
      if (c > F) c = F; // only possible when walking recycled memory outside RCU
      let i = 0;
      while (i < c && f64[hb + i] <= addr) i++;
      if (i === c) return 0;
      if (i32[b32 + NODE_I32_LEVEL] === 0) return i32[b32 + PTR32 + i];
      n = i32[b32 + PTR32 + i];
    }
    return 0;
  }

  /** Entry containing addr (start <= addr < end): its VMA id, or 0 (mas_walk). */
  lookup(addr: number): number {
    const i32 = this.i32;
    const f64 = this.f64;
    let n = Atomics.load(i32, I32_INDEX_ROOT);
    for (let depth = 0; n !== 0 && depth < MAX_INDEX_HEIGHT; depth++) {
      const b32 = this.nb32 + n * W32;
      const b64 = this.nb64 + n * W64;
      let c = i32[b32 + NODE_I32_COUNT];
      if (c > F) c = F;
      let i = 0;
      while (i < c && f64[b64 + HI64 + i] <= addr) i++;
      if (i === c || f64[b64 + LO64 + i] > addr) return 0;
      if (i32[b32 + NODE_I32_LEVEL] === 0) return i32[b32 + PTR32 + i];
      n = i32[b32 + PTR32 + i];
    }
    return 0;
  }

  /** Last entry with start < addr: its VMA id, or 0 (find_vma_prev / vma_prev). */
  findPrev(addr: number): number {
    const i32 = this.i32;
    const f64 = this.f64;
    let n = Atomics.load(i32, I32_INDEX_ROOT);
    for (let depth = 0; n !== 0 && depth < MAX_INDEX_HEIGHT; depth++) {
      const b32 = this.nb32 + n * W32;
      const lb = this.nb64 + n * W64 + LO64;
      let c = i32[b32 + NODE_I32_COUNT];
      if (c > F) c = F;
      let i = c - 1;
      while (i >= 0 && f64[lb + i] >= addr) i--;
      if (i < 0) return 0;
      if (i32[b32 + NODE_I32_LEVEL] === 0) return i32[b32 + PTR32 + i];
      n = i32[b32 + PTR32 + i];
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

  // ======================================= writers =========================================
  // All of the following require the mmap write lock.

  /** Index nodes allocated (reachable, or retired and not yet reclaimed). */
  get nodesInUse(): number {
    return this.i32[I32_NODE_IN_USE];
  }

  /** Reclaim retired nodes and VMA records whose grace period is over. */
  reclaimRetired(): number {
    return this.deferred.reclaim(this.reclaimer);
  }

  /**
   * Wait for a grace period (if the RCU can synchronize) and reclaim everything retired before;
   * false if nothing was waiting. For allocators that found the arena full.
   */
  waitForGraceAndReclaim(): boolean {
    return this.deferred.waitAndReclaim(this.reclaimer);
  }

  private readonly reclaimer = {
    freeNode: (id: number) => this.freeNode(id),
    freeVma: (id: number) => this.onReclaimVma(id),
  };

  /**
   * Map [start, end) to `id`, overwriting whatever overlapped that range: overlapped entries are
   * removed or trimmed (an entry that sticks out on both sides keeps both remainders), like
   * mas_store. Published atomically. Throws IndexFullError (index unchanged) on exhaustion.
   */
  store(start: number, end: number, id: number): void {
    if (!(start < end) || id <= 0) throw new RangeError(`bad store [${start}, ${end}) -> ${id}`);
    this.mutate(start, end, id);
  }

  /** Remove [start, end): entries inside are dropped, entries crossing an edge are trimmed. */
  erase(start: number, end: number): void {
    if (!(start < end)) throw new RangeError(`bad erase [${start}, ${end})`);
    this.mutate(start, end, 0);
  }

  private mutate(lo: number, hi: number, id: number): void {
    this.reclaimRetired();
    try {
      this.mutateOnce(lo, hi, id);
    } catch (e) {
      // Out of nodes while retired ones wait for grace: wait for a grace period, then retry once.
      if (!(e instanceof IndexFullError) || !this.deferred.waitAndReclaim(this.reclaimer)) throw e;
      this.mutateOnce(lo, hi, id);
    }
  }

  private mutateOnce(lo: number, hi: number, id: number): void {
    const i32 = this.i32;
    const oldRoot = i32[I32_INDEX_ROOT];
    opAllocated.n = 0;
    opRetired.n = 0;
    this.countDelta = 0;
    let newRoot: number;
    try {
      const fast = this.pathCopyMutation(oldRoot, lo, hi, id);
      let repl: ItemList | null = null;
      if (fast < 0 && id !== 0) {
        repl = new ItemList();
        repl.push(lo, hi, id);
      }
      if (fast >= 0) {
        newRoot = fast;
      } else if (oldRoot === 0) {
        if (repl === null) return;
        this.countDelta = 1;
        newRoot = this.buildRoot(repl, 0);
      } else {
        const res = this.update(oldRoot, lo, hi, repl);
        if (res === null) return;
        opRetired.push(oldRoot);
        newRoot = this.buildRoot(res, this.level(oldRoot));
      }
    } catch (e) {
      // Nothing was published: give back every node this operation allocated (and still holds).
      for (let i = 0; i < opAllocated.n; i++) {
        if (opAllocated.ids[i] !== 0) this.freeNode(opAllocated.ids[i]);
      }
      opAllocated.n = 0;
      throw e;
    }
    i32[I32_INDEX_COUNT] += this.countDelta;
    Atomics.store(i32, I32_INDEX_ROOT, newRoot);
    this.deferred.retireNodes(opRetired.ids, opRetired.n);
  }

  /**
   * The common case, as a plain copy-on-write path copy: everything [lo, hi) overlaps, and the
   * place where `id` goes, lie in one leaf, and the rebuilt leaf neither overflows nor underflows.
   * Copies that leaf and its ancestors (one node per level), fixing the bounds on the way up.
   * Returns the new root, or -1 (nothing allocated) when the general rebuild is needed.
   */
  private pathCopyMutation(root: number, lo: number, hi: number, id: number): number {
    if (root === 0) return -1;
    const i32 = this.i32;
    const f64 = this.f64;
    let n = root;
    let depth = 0;
    // Descend, choosing the child exactly as update() does.
    while (i32[this.nb32 + n * W32 + NODE_I32_LEVEL] > 0) {
      const c = i32[this.nb32 + n * W32 + NODE_I32_COUNT];
      const b64 = this.nb64 + n * W64;
      let a = 0;
      while (a < c && f64[b64 + HI64 + a] <= lo) a++;
      let t: number;
      if (a < c && f64[b64 + LO64 + a] < hi) {
        if (a + 1 < c && f64[b64 + LO64 + a + 1] < hi) return -1; // spans two children
        t = a;
      } else {
        if (id === 0) return -1; // erase of nothing: the general path returns "no change"
        t = a > 0 ? a - 1 : 0;
      }
      pathNode[depth] = n;
      pathPos[depth] = t;
      depth++;
      n = i32[this.nb32 + n * W32 + PTR32 + t];
    }
    // Rebuild the leaf into the scratch arrays.
    const c = i32[this.nb32 + n * W32 + NODE_I32_COUNT];
    const b32 = this.nb32 + n * W32;
    const b64 = this.nb64 + n * W64;
    const sLo = leafLo;
    const sHi = leafHi;
    const sPtr = leafPtr;
    let k = 0;
    let i = 0;
    while (i < c && f64[b64 + HI64 + i] <= lo) {
      if (k >= F) return -1;
      sLo[k] = f64[b64 + LO64 + i];
      sHi[k] = f64[b64 + HI64 + i];
      sPtr[k] = i32[b32 + PTR32 + i];
      k++;
      i++;
    }
    let removed = 0;
    let tailHi = 0;
    let tailPtr = 0;
    while (i < c && f64[b64 + LO64 + i] < hi) {
      const st = f64[b64 + LO64 + i];
      const en = f64[b64 + HI64 + i];
      const p = i32[b32 + PTR32 + i];
      removed++;
      if (st < lo) {
        sLo[k] = st;
        sHi[k] = lo;
        sPtr[k] = p;
        k++;
      }
      if (en > hi) {
        tailHi = en;
        tailPtr = p;
      }
      i++;
    }
    if (removed === 0 && id === 0) return -1;
    let added = k - (i - removed); // left remainder, if any
    if (id !== 0) {
      sLo[k] = lo;
      sHi[k] = hi;
      sPtr[k] = id;
      k++;
      added++;
    }
    if (tailPtr !== 0) {
      sLo[k] = hi;
      sHi[k] = tailHi;
      sPtr[k] = tailPtr;
      k++;
      added++;
    }
    if (k + (c - i) > F) return -1; // overflow: needs a split
    while (i < c) {
      sLo[k] = f64[b64 + LO64 + i];
      sHi[k] = f64[b64 + HI64 + i];
      sPtr[k] = i32[b32 + PTR32 + i];
      k++;
      i++;
    }
    if (k === 0 || (depth > 0 && k < NODE_MIN_FILL)) return -1; // underflow: needs a merge
    // Commit: new leaf, then one copied node per ancestor.
    const leaf = this.allocNode();
    const l32 = this.nb32 + leaf * W32;
    const l64 = this.nb64 + leaf * W64;
    i32[l32 + NODE_I32_COUNT] = k;
    i32[l32 + NODE_I32_LEVEL] = 0;
    for (let j = 0; j < k; j++) {
      f64[l64 + LO64 + j] = sLo[j];
      f64[l64 + HI64 + j] = sHi[j];
      i32[l32 + PTR32 + j] = sPtr[j];
    }
    opRetired.push(n);
    this.countDelta += added - removed;
    let child = leaf;
    let cLo = sLo[0];
    let cHi = sHi[k - 1];
    for (let d = depth - 1; d >= 0; d--) {
      const old = pathNode[d];
      const pos = pathPos[d];
      const copy = this.allocNode();
      const ob = this.nb32 * 4 + old * NODE_BYTES;
      this.u8.copyWithin(this.nb32 * 4 + copy * NODE_BYTES, ob, ob + NODE_BYTES);
      const c32 = this.nb32 + copy * W32;
      const c64 = this.nb64 + copy * W64;
      f64[c64 + LO64 + pos] = cLo;
      f64[c64 + HI64 + pos] = cHi;
      i32[c32 + PTR32 + pos] = child;
      opRetired.push(old);
      child = copy;
      cLo = f64[c64 + LO64];
      cHi = f64[c64 + HI64 + i32[c32 + NODE_I32_COUNT] - 1];
    }
    return child;
  }

  /** Turn the rebuilt contents of the old root (at `level`) into a new root node id. */
  private buildRoot(items: ItemList, level: number): number {
    let lvl = level;
    let cur = items;
    while (cur.length > F) {
      cur = this.pack(cur, lvl);
      lvl++;
    }
    if (cur.length === 0) return 0;
    let n = this.makeNode(lvl, cur, 0, cur.length);
    // Collapse single-child internal roots (height shrinks).
    while (this.level(n) > 0 && this.countOf(n) === 1) {
      const child = this.ptr(n, 0);
      this.discard(n);
      n = child;
    }
    return n;
  }

  /** Drop a node this operation replaced: free if it was never published, else retire. */
  private discard(n: number): void {
    const i = opAllocated.indexOf(n);
    if (i >= 0) {
      opAllocated.ids[i] = 0; // freed here, not again on rollback
      this.freeNode(n);
    } else {
      opRetired.push(n);
    }
  }

  /**
   * Rebuild node `n` with [lo, hi) removed and `repl` (or nothing) inserted at its position.
   * Returns the node's new contents (items at n's level; the caller packs them into nodes), or
   * null when the subtree does not change.
   */
  private update(n: number, lo: number, hi: number, repl: ItemList | null): ItemList | null {
    const c = this.countOf(n);
    const level = this.level(n);
    let a = 0;
    while (a < c && this.hiAt(n, a) <= lo) a++;
    const affected = a < c && this.loAt(n, a) < hi;
    if (!affected && repl === null) return null;
    const out = new ItemList();
    if (level === 0) {
      for (let i = 0; i < a; i++) out.push(this.loAt(n, i), this.hiAt(n, i), this.ptr(n, i));
      let k = a;
      let tailLo = 0;
      let tailHi = 0;
      let tailPtr = 0;
      while (k < c && this.loAt(n, k) < hi) {
        const s = this.loAt(n, k);
        const e = this.hiAt(n, k);
        const p = this.ptr(n, k);
        this.countDelta--;
        if (s < lo) {
          out.push(s, lo, p);
          this.countDelta++;
        }
        if (e > hi) {
          tailLo = hi;
          tailHi = e;
          tailPtr = p;
        }
        k++;
      }
      if (repl !== null) {
        out.append(repl);
        this.countDelta += repl.length;
      }
      if (tailPtr !== 0) {
        out.push(tailLo, tailHi, tailPtr);
        this.countDelta++;
      }
      for (let i = k; i < c; i++) out.push(this.loAt(n, i), this.hiAt(n, i), this.ptr(n, i));
      return out;
    }
    // Internal node: recurse into the contiguous run of affected children, or into the child
    // where the replacement belongs when nothing overlaps.
    let from: number;
    let to: number;
    if (affected) {
      from = a;
      to = a;
      while (to + 1 < c && this.loAt(n, to + 1) < hi) to++;
    } else {
      from = a > 0 ? a - 1 : 0;
      to = from;
    }
    const merged = new ItemList();
    for (let i = from; i <= to; i++) {
      const child = this.ptr(n, i);
      const r = this.update(child, lo, hi, i === from ? repl : null);
      if (r === null) this.readItems(child, merged);
      else merged.append(r);
      opRetired.push(child);
    }
    if (merged.length > 0 && merged.length < NODE_MIN_FILL) {
      // Underfull: absorb a neighbour sibling so the rebuilt node(s) reach minimum fill.
      if (from > 0) {
        from--;
        const left = new ItemList();
        this.readItems(this.ptr(n, from), left);
        left.append(merged);
        opRetired.push(this.ptr(n, from));
        merged.lo = left.lo;
        merged.hi = left.hi;
        merged.ptr = left.ptr;
      } else if (to + 1 < c) {
        to++;
        this.readItems(this.ptr(n, to), merged);
        opRetired.push(this.ptr(n, to));
      }
    }
    for (let i = 0; i < from; i++) out.push(this.loAt(n, i), this.hiAt(n, i), this.ptr(n, i));
    if (merged.length > 0) out.append(this.pack(merged, level - 1));
    for (let i = to + 1; i < c; i++) out.push(this.loAt(n, i), this.hiAt(n, i), this.ptr(n, i));
    return out;
  }

  /** Pack items (at `level`) into as few nodes as fit, evenly filled; returns their items. */
  private pack(items: ItemList, level: number): ItemList {
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
      const node = this.makeNode(level, items, pos, size);
      out.push(items.lo[pos], items.hi[pos + size - 1], node);
      pos += size;
    }
    return out;
  }

  private makeNode(level: number, items: ItemList, from: number, size: number): number {
    const n = this.allocNode();
    const b32 = this.nb32 + n * W32;
    const b64 = this.nb64 + n * W64;
    this.i32[b32 + NODE_I32_COUNT] = size;
    this.i32[b32 + NODE_I32_LEVEL] = level;
    for (let i = 0; i < size; i++) {
      this.f64[b64 + LO64 + i] = items.lo[from + i];
      this.f64[b64 + HI64 + i] = items.hi[from + i];
      this.i32[b32 + PTR32 + i] = items.ptr[from + i];
    }
    return n;
  }

  private readItems(n: number, into: ItemList): void {
    const c = this.countOf(n);
    for (let i = 0; i < c; i++) into.push(this.loAt(n, i), this.hiAt(n, i), this.ptr(n, i));
  }

  private allocNode(): number {
    const i32 = this.i32;
    let n = i32[I32_NODE_FREE_HEAD];
    if (n !== 0) {
      i32[I32_NODE_FREE_HEAD] = i32[this.nb32 + n * W32 + NODE_I32_FREE_NEXT];
    } else {
      n = i32[I32_NODE_HIGH_WATER];
      if (n === 0) n = 1;
      if (n >= this.nodeCapacity) throw new IndexFullError();
      i32[I32_NODE_HIGH_WATER] = n + 1;
    }
    i32[I32_NODE_IN_USE]++;
    opAllocated.push(n);
    return n;
  }

  private freeNode(n: number): void {
    const i32 = this.i32;
    i32[this.nb32 + n * W32 + NODE_I32_FREE_NEXT] = i32[I32_NODE_FREE_HEAD];
    i32[I32_NODE_FREE_HEAD] = n;
    i32[I32_NODE_IN_USE]--;
  }

  private countOf(n: number): number {
    return this.i32[this.nb32 + n * W32 + NODE_I32_COUNT];
  }
  private level(n: number): number {
    return this.i32[this.nb32 + n * W32 + NODE_I32_LEVEL];
  }
  private loAt(n: number, i: number): number {
    return this.f64[this.nb64 + n * W64 + LO64 + i];
  }
  private hiAt(n: number, i: number): number {
    return this.f64[this.nb64 + n * W64 + HI64 + i];
  }
  private ptr(n: number, i: number): number {
    return this.i32[this.nb32 + n * W32 + PTR32 + i];
  }

  // ===================================== validation ========================================

  /**
   * Check the tree's invariants from the current root (tests): equal leaf depth, item bounds
   * equal to child bounds, entries sorted and non-overlapping, counts in range, entry count.
   * Returns the number of reachable nodes; throws with a description on the first violation.
   */
  check(): number {
    const root = this.root();
    if (root === 0) {
      if (this.count !== 0) throw new Error(`empty tree but count ${this.count}`);
      return 0;
    }
    let nodes = 0;
    let entries = 0;
    let prevEnd = Number.NEGATIVE_INFINITY;
    const walk = (n: number, level: number, isRoot: boolean): [number, number] => {
      nodes++;
      const c = this.countOf(n);
      if (this.level(n) !== level) throw new Error(`node ${n}: level ${this.level(n)} != ${level}`);
      if (c < 1 || c > F) throw new Error(`node ${n}: count ${c}`);
      if (!isRoot && level > 0 && c < 1) throw new Error(`node ${n}: empty internal`);
      if (isRoot && level > 0 && c < 2) throw new Error(`root ${n}: single child`);
      for (let i = 0; i < c; i++) {
        const lo = this.loAt(n, i);
        const hi = this.hiAt(n, i);
        if (!(lo < hi)) throw new Error(`node ${n} item ${i}: empty range [${lo}, ${hi})`);
        if (level === 0) {
          if (lo < prevEnd) throw new Error(`entry [${lo}, ${hi}) overlaps/unsorted at ${prevEnd}`);
          prevEnd = hi;
          entries++;
        } else {
          const [clo, chi] = walk(this.ptr(n, i), level - 1, false);
          if (clo !== lo || chi !== hi) {
            throw new Error(`node ${n} item ${i}: bounds [${lo}, ${hi}) != child [${clo}, ${chi})`);
          }
        }
      }
      return [this.loAt(n, 0), this.hiAt(n, c - 1)];
    };
    walk(root, this.level(root), true);
    if (entries !== this.count) throw new Error(`count ${this.count} != entries ${entries}`);
    return nodes;
  }
}

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
