import type { ArenaCommit } from './arena-commit.js';
import {
  type ArenaGeometry,
  type ArenaViews,
  I32_INDEX_COUNT,
  I32_INDEX_ROOT,
} from './arena-layout.js';
import type { DeferredFree } from './deferred-free.js';
import { F, IndexFullError, IndexNodes, opAllocated, opRetired } from './index-nodes.js';
import { IndexCursor, IndexReaders } from './index-readers.js';
import { IndexRebuild } from './index-rebuild.js';

export { IndexCursor, IndexFullError };

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
 *    plain-loaded immutable nodes (index-readers.ts). A reader needs no lock and never writes.
 *
 * Cost: a mutation copies one root-to-leaf path per touched leaf (O(log n) for a mutation that
 * removes O(1) entries; erasing k entries costs O(k/F + log n)).
 */
export class VmaIndex extends IndexReaders {
  private readonly nodes: IndexNodes;
  /**
   * The writer's mutation algorithms, made on this view's first mutation: most views (a reader
   * thread's, per process) never write, and each object kept per view is memory per hosted
   * process on every engine thread (issue 11's memory budget).
   */
  private rebuilder: IndexRebuild | null = null;
  /** Number of node slots, including the unused slot 0. */
  readonly nodeCapacity: number;
  /**
   * Bytes of its range the last `store`/`erase` on this view found mapped (what it overwrote or
   * erased), for total_vm (index-ops.ts). The writer's, on its own view (mmap write lock); a
   * plain field of this thread's object, not shared memory.
   */
  coveredBytes = 0;
  private readonly deferred: DeferredFree;
  private readonly onReclaimVma: (id: number) => void;

  constructor(
    views: ArenaViews,
    geometry: ArenaGeometry,
    deferred: DeferredFree,
    onReclaimVma: (id: number) => void,
    commit: ArenaCommit,
  ) {
    const nodes = new IndexNodes(views, geometry, commit);
    super(views.i32, views.f64, nodes.nb32, nodes.nb64);
    this.nodes = nodes;
    this.nodeCapacity = geometry.nodeCapacity;
    this.deferred = deferred;
    this.onReclaimVma = onReclaimVma;
  }

  // ======================= readers (more in IndexReaders, its base) ========================

  /**
   * Current root node id, for the writer only (mmap write lock held): a plain read, as every
   * store to the root was made under that lock, which orders it before this read (Atomics.load
   * is a builtin call in V8, not inlined: ~10 ns, and the syscalls read the root at every index
   * change to keep their memos).
   */
  writerRoot(): number {
    return this.i32[I32_INDEX_ROOT];
  }

  /** Number of entries (exact for the writer; a racy hint for readers). */
  get count(): number {
    return this.i32[I32_INDEX_COUNT];
  }

  // ======================================= writers =========================================
  // All of the following require the mmap write lock.

  /** Index nodes allocated (reachable, or retired and not yet reclaimed). */
  get nodesInUse(): number {
    return this.nodes.inUse;
  }

  /** Reclaim retired nodes and VMA records whose grace period is over. */
  reclaimRetired(): number {
    return this.deferred.reclaim(this.reclaimer);
  }

  /** reclaimRetired once RECLAIM_BATCH objects wait (what the write path calls). */
  reclaimRetiredBatch(): number {
    return this.deferred.reclaimBatch(this.reclaimer);
  }

  /**
   * Wait for a grace period (if the RCU can synchronize) and reclaim everything retired before;
   * false if nothing was waiting. For allocators that found the arena full.
   */
  waitForGraceAndReclaim(): boolean {
    return this.deferred.waitAndReclaim(this.reclaimer);
  }

  private readonly reclaimer = {
    freeNode: (id: number) => this.nodes.freeNode(id),
    freeVma: (id: number) => this.onReclaimVma(id),
  };

  /**
   * Map [start, end) to `id`, overwriting whatever overlapped that range: overlapped entries are
   * removed or trimmed (an entry that sticks out on both sides keeps both remainders), like
   * mas_store. Published atomically. Throws IndexFullError (index unchanged) on exhaustion.
   */
  store(start: number, end: number, id: number): void {
    if (!(start < end) || id <= 0) throw new RangeError(`bad store [${start}, ${end}) -> ${id}`);
    this.mutate(start, end, id, end);
  }

