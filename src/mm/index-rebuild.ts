import { NODE_I32_COUNT, NODE_I32_LEVEL, NODE_MIN_FILL } from './arena-layout.js';
import {
  F,
  HI64,
  type IndexNodes,
  ItemList,
  LO64,
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
  /** Bytes of [lo, hi) the current mutation overwrote or erased (for total_vm, index-ops.ts). */
  coveredBytes = 0;
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
   * The new root after overwriting [lo, hi) with `id` (0: erase) over [lo, idHi) (lo < idHi <=
   * hi; [idHi, hi) is erased), or -1 when nothing changes. Throws IndexFullError (the caller
   * rolls back opAllocated).
   */
  rebuild(oldRoot: number, lo: number, hi: number, id: number, idHi = hi): number {
    this.countDelta = 0;
    this.coveredBytes = 0;
    this.packer.insLo = lo;
    this.packer.insId = id;
    const prev = this.prevInsLo;
    this.prevInsLo = id !== 0 ? lo : -1;
    const fast = this.pathCopyMutation(oldRoot, lo, hi, id, idHi, prev);
    if (fast >= 0) return fast;
    this.coveredBytes = 0; // the fast path may have counted before giving up
    let repl: ItemList | null = null;
    if (id !== 0) {
      repl = new ItemList();
      repl.push(lo, idHi, id);
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
   * Layout constants are read into locals once: V8 reloads and checks an import at each use.
   */
  private pathCopyMutation(
    root: number,
    lo: number,
    hi: number,
    id: number,
    idHi: number,
    prevInsLo: number,
  ): number {
    if (root === 0) return -1;
    const i32 = this.i32;
    const f64 = this.f64;
    const nb32 = this.nb32;
    const nb64 = this.nb64;
    const w32 = W32;
    const w64 = W64;
    const loOff = LO64;
    const hiOff = HI64;
    const ptrOff = PTR32;
    const countOff = NODE_I32_COUNT;
    const levelOff = NODE_I32_LEVEL;
    let n = root;
    let depth = 0;
    // Descend, choosing the child exactly as update() does.
    while (i32[nb32 + n * w32 + levelOff] > 0) {
      const c = i32[nb32 + n * w32 + countOff];
      const nLo = nb64 + n * w64 + loOff;
      const nHi = nb64 + n * w64 + hiOff;
      let a = 0;
      while (a < c && f64[nHi + a] <= lo) a++;
      let t: number;
      if (a < c && f64[nLo + a] < hi) {
        if (a + 1 < c && f64[nLo + a + 1] < hi) return -1; // spans two children
        t = a;
      } else {
        if (id === 0) return -1; // erase of nothing: the general path returns "no change"
        t = this.gapChild(n, a, c, prevInsLo);
      }
      pathNode[depth] = n;
      pathPos[depth] = t;
      depth++;
      n = i32[nb32 + n * w32 + ptrOff + t];
    }
    // Plan the rebuilt leaf: items [0, i0) end at or below lo and stay, [i0, i1) overlap
    // [lo, hi), [i1, c) start at or above hi and stay. Of the overlapped entries only the first
    // can stick out below lo (its head stays) and only the last above hi (its tail stays).
    const c = i32[nb32 + n * w32 + countOff];
    const oLo = nb64 + n * w64 + loOff;
    const oHi = nb64 + n * w64 + hiOff;
    const oPtr = nb32 + n * w32 + ptrOff;
    let i0 = 0;
    while (i0 < c && f64[oHi + i0] <= lo) i0++;
    let i1 = i0;
    let covered = 0;
    while (i1 < c && f64[oLo + i1] < hi) {
      const st = f64[oLo + i1];
      const en = f64[oHi + i1];
      covered += Math.min(en, hi) - Math.max(st, lo);
      i1++;
    }
    const removed = i1 - i0;
    if (removed === 0 && id === 0) return -1;
    const headLo = removed > 0 ? f64[oLo + i0] : lo;
    const tailHi = removed > 0 ? f64[oHi + i1 - 1] : hi;
    const keepHead = headLo < lo;
    const keepTail = tailHi > hi;
    const added = (keepHead ? 1 : 0) + (id !== 0 ? 1 : 0) + (keepTail ? 1 : 0);
    const k = c - removed + added;
    if (k > F) return -1; // overflow: needs a split
    if (k === 0 || (depth > 0 && k < NODE_MIN_FILL)) return -1; // underflow: needs a merge
    // Commit: the new leaf, written straight from the old one, then one copy per ancestor.
    const leaf = this.allocNode();
    i32[nb32 + leaf * w32 + countOff] = k;
    i32[nb32 + leaf * w32 + levelOff] = 0;
    const lLo = nb64 + leaf * w64 + loOff;
    const lHi = nb64 + leaf * w64 + hiOff;
    const lPtr = nb32 + leaf * w32 + ptrOff;
    this.copyItems(n, 0, leaf, 0, i0);
    let j = i0;
    if (keepHead) {
      f64[lLo + j] = headLo;
      f64[lHi + j] = lo;
      i32[lPtr + j] = i32[oPtr + i0];
      j++;
    }
    if (id !== 0) {
      f64[lLo + j] = lo;
      f64[lHi + j] = idHi;
      i32[lPtr + j] = id;
      j++;
    }
    if (keepTail) {
      f64[lLo + j] = hi;
      f64[lHi + j] = tailHi;
      i32[lPtr + j] = i32[oPtr + i1 - 1];
      j++;
    }
    this.copyItems(n, i1, leaf, j, c - i1);
    opRetired.push(n);
    this.coveredBytes = covered;
    this.countDelta += added - removed;
    let child = leaf;
    let cLo = f64[lLo];
    let cHi = f64[lHi + k - 1];
    for (let d = depth - 1; d >= 0; d--) {
      const old = pathNode[d];
      const pos = pathPos[d];
      const copy = this.allocNode();
      // Copy the used items only (the unused tail of a node is never read).
      const oc = i32[nb32 + old * w32 + countOff];
      i32[nb32 + copy * w32 + countOff] = oc;
      i32[nb32 + copy * w32 + levelOff] = i32[nb32 + old * w32 + levelOff];
      this.copyItems(old, 0, copy, 0, oc);
      const cpLo = nb64 + copy * w64 + loOff;
      const cpHi = nb64 + copy * w64 + hiOff;
      const cpPtr = nb32 + copy * w32 + ptrOff;
      f64[cpLo + pos] = cLo;
      f64[cpHi + pos] = cHi;
      i32[cpPtr + pos] = child;
      opRetired.push(old);
      child = copy;
      cLo = f64[cpLo];
      cHi = f64[cpHi + oc - 1];
    }
    return child;
  }

  /** Copy items [from, from + count) of node `src` to items [to, to + count) of node `dst`. */
  private copyItems(src: number, from: number, dst: number, to: number, count: number): void {
    const i32 = this.i32;
    const f64 = this.f64;
    const sLo = this.nb64 + src * W64 + LO64 + from;
    const sHi = this.nb64 + src * W64 + HI64 + from;
    const sPtr = this.nb32 + src * W32 + PTR32 + from;
    const dLo = this.nb64 + dst * W64 + LO64 + to;
    const dHi = this.nb64 + dst * W64 + HI64 + to;
    const dPtr = this.nb32 + dst * W32 + PTR32 + to;
    for (let i = 0; i < count; i++) {
      f64[dLo + i] = f64[sLo + i];
      f64[dHi + i] = f64[sHi + i];
      i32[dPtr + i] = i32[sPtr + i];
    }
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
        this.coveredBytes += Math.min(e, hi) - Math.max(s, lo);
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
