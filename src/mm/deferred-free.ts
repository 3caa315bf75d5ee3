import type { ArenaCommit } from './arena-commit.js';
import {
  type ArenaGeometry,
  type ArenaViews,
  I32_NODE_IN_USE,
  I32_RETIRE_HEAD,
  I32_RETIRE_HIGH_WATER,
  I32_RETIRE_TAIL,
  I32_VMA_IN_USE,
  RETIRE_ENTRY_BYTES,
} from './arena-layout.js';

/**
 * What the deferred-free list needs from an RCU implementation (src/sync/rcu.ts provides the
 * real one). `retireStamp()` is called after an object was unpublished; `isGraceOver(stamp)`
 * must return true only once every reader that could have seen the object has left its read
 * section. Stamps must be non-decreasing over successive calls (the list is reclaimed in FIFO
 * order and stops at the first stamp whose grace is not over).
 */
export interface GracePeriods {
  retireStamp(): number;
  isGraceOver(stamp: number): boolean;
  /**
   * Optional `synchronize_rcu`: block until every read section that began before the call has
   * ended. Used only when the arena runs out of VMA records or index nodes while retired ones
   * are still waiting for grace (a reader stalled inside a long section): the writer waits,
   * reclaims and retries instead of failing with ENOMEM. It is called with the mmap write lock
   * held, so a reader must never wait for the mmap lock inside an RCU read section (Linux's rule
   * too: lock_next_vma drops RCU before mmap_read_lock). src/sync's RcuDomain has it.
   */
  synchronize?(): unknown;
  /**
   * Optional batched grace periods (src/sync's RcuDomain has them): `nextStamp()` stamps a
   * retired object without any shared write, `startGracePeriod(stamp)` starts the grace period
   * of every object stamped so far with one write. Without them every retire advances the epoch.
   */
  nextStamp?(): number;
  startGracePeriod?(stamp: number): void;
}

/**
 * Writers reclaim (check grace periods, which reads every reader's RCU slot) only once this many
 * objects wait, like call_rcu's callback batches: the common path of a write touches no line a
 * reader writes, and no line a reader reads but the index itself (docs/mechanisms.md).
 */
export const RECLAIM_BATCH = 256;
/**
 * A small arena reclaims sooner: its batch is a sixteenth of the objects it holds, but at least
 * this many. Retired objects keep their slots (and pages) until reclaimed, so a fixed batch of
 * 256 index nodes (80 KB) would dwarf a 100-VMA process, and even 16 waiting nodes (5 KB) took a
 * page more than its 10 live nodes (issue 11: bytes per hosted VMA). Writes to such a process are
 * rare enough that a reclaim every few of them costs nothing measurable.
 */
export const RECLAIM_MIN_BATCH = 8;
/** The batch is held objects >> RECLAIM_SHARE_SHIFT (a sixteenth), within [MIN, RECLAIM_BATCH]. */
export const RECLAIM_SHARE_SHIFT = 4;
/**
 * After an attempt that left objects waiting (a reader still inside a section that began before
 * their grace period), writes skip this many reclaim points before trying again: grace periods
 * end at readers' pace, not at every write.
 */
export const RECLAIM_BACKOFF = 64;

/**
 * Grace periods for single-threaded use only (unit tests, building templates before an arena is
 * shared): every grace period is over at once, so retired objects are reclaimed at the start of
 * the next write. Never use it while another thread may be reading the arena.
 */
export const IMMEDIATE_GRACE: GracePeriods = {
  retireStamp: () => 0,
  isGraceOver: () => true,
};

/** Called for each reclaimed object: a VMA record id (> 0) or an index node id (kind 'node'). */
export interface Reclaimer {
  freeVma(id: number): void;
  freeNode(id: number): void;
}

/**
 * The retire list of one arena: a FIFO ring of (stamp, item) in the arena, so any thread that
 * takes the mmap write lock can continue it. Protected by the mmap write lock (head, tail and
 * the ring slots are only touched by writers).
 *
 * Items: > 0 a VMA record id, < 0 the negated id of an index node. Each object is retired at
 * most once before it is reclaimed, so the ring (sized for all VMA and node slots) never fills.
 */
export class DeferredFree {
  private readonly i32: Int32Array;
  /**
   * The arena as Float64 slots (the shared view: a typed array of its own per arena per thread
   * would cost memory per hosted process). The ring grows down from nodeBase (arena-layout.ts):
   * slot s's stamp is at ring[at(s)], its item at ring[at(s) + 1].
   */
  private readonly ring: Float64Array;
  private readonly capacity: number;
  /** Per-thread: the RCU implementation this thread uses (not stored in the arena). */
  grace: GracePeriods;
  /** Per-thread statistics: objects this thread retired / reclaimed. */
  retiredTotal = 0;
  reclaimedTotal = 0;
  /** Per-thread: times a writer had to wait for a grace period because the arena was full. */
  synchronizeCalls = 0;
  /** Per-thread: reclaim points to skip before the next batched attempt. */
  private backoff = 0;

  private readonly commit: ArenaCommit;
  /** Byte offset of the ring's top (slot 0 lies just below it): the arena's nodeBase. */
  private readonly ringTop: number;

