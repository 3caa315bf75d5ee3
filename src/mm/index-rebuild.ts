import { NODE_I32_COUNT, NODE_I32_LEVEL, NODE_MIN_FILL } from './arena-layout.js';
import {
  F,
  HI64,
  type IndexNodes,
  ItemList,
  LO64,
  leafHi,
  leafLo,
  leafPtr,
  opAllocated,
  opRetired,
  PTR32,
  pathNode,
  pathPos,
  W32,
  W64,
} from './index-nodes.js';
import { IndexPacker } from './index-pack.js';

/**
 * The copy-on-write mutation algorithms of the VMA index (writer only, mmap write lock). Given
 * the current root, they build new nodes for what changes and return the new root; they never
 * modify a node reachable from the published root. Replaced nodes are collected in `opRetired`
 * (VmaIndex retires them after publishing), nodes allocated in `opAllocated` (for rollback).
 */
export class IndexRebuild {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly nb32: number;
  private readonly nb64: number;
  /** Change in the number of entries made by the current mutation. */
  countDelta = 0;
  /** How rebuilt items become nodes (even, or split at the insert of an ascending/descending run). */
  private readonly packer: IndexPacker;
  /** Start of the entry the previous mutation on this view inserted (-1: none). A hint only. */
  private prevInsLo = -1;

  constructor(private readonly nodes: IndexNodes) {
    this.packer = new IndexPacker(nodes);
    this.i32 = nodes.i32;
    this.f64 = nodes.f64;
    this.nb32 = nodes.nb32;
    this.nb64 = nodes.nb64;
  }

  /**
   * The new root after overwriting [lo, hi) with `id` (0: erase), or -1 when nothing changes.
   * Throws IndexFullError (the caller rolls back opAllocated).
   */
  rebuild(oldRoot: number, lo: number, hi: number, id: number): number {
    this.countDelta = 0;
    this.packer.insLo = lo;
    this.packer.insId = id;
    const prev = this.prevInsLo;
    this.prevInsLo = id !== 0 ? lo : -1;
    const fast = this.pathCopyMutation(oldRoot, lo, hi, id, prev);
    if (fast >= 0) return fast;
    let repl: ItemList | null = null;
    if (id !== 0) {
      repl = new ItemList();
      repl.push(lo, hi, id);
    }
    if (oldRoot === 0) {
      if (repl === null) return -1;
      this.countDelta = 1;
      return this.buildRoot(repl, 0);
    }
    const res = this.update(oldRoot, lo, hi, repl, prev);
    if (res === null) return -1;
    opRetired.push(oldRoot);
    return this.buildRoot(res, this.level(oldRoot));
  }

  /**
   * The common case, as a plain copy-on-write path copy: everything [lo, hi) overlaps, and the
   * place where `id` goes, lie in one leaf, and the rebuilt leaf neither overflows nor underflows.
   * Copies that leaf and its ancestors (one node per level), fixing the bounds on the way up.
   * Returns the new root, or -1 (nothing allocated) when the general rebuild is needed.
   */
  private pathCopyMutation(
    root: number,
    lo: number,
    hi: number,
    id: number,
    prevInsLo: number,
  ): number {
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
        t = this.gapChild(n, a, c, prevInsLo);
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
      const ob = this.nb32 + old * W32;
      i32.copyWithin(this.nb32 + copy * W32, ob, ob + W32);
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
      cur = this.packer.pack(cur, lvl);
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
  private update(
    n: number,
    lo: number,
    hi: number,
    repl: ItemList | null,
    prevInsLo: number,
  ): ItemList | null {
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
      from = this.gapChild(n, a, c, prevInsLo);
      to = from;
    }
    const merged = new ItemList();
    for (let i = from; i <= to; i++) {
      const child = this.ptr(n, i);
      const r = this.update(child, lo, hi, i === from ? repl : null, prevInsLo);
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
    if (merged.length > 0) out.append(this.packer.children(merged, level - 1, prevInsLo));
    for (let i = to + 1; i < c; i++) out.push(this.loAt(n, i), this.hiAt(n, i), this.ptr(n, i));
    return out;
  }

  /**
   * The child of internal node `n` (count `c`) that gets an entry falling in no child's range,
   * between children a - 1 and a (`a`: the first child whose hi is above the entry). Usually
   * a - 1, the entry appended at its end. But when the entry comes right below the previous
   * insert, which starts child a (mmap after mmap top-down, below the ones before), child a if
   * its leaf has room: prepended there, such a run of inserts fills leaves from their start and
   * leaves child a - 1 (often unrelated older entries) as it was. Appending at the end of a - 1
   * instead, every split of it left half of its leaf to those older entries for good (leaves
   * half full under top-down mmaps: twice the index bytes per VMA; issue 11's memory budget).
   */
  private gapChild(n: number, a: number, c: number, prevInsLo: number): number {
    if (a === 0) return 0;
    if (a < c && this.loAt(n, a) === prevInsLo) {
      const child = this.ptr(n, a);
      if (this.level(n) > 1 || this.countOf(child) < F) return a;
    }
    return a - 1;
  }

  private allocNode(): number {
    return this.nodes.allocNode();
  }
  private freeNode(n: number): void {
    this.nodes.freeNode(n);
  }
  private makeNode(level: number, items: ItemList, from: number, size: number): number {
    return this.nodes.makeNode(level, items, from, size);
  }
  private readItems(n: number, into: ItemList): void {
    this.nodes.readItems(n, into);
  }
  private countOf(n: number): number {
    return this.nodes.countOf(n);
  }
  private level(n: number): number {
    return this.nodes.level(n);
  }
  private loAt(n: number, i: number): number {
    return this.nodes.loAt(n, i);
  }
  private hiAt(n: number, i: number): number {
    return this.nodes.hiAt(n, i);
  }
  private ptr(n: number, i: number): number {
    return this.nodes.ptr(n, i);
  }
}