  /** Remove [start, end): entries inside are dropped, entries crossing an edge are trimmed. */
  erase(start: number, end: number): void {
    if (!(start < end)) throw new RangeError(`bad erase [${start}, ${end})`);
    this.mutate(start, end, 0, end);
  }

  /**
   * store(start, mid, id) and erase(mid, end) as one change, published atomically (munmap of a
   * VMA's tail: the split's lower part and the unmap; readers never see the upper part alone).
   */
  storeErase(start: number, mid: number, end: number, id: number): void {
    if (!(start < mid && mid <= end) || id <= 0) {
      throw new RangeError(`bad storeErase [${start}, ${mid}, ${end}) -> ${id}`);
    }
    this.mutate(start, end, id, mid);
  }

  private mutate(lo: number, hi: number, id: number, idHi: number): void {
    this.reclaimRetiredBatch();
    try {
      this.mutateOnce(lo, hi, id, idHi);
    } catch (e) {
      // Out of nodes while retired ones wait for grace: wait for a grace period, then retry once.
      if (!(e instanceof IndexFullError) || !this.deferred.waitAndReclaim(this.reclaimer)) throw e;
      this.mutateOnce(lo, hi, id, idHi);
    }
  }

  private mutateOnce(lo: number, hi: number, id: number, idHi: number): void {
    const i32 = this.i32;
    const rebuilder = (this.rebuilder ??= new IndexRebuild(this.nodes));
    opAllocated.n = 0;
    opRetired.n = 0;
    let newRoot: number;
    try {
      newRoot = rebuilder.rebuild(i32[I32_INDEX_ROOT], lo, hi, id, idHi);
    } catch (e) {
      // Nothing was published: give back every node this operation allocated (and still holds).
      for (let i = 0; i < opAllocated.n; i++) {
        if (opAllocated.ids[i] !== 0) this.nodes.freeNode(opAllocated.ids[i]);
      }
      opAllocated.n = 0;
      throw e;
    }
    if (newRoot < 0) {
      this.coveredBytes = 0;
      return; // no change
    }
    this.coveredBytes = rebuilder.coveredBytes;
    i32[I32_INDEX_COUNT] += rebuilder.countDelta;
    Atomics.store(i32, I32_INDEX_ROOT, newRoot);
    this.deferred.retireNodes(opRetired.ids, opRetired.n);
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
      const c = this.nodes.countOf(n);
      if (this.nodes.level(n) !== level)
        throw new Error(`node ${n}: level ${this.nodes.level(n)} != ${level}`);
      if (c < 1 || c > F) throw new Error(`node ${n}: count ${c}`);
      if (!isRoot && level > 0 && c < 1) throw new Error(`node ${n}: empty internal`);
      if (isRoot && level > 0 && c < 2) throw new Error(`root ${n}: single child`);
      for (let i = 0; i < c; i++) {
        const lo = this.nodes.loAt(n, i);
        const hi = this.nodes.hiAt(n, i);
        if (!(lo < hi)) throw new Error(`node ${n} item ${i}: empty range [${lo}, ${hi})`);
        if (level === 0) {
          if (lo < prevEnd) throw new Error(`entry [${lo}, ${hi}) overlaps/unsorted at ${prevEnd}`);
          prevEnd = hi;
          entries++;
        } else {
          const [clo, chi] = walk(this.nodes.ptr(n, i), level - 1, false);
          if (clo !== lo || chi !== hi) {
            throw new Error(`node ${n} item ${i}: bounds [${lo}, ${hi}) != child [${clo}, ${chi})`);
          }
        }
      }
      return [this.nodes.loAt(n, 0), this.nodes.hiAt(n, c - 1)];
    };
    walk(root, this.nodes.level(root), true);
    if (entries !== this.count) throw new Error(`count ${this.count} != entries ${entries}`);
    return nodes;
  }
}