  constructor(
    views: ArenaViews,
    geometry: ArenaGeometry,
    grace: GracePeriods,
    commit: ArenaCommit,
  ) {
    this.commit = commit;
    this.ringTop = geometry.retireBase + geometry.retireCapacity * RETIRE_ENTRY_BYTES;
    this.i32 = views.i32;
    this.capacity = geometry.retireCapacity;
    this.ring = views.f64;
    this.grace = grace;
  }

  /** Objects retired and not yet reclaimed. */
  get pending(): number {
    return this.i32[I32_RETIRE_TAIL] - this.i32[I32_RETIRE_HEAD];
  }

  /** Retire one VMA record (already unreachable from the index root readers load). */
  retireVma(id: number): void {
    this.push(this.stamp(), id);
  }

  private stamp(): number {
    const g = this.grace;
    return g.nextStamp !== undefined ? g.nextStamp() : g.retireStamp();
  }

  /**
   * Retire index nodes replaced by a mutation, after the new root was published. One stamp for
   * the whole batch.
   */
  retireNodes(ids: ArrayLike<number>, count = ids.length): void {
    if (count === 0) return;
    const stamp = this.stamp();
    for (let i = 0; i < count; i++) this.push(stamp, -ids[i]);
  }

  private push(stamp: number, item: number): void {
    const tail = this.i32[I32_RETIRE_TAIL];
    if (tail - this.i32[I32_RETIRE_HEAD] >= this.capacity) {
      throw new Error('retire ring overflow (an object was retired twice?)');
    }
    const slot = tail % this.capacity;
    const at = this.at(slot);
    this.ring[at] = stamp;
    this.ring[at + 1] = item;
    this.i32[I32_RETIRE_TAIL] = tail + 1;
    if (slot >= this.i32[I32_RETIRE_HIGH_WATER]) {
      // A first use of this slot may reach a new page (below the ones in use): charged, never
      // refused (a retired object must be queued; the next allocation sees the budget).
      const prevLow = this.ringTop - this.i32[I32_RETIRE_HIGH_WATER] * RETIRE_ENTRY_BYTES;
      this.commit.growDownForced(prevLow, this.ringTop - (slot + 1) * RETIRE_ENTRY_BYTES);
      this.i32[I32_RETIRE_HIGH_WATER] = slot + 1;
    }
    this.retiredTotal++;
  }

  /** Float64 index in `ring` of slot `slot`'s stamp (its item follows). */
  private at(slot: number): number {
    return (this.ringTop - (slot + 1) * RETIRE_ENTRY_BYTES) / 8;
  }

  /** reclaim() once RECLAIM_BATCH objects wait (what every write calls; see RECLAIM_BACKOFF). */
  reclaimBatch(to: Reclaimer): number {
    // Without batched grace periods (IMMEDIATE_GRACE, tests' own RCUs) reclaim at every point.
    if (this.grace.startGracePeriod === undefined) return this.reclaim(to);
    const batch = this.batchSize();
    if (this.pending < batch || --this.backoff > 0) return 0;
    const n = this.reclaim(to);
    this.backoff = this.pending >= batch ? RECLAIM_BACKOFF : 0;
    return n;
  }

  /** Objects that may wait before a write reclaims: RECLAIM_BATCH, less for a small arena. */
  batchSize(): number {
    const held = this.i32[I32_VMA_IN_USE] + this.i32[I32_NODE_IN_USE];
    return Math.min(RECLAIM_BATCH, Math.max(RECLAIM_MIN_BATCH, held >> RECLAIM_SHARE_SHIFT));
  }

  /**
   * On exhaustion: if objects are waiting for grace and the RCU can synchronize, wait for a full
   * grace period and reclaim everything retired so far. Returns true if it reclaimed anything
   * (the caller retries its allocation), false if there was nothing to wait for.
   */
  waitAndReclaim(to: Reclaimer): boolean {
    if (this.pending === 0 || this.grace.synchronize === undefined) return false;
    this.grace.synchronize();
    this.synchronizeCalls++;
    return this.reclaim(to) > 0;
  }

  /**
   * Reclaim, in retire order, every object whose grace period is over. Called by writers at the
   * start of each write (mmap write lock held). Returns the number reclaimed.
   */
  reclaim(to: Reclaimer): number {
    const i32 = this.i32;
    let head = i32[I32_RETIRE_HEAD];
    const tail = i32[I32_RETIRE_TAIL];
    if (head === tail) return 0;
    // Start the grace period of everything stamped so far (the newest stamp covers the rest).
    this.grace.startGracePeriod?.(this.ring[this.at((tail - 1) % this.capacity)]);
    let n = 0;
    while (head !== tail) {
      const at = this.at(head % this.capacity);
      if (!this.grace.isGraceOver(this.ring[at])) break;
      const item = this.ring[at + 1];
      if (item > 0) to.freeVma(item);
      else to.freeNode(-item);
      head++;
      n++;
    }
    this.reclaimedTotal += n;
    if (head === tail) {
      // Empty: restart the counters so they never approach int32 overflow.
      i32[I32_RETIRE_HEAD] = 0;
      i32[I32_RETIRE_TAIL] = 0;
    } else if (head >= this.capacity) {
      i32[I32_RETIRE_HEAD] = head - this.capacity;
      i32[I32_RETIRE_TAIL] = tail - this.capacity;
    } else {
      i32[I32_RETIRE_HEAD] = head;
    }
    return n;
  }
}
