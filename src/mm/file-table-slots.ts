/**
 * `FileTableSlots`: the allocator side of the global FileTable (file-table.ts has the protection
 * rules; every method named `…Locked` runs under the table's spinlock): entry ids (a free list,
 * then fresh ids from a high-water mark), the intern hash (file-hash.ts), the path heap
 * (file-heap.ts), retirement until an RCU grace period is over, and the memory budget.
 *
 * Memory budget: the table reserves entries, hash and heap (file-table-layout.ts) and the OS
 * commits only the pages their high-water marks reach; those pages are charged to --max-memory
 * as the marks first reach them (`chargeLocked`): a fresh id past the last charged entry page,
 * the heap front carving a new top-order block, the hash doubling. A growth the budget refuses
 * is -ENOMEM and changes nothing; freed ids and blocks are reused before any mark moves again.
 * The charge, like the committed pages, is never given back.
 */
import { spinLock, spinUnlock } from '../sync/spinlock.js';
import { PAGE_BYTES } from './arena-layout.js';
import { type GracePeriods, IMMEDIATE_GRACE, RECLAIM_BATCH } from './deferred-free.js';
import { ENOMEM } from './errno.js';
import { FileHash } from './file-hash.js';
import { FileHeap, HEAP_MAX_BLOCK } from './file-heap.js';
import {
  chargedPages,
  E_BUILD_ID_LEN,
  E_DELETED,
  E_F64_INODE,
  E_F64_STAMP,
  E_HASH,
  E_KIND,
  E_MAJOR,
  E_MINOR,
  E_NEXT,
  E_PATH_LEN,
  E_PATH_OFF,
  E_REFS,
  E_SERIAL,
  F64_ENTRY_CHARGE,
  F64_HEAP_BYTE_CHARGE,
  FILE_KIND_REGULAR,
  type FileTableCharges,
  type FileTableUsage,
  H_CHARGED_PAGES,
  H_COUNT,
  H_FREE_HEAD,
  H_HASH_BASE,
  H_HASH_MAX_SLOTS,
  H_HASH_SLOTS,
  H_HASH_USED,
  H_HEAP_BASE,
  H_HEAP_BYTES,
  H_HEAP_WORDS,
  H_LIVE,
  H_LOCK,
  H_MARKS_BASE,
  H_RETIRE_HEAD,
  H_RETIRE_TAIL,
  H_RETIRED,
  H_SERIAL,
  INITIAL_HASH_SLOTS,
} from './file-table-layout.js';
import { FileTableView } from './file-table-view.js';
import type { MemoryBudget } from './memory-budget.js';

export class FileTableSlots extends FileTableView {
  protected readonly hash: FileHash;
  protected readonly heap: FileHeap;
  /** Pages a fresh table has touched (not charged: the service's fixed cost). */
  private readonly basePages: number;
  /** Bytes charged per entry and per heap byte (fixed at create, table-charge.ts). */
  readonly charges: FileTableCharges;
  /** Per-thread: allocations since the last batched reclaim attempt. */
  private allocTicks = 0;

  protected constructor(
    buffer: SharedArrayBuffer,
    /** What the table's pages are charged to as its high-water marks reach them (--max-memory). */
    private readonly budget: MemoryBudget | null,
  ) {
    super(buffer);
    const i = this.i32;
    this.hash = new FileHash(
      i,
      (i[H_HASH_BASE] >>> 0) / 4,
      H_HASH_SLOTS,
      H_HASH_USED,
      i[H_HASH_MAX_SLOTS],
      (id) => i[this.e(id) + E_HASH],
    );
    this.heap = new FileHeap(
      buffer,
      H_HEAP_WORDS,
      i[H_HEAP_BASE],
      i[H_HEAP_BYTES],
      i[H_MARKS_BASE],
      (front) => this.chargeLocked(i[H_COUNT], front, this.hash.slots),
    );
    this.charges = { entry: this.f64[F64_ENTRY_CHARGE], heapByte: this.f64[F64_HEAP_BYTE_CHARGE] };
    this.basePages = chargedPages(
      1,
      HEAP_MAX_BLOCK,
      Math.min(INITIAL_HASH_SLOTS, this.hash.maxSlots),
      this.charges,
    );
  }

  /** Highest id handed out so far, plus one (ids are 1..count-1; reclaimed ones are reused). */
  get count(): number {
    return Atomics.load(this.i32, H_COUNT);
  }

  /** Entries live and retired, and heap use (a racy snapshot: gauges, tests). */
  usage(): FileTableUsage {
    const i = this.i32;
    return {
      live: Atomics.load(i, H_LIVE),
      retired: Atomics.load(i, H_RETIRED),
      capacity: this.capacity - 1,
      heapUsedBytes: this.heap.usedBytes,
      heapBytes: this.heap.capacityBytes,
      chargedBytes: Atomics.load(i, H_CHARGED_PAGES) * PAGE_BYTES,
    };
  }

  /** Reclaims every retired entry whose grace period is over. Returns how many. */
  reclaim(grace: GracePeriods = IMMEDIATE_GRACE): number {
    spinLock(this.i32, H_LOCK);
    try {
      return this.reclaimLocked(grace);
    } finally {
      spinUnlock(this.i32, H_LOCK);
    }
  }

  /** Entries retired and not reclaimed yet (what waiting for a grace period could free). */
  get retired(): number {
    return Atomics.load(this.i32, H_RETIRED);
  }

