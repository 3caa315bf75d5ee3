/**
 * Epoch-based RCU across threads sharing one SharedArrayBuffer (layout.ts, RCU_*).
 *
 * Readers: `readLock()` records the global epoch in this thread's slot (its own cache line),
 * `readUnlock()` clears it; sections nest (a per-thread counter), only the outermost touches
 * shared memory: one Atomics.load + one Atomics.store to enter, one store + one load to leave.
 *
 * Reclaimers: an object removed from every shared structure (e.g. unlinked from the VMA index
 * with an Atomics.store of the new root) is given `retireStamp()`, which advances the global
 * epoch and returns its new value. `isGraceOver(stamp)` becomes true once no thread is still in a
 * read section that began before that advance; then nobody can hold a reference to the object and
 * it may be freed or reused. Why that is enough: a reader that entered later loaded the epoch
 * after the advance, hence after the unlink (Atomics are sequentially consistent), so it can only
 * have found the new structure.
 *
 * Epochs advance by 2 and stay even; an active slot holds epoch + 1 (odd), a quiescent one 0.
 * Comparisons are wrap-safe (signed 32-bit differences), so only a read section that stays open
 * across 2^30 retirements could be misjudged.
 *
 * Each thread uses its own `RcuDomain` object for a buffer (`RcuDomain.attach` returns the same
 * one for the same buffer within a thread), registered in a free slot on first use. A thread must
 * not exit inside a read section, and should `unregister()` before exiting to free its slot.
 */
import {
  RCU_DEFAULT_MAX_THREADS,
  RCU_EPOCH,
  RCU_HEADER_WORDS,
  RCU_MAX_SLOTS,
  RCU_SLOT_HIGH_WATER,
  RCU_SLOT_OWNER,
  RCU_SLOT_STATE,
  RCU_SLOT_WORDS,
  RCU_SYNC_WAITERS,
  rcuBufferBytes,
} from './layout.js';
import {
  assertMayBlock,
  nowNs,
  sleepWhileEqual,
  sleepWhileEqualAsync,
  type WaitObserver,
} from './wait.js';

/**
 * What a deferred-free list needs from RCU: stamp an object when it is retired, and ask whether
 * its grace period is over (then it may be freed).
 */
export interface GracePeriods {
  retireStamp(): number;
  isGraceOver(stamp: number): boolean;
}

const FIRST_EPOCH = 2;

/** True if slot value `v` is a read section that began before `stamp` was taken. */
function sectionBlocks(v: number, stamp: number): boolean {
  return (v & 1) !== 0 && ((((v - 1) | 0) - stamp) | 0) < 0;
}
const EPOCH_STEP = 2;

/** Per-thread instances, so nested sections on one thread share one nesting counter. */
const attached = new WeakMap<SharedArrayBuffer, RcuDomain>();

export class RcuDomain implements GracePeriods {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  /** Word index of this thread's slot state, or -1 before registration. Thread-local. */
  private slot = -1;
  /** Read-section nesting depth on this thread. Thread-local. */
  private nesting = 0;
  /** Highest epoch known to be safe (every stamp <= it is over). Thread-local cache. */
  private safeEpoch: number;
  /**
   * This thread's reclaimer-side traffic on lines readers use (evidence for
   * docs/mechanisms.md): epoch writes, scans of the readers' slots, synchronize() waits.
   */
  readonly stats = { epochWrites: 0, slotScans: 0, syncWaits: 0, syncWaitNs: 0 };

  /** A new domain in a fresh SharedArrayBuffer, with room for `maxThreads` reader threads. */
  static create(maxThreads: number = RCU_DEFAULT_MAX_THREADS): RcuDomain {
    if (!Number.isInteger(maxThreads) || maxThreads < 1) {
      throw new RangeError('RcuDomain.create: maxThreads must be a positive integer');
    }
    const buffer = new SharedArrayBuffer(rcuBufferBytes(maxThreads));
    const words = new Int32Array(buffer);
    words[RCU_MAX_SLOTS] = maxThreads;
    words[RCU_EPOCH] = FIRST_EPOCH;
    return RcuDomain.attach(buffer);
  }

