/**
 * The service's memory budget (`--max-memory`), in shared memory so that every thread that grows
 * an arena (the event loop, worker CPUs, activity threads) charges the same counter.
 *
 * What is charged is what is really allocated: the pages of each arena the OS has committed
 * (charged by the arena's allocators as their high-water marks cross into a new page, see
 * `ArenaCommit`), a fixed cost per process per engine thread (the JS views of its arena), and
 * each activity (its thread). A charge that would pass the limit is refused: the caller answers
 * ENOMEM (or EAGAIN for activities) and nothing changes, so the service is never OOM-killed for a
 * client's allocations.
 *
 * Layout (Int32 words, all accessed with Atomics; amounts in pages of PAGE_BYTES):
 *   0 limit, 1 used, 2 refusals (monotonic).
 */
import { PAGE_BYTES } from './arena-layout.js';

const W_LIMIT = 0;
const W_USED = 1;
const W_REFUSED = 2;
const WORDS = 16;
/** Largest limit representable (2^31 - 1 pages, ~8 TiB): "no limit". */
const MAX_PAGES = 0x7fff_ffff;

function pagesOf(bytes: number): number {
  return Math.ceil(bytes / PAGE_BYTES);
}

export class MemoryBudget {
  private readonly w: Int32Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
  }

  /** A budget of `limitBytes` (default: no limit), nothing charged. */
  static create(limitBytes = Number.POSITIVE_INFINITY): MemoryBudget {
    if (!(limitBytes >= 0)) throw new RangeError(`bad memory limit ${limitBytes}`);
    const b = new MemoryBudget(new SharedArrayBuffer(WORDS * 4));
    b.w[W_LIMIT] = Math.min(MAX_PAGES, Math.floor(limitBytes / PAGE_BYTES));
    return b;
  }

  /** On another thread: the budget whose `buffer` this is. */
  static attach(buffer: SharedArrayBuffer): MemoryBudget {
    return new MemoryBudget(buffer);
  }

  get limitBytes(): number {
    return Atomics.load(this.w, W_LIMIT) * PAGE_BYTES;
  }
  get usedBytes(): number {
    return Atomics.load(this.w, W_USED) * PAGE_BYTES;
  }
  /** Charges refused so far (monotonic). */
  get refusals(): number {
    return Atomics.load(this.w, W_REFUSED);
  }
  /** Whether more is charged than the limit (after forced charges). */
  get over(): boolean {
    return Atomics.load(this.w, W_USED) > Atomics.load(this.w, W_LIMIT);
  }

  /** Charges `bytes` (rounded up to pages) if that stays within the limit; else counts a refusal. */
  tryCharge(bytes: number): boolean {
    const pages = pagesOf(bytes);
    const limit = Atomics.load(this.w, W_LIMIT);
    let used = Atomics.load(this.w, W_USED);
    for (;;) {
      if (used + pages > limit) {
        Atomics.add(this.w, W_REFUSED, 1);
        return false;
      }
      const seen = Atomics.compareExchange(this.w, W_USED, used, used + pages);
      if (seen === used) return true;
      used = seen;
    }
  }

  /**
   * Charges `bytes` even past the limit: for memory that is already committed (an arena built
   * unshared, checked with `over` once complete; a retire ring slot, which cannot fail).
   */
  charge(bytes: number): void {
    Atomics.add(this.w, W_USED, pagesOf(bytes));
  }

  /** Gives back what a charge of `bytes` took. */
  release(bytes: number): void {
    Atomics.sub(this.w, W_USED, pagesOf(bytes));
  }

  /** Counts a refusal made by a caller's own check (e.g. `over` after a build). */
  countRefusal(): void {
    Atomics.add(this.w, W_REFUSED, 1);
  }
}