  protected retireLocked(id: number, grace: GracePeriods): void {
    const i32 = this.i32;
    const e = this.e(id);
    if (i32[e + E_KIND] === FILE_KIND_REGULAR) this.hash.remove(id);
    this.f64[e / 2 + E_F64_STAMP] =
      grace.nextStamp !== undefined ? grace.nextStamp() : grace.retireStamp();
    i32[e + E_NEXT] = 0;
    const tail = i32[H_RETIRE_TAIL];
    if (tail === 0) i32[H_RETIRE_HEAD] = id;
    else i32[this.e(tail) + E_NEXT] = id;
    i32[H_RETIRE_TAIL] = id;
    Atomics.sub(i32, H_LIVE, 1);
    Atomics.add(i32, H_RETIRED, 1);
  }

  protected reclaimLocked(grace: GracePeriods): number {
    const i32 = this.i32;
    const tail = i32[H_RETIRE_TAIL];
    if (tail === 0) return 0;
    // Start the grace period of everything retired so far (the newest stamp covers the rest).
    grace.startGracePeriod?.(this.f64[this.e(tail) / 2 + E_F64_STAMP]);
    let n = 0;
    for (let id = i32[H_RETIRE_HEAD]; id !== 0; id = i32[H_RETIRE_HEAD]) {
      const e = this.e(id);
      if (!grace.isGraceOver(this.f64[e / 2 + E_F64_STAMP])) break;
      i32[H_RETIRE_HEAD] = i32[e + E_NEXT];
      if (i32[H_RETIRE_HEAD] === 0) i32[H_RETIRE_TAIL] = 0;
      if (i32[e + E_KIND] === FILE_KIND_REGULAR) {
        this.heap.free(i32[e + E_PATH_OFF], i32[e + E_PATH_LEN] + i32[e + E_BUILD_ID_LEN]);
      }
      i32[e + E_NEXT] = i32[H_FREE_HEAD];
      i32[H_FREE_HEAD] = id;
      Atomics.sub(i32, H_RETIRED, 1);
      n++;
    }
    return n;
  }

  /** A free entry id (reclaiming retired ones if needed), or -ENOMEM. Counts it live. */
  protected allocEntryLocked(grace: GracePeriods): number {
    const i32 = this.i32;
    // Reclaim in batches (like call_rcu's): every 64th allocation while RECLAIM_BATCH entries
    // wait, so the table and its heap stay dense; and before a fresh id (the high-water mark
    // moving, charged) while any wait, so freed ids are reused first.
    if (i32[H_RETIRED] >= RECLAIM_BATCH && (++this.allocTicks & 63) === 0) {
      this.reclaimLocked(grace);
    }
    if (i32[H_FREE_HEAD] === 0 && i32[H_RETIRED] > 0) this.reclaimLocked(grace);
    let id = i32[H_FREE_HEAD];
    if (id === 0 && !this.growEntriesLocked()) return -ENOMEM;
    if (id !== 0) {
      i32[H_FREE_HEAD] = i32[this.e(id) + E_NEXT];
    } else {
      id = i32[H_COUNT];
      Atomics.store(i32, H_COUNT, id + 1);
    }
    Atomics.add(i32, H_LIVE, 1);
    return id;
  }

  /** Whether a fresh id may be handed out (the reserve and the budget allow one more). */
  protected growEntriesLocked(): boolean {
    const count = this.i32[H_COUNT];
    return (
      count < this.capacity && this.chargeLocked(count + 1, this.heap.frontBytes, this.hash.slots)
    );
  }

  /**
   * Charges the budget for the pages the table touches once `count` ids are handed out (at
   * `charges`: more than the pages under a budget larger than the reserve, table-charge.ts), the
   * heap's front is at `heapFront` and the hash uses `hashSlots` (high-water marks: they only
   * grow, and so does the charge, like the pages the OS committed). False (nothing charged):
   * past the budget.
   */
  protected chargeLocked(count: number, heapFront: number, hashSlots: number): boolean {
    const i32 = this.i32;
    const want = chargedPages(count, heapFront, hashSlots, this.charges) - this.basePages;
    const more = want - i32[H_CHARGED_PAGES];
    if (more <= 0) return true;
    if (this.budget !== null && !this.budget.tryCharge(more * PAGE_BYTES)) return false;
    Atomics.store(i32, H_CHARGED_PAGES, want);
    return true;
  }

  /** A heap block for `n` bytes (reclaiming retired entries if needed), or -1. */
  protected allocBytesLocked(n: number, grace: GracePeriods): number {
    // Blocks of reclaimable entries first: the heap's front moves (charged) only when none fits.
    if (!this.heap.hasFree(Math.max(1, n)) && this.i32[H_RETIRED] > 0) this.reclaimLocked(grace);
    return this.heap.alloc(Math.max(1, n));
  }

  protected fillLocked(
    id: number,
    at: number,
    len: number,
    major: number,
    minor: number,
    inode: number,
    kind: number,
  ): void {
    const i32 = this.i32;
    const e = this.e(id);
    i32[e + E_PATH_OFF] = at;
    i32[e + E_PATH_LEN] = len;
    i32[e + E_MAJOR] = major;
    i32[e + E_MINOR] = minor;
    i32[e + E_DELETED] = 0;
    i32[e + E_KIND] = kind;
    this.f64[e / 2 + E_F64_INODE] = inode;
    i32[e + E_SERIAL] = i32[H_SERIAL] = (i32[H_SERIAL] + 1) | 0;
    i32[e + E_NEXT] = 0;
    Atomics.store(i32, e + E_REFS, 1);
  }
}
