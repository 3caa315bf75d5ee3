import type { ArenaCommit } from './arena-commit.js';
import {
  type ArenaGeometry,
  type ArenaViews,
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
  NODE_PTR_BYTES,
} from './arena-layout.js';

/**
 * The node arena of the VMA index: node field access, the node allocator, and the per-thread
 * scratch the writer uses. Layout and protection are in arena-layout.ts: nodes are immutable once
 * reachable from a published root; the allocator state and free nodes belong to the writer (mmap
 * write lock).
 */
export const F = NODE_FANOUT;
export const W32 = NODE_BYTES / 4;
export const W64 = NODE_BYTES / 8;
export const LO64 = NODE_LO_BYTES / 8;
export const HI64 = NODE_HI_BYTES / 8;
export const PTR32 = NODE_PTR_BYTES / 4;

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
export class NodeIdList {
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
export const opAllocated = new NodeIdList();
export const opRetired = new NodeIdList();
// Fast-path scratch: the root-to-leaf path (node and child position per depth).
export const pathNode = new Int32Array(MAX_INDEX_HEIGHT);
export const pathPos = new Int32Array(MAX_INDEX_HEIGHT);

/** A growable list of (lo, hi, ptr) items: node contents being rebuilt by a writer. */
export class ItemList {
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

/** Field access and allocation for the index nodes of one arena (one instance per thread). */
export class IndexNodes {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** Int32 / Float64 index of node 0 (node n starts at nb32 + n * W32, nb64 + n * W64). */
  readonly nb32: number;
  readonly nb64: number;
  /** Number of node slots, including the unused slot 0. */
  readonly capacity: number;

  private readonly commit: ArenaCommit;

  constructor(views: ArenaViews, geometry: ArenaGeometry, commit: ArenaCommit) {
    this.commit = commit;
    this.i32 = views.i32;
    this.f64 = views.f64;
    this.nb32 = geometry.nodeBase / 4;
    this.nb64 = geometry.nodeBase / 8;
    this.capacity = geometry.nodeCapacity;
  }

  /** Nodes allocated (reachable, or retired and not yet reclaimed). */
  get inUse(): number {
    return this.i32[I32_NODE_IN_USE];
  }

  makeNode(level: number, items: ItemList, from: number, size: number): number {
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

  readItems(n: number, into: ItemList): void {
    const c = this.countOf(n);
    for (let i = 0; i < c; i++) into.push(this.loAt(n, i), this.hiAt(n, i), this.ptr(n, i));
  }

  /**
   * Allocate a node (writer); recorded in opAllocated for rollback. Throws IndexFullError when
   * the arena is full or the memory budget refuses a new page for it.
   */
  allocNode(): number {
    const i32 = this.i32;
    let n = i32[I32_NODE_FREE_HEAD];
    if (n !== 0) {
      i32[I32_NODE_FREE_HEAD] = i32[this.nb32 + n * W32 + NODE_I32_FREE_NEXT];
    } else {
      n = i32[I32_NODE_HIGH_WATER];
      if (n === 0) n = 1;
      if (n >= this.capacity) throw new IndexFullError();
      // A new slot may reach a page the arena has not used yet: charge it (refused: ENOMEM).
      const base = this.nb32 * 4;
      const prevEnd = base + (n === 1 ? 0 : n * NODE_BYTES);
      if (!this.commit.grow(prevEnd, base + (n + 1) * NODE_BYTES)) throw new IndexFullError();
      i32[I32_NODE_HIGH_WATER] = n + 1;
    }
    i32[I32_NODE_IN_USE]++;
    opAllocated.push(n);
    return n;
  }

  /** Return a node to the free list: never published, or retired and past grace. */
  freeNode(n: number): void {
    const i32 = this.i32;
    i32[this.nb32 + n * W32 + NODE_I32_FREE_NEXT] = i32[I32_NODE_FREE_HEAD];
    i32[I32_NODE_FREE_HEAD] = n;
    i32[I32_NODE_IN_USE]--;
  }

  countOf(n: number): number {
    return this.i32[this.nb32 + n * W32 + NODE_I32_COUNT];
  }
  level(n: number): number {
    return this.i32[this.nb32 + n * W32 + NODE_I32_LEVEL];
  }
  loAt(n: number, i: number): number {
    return this.f64[this.nb64 + n * W64 + LO64 + i];
  }
  hiAt(n: number, i: number): number {
    return this.f64[this.nb64 + n * W64 + HI64 + i];
  }
  ptr(n: number, i: number): number {
    return this.i32[this.nb32 + n * W32 + PTR32 + i];
  }
}