  /** This thread's view of an existing domain (the same object on every call in this thread). */
  static attach(buffer: SharedArrayBuffer): RcuDomain {
    let domain = attached.get(buffer);
    if (domain === undefined) {
      domain = new RcuDomain(buffer);
      attached.set(buffer, domain);
    }
    return domain;
  }

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.words = new Int32Array(buffer);
    const max = Atomics.load(this.words, RCU_MAX_SLOTS);
    if (max < 1 || buffer.byteLength < rcuBufferBytes(max)) {
      throw new RangeError('RcuDomain.attach: buffer is not an RCU domain');
    }
    this.safeEpoch = this.scanSafeEpoch();
  }

  /** Claims a reader slot for this thread (done implicitly by the first readLock). */
  register(): void {
    if (this.slot >= 0) return;
    const w = this.words;
    const max = Atomics.load(w, RCU_MAX_SLOTS);
    for (let i = 0; i < max; i++) {
      const base = RCU_HEADER_WORDS + i * RCU_SLOT_WORDS;
      if (Atomics.compareExchange(w, base + RCU_SLOT_OWNER, 0, 1) !== 0) continue;
      for (let hw = Atomics.load(w, RCU_SLOT_HIGH_WATER); hw < i + 1; ) {
        const seen = Atomics.compareExchange(w, RCU_SLOT_HIGH_WATER, hw, i + 1);
        if (seen === hw) break;
        hw = seen;
      }
      this.slot = base + RCU_SLOT_STATE;
      return;
    }
    throw new RangeError(`RCU: all ${max} reader slots are taken (more threads than maxThreads)`);
  }

  /** Frees this thread's slot (call before the thread exits). Must be outside any read section. */
  unregister(): void {
    if (this.slot < 0) return;
    if (this.nesting !== 0) throw new Error('RCU: unregister inside a read section');
    Atomics.store(this.words, this.slot - RCU_SLOT_STATE + RCU_SLOT_OWNER, 0);
    this.slot = -1;
  }

  /** `rcu_read_lock`: until the matching readUnlock, nothing retired after now is freed. */
  readLock(): void {
    if (this.nesting !== 0) {
      this.nesting++;
      return;
    }
    if (this.slot < 0) this.register();
    this.nesting = 1;
    const epoch = Atomics.load(this.words, RCU_EPOCH);
    // Sequentially consistent store: it is ordered before every load the section makes.
    Atomics.store(this.words, this.slot, (epoch + 1) | 0);
  }

  /** `rcu_read_unlock`. Wakes synchronize() callers when the outermost section ends. */
  readUnlock(): void {
    if (this.nesting === 0) throw new Error('RCU: readUnlock without readLock');
    if (--this.nesting !== 0) return;
    Atomics.store(this.words, this.slot, 0);
    if (Atomics.load(this.words, RCU_SYNC_WAITERS) !== 0) Atomics.notify(this.words, this.slot);
  }

  /** True while this thread is inside a read section. */
  inReadSection(): boolean {
    return this.nesting !== 0;
  }

  /** Advances the global epoch; the returned stamp is what to record on a retired object. */
  retireStamp(): number {
    this.stats.epochWrites++;
    return (Atomics.add(this.words, RCU_EPOCH, EPOCH_STEP) + EPOCH_STEP) | 0;
  }

  /**
   * The stamp of the next grace period, without starting it: one load, no shared write (Linux's
   * call_rcu records the next gp_seq and returns; grace periods start and end elsewhere, for
   * whole batches). Valid for an object unpublished before the call: every reader that could
   * have seen it entered at an epoch below the stamp. Its grace period starts only with
   * `startGracePeriod(stamp)`; until then `isGraceOver(stamp)` stays false.
   */
  nextStamp(): number {
    return (Atomics.load(this.words, RCU_EPOCH) + EPOCH_STEP) | 0;
  }

  /**
   * Starts the grace period of `stamp` (from nextStamp): advances the epoch to it unless it is
   * there already. One write for every object stamped since the last start.
   */
  startGracePeriod(stamp: number): void {
    const w = this.words;
    for (;;) {
      const e = Atomics.load(w, RCU_EPOCH);
      if (((e - stamp) | 0) >= 0) return;
      this.stats.epochWrites++;
      if (Atomics.compareExchange(w, RCU_EPOCH, e, stamp) === e) return;
    }
  }

  /**
   * True once every read section that was open when `stamp` was taken has ended. Cheap when it
   * is (a cached bound); otherwise one Atomics.load per registered slot.
   */
  isGraceOver(stamp: number): boolean {
    if (((this.safeEpoch - stamp) | 0) >= 0) return true;
    const safe = this.scanSafeEpoch();
    if (((safe - this.safeEpoch) | 0) > 0) this.safeEpoch = safe;
    return ((safe - stamp) | 0) >= 0;
  }

  /**
   * The smallest epoch any open read section began at, or the current epoch if none is open:
   * every stamp up to it is over. Reading the epoch first makes a section that opens during the
   * scan harmless: it began at or after that epoch.
   */
  private scanSafeEpoch(): number {
    this.stats.slotScans++;
    const w = this.words;
    let safe = Atomics.load(w, RCU_EPOCH);
    const hw = Atomics.load(w, RCU_SLOT_HIGH_WATER);
    for (let i = 0; i < hw; i++) {
      const v = Atomics.load(w, RCU_HEADER_WORDS + i * RCU_SLOT_WORDS + RCU_SLOT_STATE);
      if ((v & 1) === 0) continue;
      const began = (v - 1) | 0;
      if (((began - safe) | 0) < 0) safe = began;
    }
    return safe;
  }

  /** The slot word of a read section that blocks `stamp`, or -1 if none does. */
  private findBlockingSlot(stamp: number): number {
    const w = this.words;
    const hw = Atomics.load(w, RCU_SLOT_HIGH_WATER);
    for (let i = 0; i < hw; i++) {
      const idx = RCU_HEADER_WORDS + i * RCU_SLOT_WORDS + RCU_SLOT_STATE;
      const v = Atomics.load(w, idx);
      if (sectionBlocks(v, stamp)) return idx;
    }
    return -1;
  }

  private assertNotReading(what: string): void {
    if (this.nesting !== 0) throw new Error(`RCU: ${what} inside a read section would deadlock`);
  }

  /**
   * The waits of one grace period (both `synchronize`s): each reader slot whose section blocks
   * `stamp`, as [slot, word seen], rescanned after every wait; the caller sleeps until that word
   * changes. The caller counts in RCU_SYNC_WAITERS from the first step until its loop ends (the
   * `finally` also runs when the loop throws: for-of closes the generator).
   */
  private *graceWaits(stamp: number, observer?: WaitObserver): Generator<[number, number]> {
    const w = this.words;
    Atomics.add(w, RCU_SYNC_WAITERS, 1);
    try {
      for (let idx = this.findBlockingSlot(stamp); idx >= 0; idx = this.findBlockingSlot(stamp)) {
        const v = Atomics.load(w, idx);
        if (!sectionBlocks(v, stamp)) continue;
        observer?.beforeWait();
        yield [idx, v];
      }
    } finally {
      Atomics.sub(w, RCU_SYNC_WAITERS, 1);
    }
  }

  /**
   * `synchronize_rcu` (blocking, worker threads only): returns once every read section open at
   * the call has ended. Returns the nanoseconds waited.
   */
  synchronize(observer?: WaitObserver): number {
    this.assertNotReading('synchronize');
    const stamp = this.retireStamp();
    if (this.isGraceOver(stamp)) return 0;
    assertMayBlock('synchronizeRcu');
    const t0 = nowNs();
    for (const [idx, v] of this.graceWaits(stamp, observer)) sleepWhileEqual(this.words, idx, v);
    const waited = nowNs() - t0;
    this.stats.syncWaits++;
    this.stats.syncWaitNs += waited;
    return waited;
  }

  /** `synchronize_rcu` for the event loop. Resolves to the nanoseconds waited. */
  async synchronizeAsync(observer?: WaitObserver): Promise<number> {
    this.assertNotReading('synchronizeAsync');
    const stamp = this.retireStamp();
    if (this.isGraceOver(stamp)) return 0;
    const t0 = nowNs();
    for (const [idx, v] of this.graceWaits(stamp, observer)) {
      await sleepWhileEqualAsync(this.words, idx, v);
    }
    this.isGraceOver(stamp); // refresh the cached bound
    return nowNs() - t0;
  }
}

/** `rcu_read_lock` on this thread's view of `rcu`. */
export function rcuReadLock(rcu: RcuDomain): void {
  rcu.readLock();
}

/** `rcu_read_unlock` on this thread's view of `rcu`. */
export function rcuReadUnlock(rcu: RcuDomain): void {
  rcu.readUnlock();
}

/** `synchronize_rcu` (blocking, worker threads only). */
export function synchronizeRcu(rcu: RcuDomain, observer?: WaitObserver): number {
  return rcu.synchronize(observer);
}

/** `synchronize_rcu` for the event loop. */
export function synchronizeRcuAsync(rcu: RcuDomain, observer?: WaitObserver): Promise<number> {
  return rcu.synchronizeAsync(observer);
}
