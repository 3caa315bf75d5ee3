import { spinLock, spinUnlock } from '../sync/spinlock.js';
import { PAGE_BYTES } from './arena-layout.js';
import { EINVAL, ENOMEM } from './errno.js';
import type { MemoryBudget } from './memory-budget.js';
import { chargePerEntry } from './table-charge.js';
import { ANON_VMA_NAME_MAX_LEN } from './vm-flags.js';

/**
 * `AnonNameTable`: the global table of anon-name slots (Linux's `struct anon_vma_name`), in one
 * SharedArrayBuffer shared by all mms and threads.
 *
 * A VMA stores a *handle* = (generation mod 2^21) * 2^32 + slot, a double with 53 integer bits in
 * the record's Float64 anon-name word (arena-layout.ts: one 8-byte load, so a racing reader sees
 * one handle, never a slot from one and a generation from another). Slots are reference counted and,
 * as in Linux (`anon_vma_name_put` -> kfree), freed the moment the last reference drops — NOT
 * after an RCU grace period. Freeing bumps the slot's generation, so a speculative reader holding
 * a stale handle can tell that the storage it reads was freed or reused (`isLive`). That is the
 * hazard `lockless_nofallback` exposes and counts.
 *
 * Capacity (issue 11): as many slots as a 4 GiB buffer holds (one Uint8Array views all the names:
 * Node 20's typed arrays end at 2^32 elements), 44.7 M, sized by the service from --max-memory,
 * and each slot is charged `chargePerEntry` (table-charge.ts): its 96 bytes, or budget / capacity
 * when the budget is larger than the slots, so the budget always refuses a name before the table
 * is full. The handle was (gen mod 2^11) << 20 | slot in an Int32, 1 Mi slots: ~300 MB of named
 * VMAs filled it under a 12 GB budget, and every other process's prctl answered ENOMEM.
 *
 * Generation bits: 21, was 11. A lockless reader's check (`isLive`) is fooled only if its slot is
 * freed and reallocated a multiple of 2^21 times between its load of the handle and its check;
 * each reuse is a prctl or an unmap under some mmap lock, so that takes a reader stalled for
 * 2 M writer critical sections (~1 s at the engine's ~0.5 us a call), where 2,048 took ~1 ms.
 *
 * Field protection:
 *  - header lock word: the spinlock itself; free-list head, high water: under the spinlock.
 *  - slot refcount: Atomics add/sub by holders (a holder = a VMA record or a reader that took a
 *    reference); 0 means free.
 *  - slot generation: Atomics.add by `put` when the slot is freed (under the spinlock).
 *  - slot length and name bytes: written by `alloc` under the spinlock before the handle is
 *    returned; immutable while the slot is live; may be overwritten once freed.
 *  - slot free-next: under the spinlock, meaningful only while free.
 */

/** A handle's slot is its low 32 bits (`handle >>> 0`: ToUint32 takes it modulo 2^32). */
const SLOT_SPAN = 2 ** 32;
/** Generation bits kept in a handle: 53 - 32. */
const GEN_MASK = 0x1f_ffff;

const H_LOCK = 0;
const H_FREE_HEAD = 1;
const H_HIGH_WATER = 2;
const H_CAPACITY = 3;
const H_LIVE = 4;
/** Float64 index: bytes the budget is charged per slot (chargePerEntry; set at create). */
const H_F64_SLOT_CHARGE = 3;
const HEADER_BYTES = 64;

/** Slot = 4 Int32 words + 80 name bytes = 96 bytes. */
export const ANON_NAME_SLOT_BYTES = 16 + ANON_VMA_NAME_MAX_LEN;
const SLOT_BYTES = ANON_NAME_SLOT_BYTES;
/** Most slots: the header and slot 0 ("none") included, the buffer stays within 4 GiB. */
export const MAX_ANON_NAME_SLOTS = Math.floor((SLOT_SPAN - HEADER_BYTES) / SLOT_BYTES) - 1;

/**
 * Slots for a service whose budget is `maxMemory` bytes: as many as the budget could pay for at
 * 96 bytes a slot (reserved, committed as used), up to MAX_ANON_NAME_SLOTS (then each is charged
 * more, table-charge.ts); at least 65,535. Without a budget: the historical 1 Mi.
 */
export function anonNameSlotsFor(maxMemory: number | undefined): number {
  if (maxMemory === undefined || !Number.isFinite(maxMemory)) return (1 << 20) - 1;
  const paid = Math.ceil((maxMemory + PAGE_BYTES) / SLOT_BYTES); // the page: table-charge.ts
  return Math.min(MAX_ANON_NAME_SLOTS, Math.max(65_535, paid));
}

/** The handle naming `slot` at generation `gen`. */
function handleOf(gen: number, slot: number): number {
  return (gen & GEN_MASK) * SLOT_SPAN + slot;
}

/** The generation bits of `handle`. */
function genOf(handle: number): number {
  return (handle - (handle >>> 0)) / SLOT_SPAN;
}
const S_REFCNT = 0;
const S_GEN = 1;
const S_LEN = 2;
const S_FREE_NEXT = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class AnonNameTable {
  readonly buffer: SharedArrayBuffer;
  private readonly i32: Int32Array;
  /** All slots' bytes; a name is `bytes.subarray(nameOffset(h), nameOffset(h) + nameLength(h))`. */
  readonly bytes: Uint8Array;
  readonly capacity: number;
  /** Bytes the budget is charged per slot (header, fixed at create). */
  readonly slotCharge: number;

  private constructor(
    buffer: SharedArrayBuffer,
    /** What the slots' pages are charged to as the high-water mark reaches them (--max-memory). */
    private readonly budget: MemoryBudget | null,
  ) {
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.capacity = this.i32[H_CAPACITY];
    this.slotCharge = new Float64Array(buffer, 0, HEADER_BYTES / 8)[H_F64_SLOT_CHARGE];
  }

  /**
   * A new table with room for `slots` live names (default 262,143; the service sizes it with
   * `anonNameSlotsFor(--max-memory)`). With a budget, slots are charged as first used at
   * `chargePerEntry(96, slots, maxMemory)` bytes each, a name that would pass the limit is ENOMEM;
   * the buffer is reserved, not committed, beyond the high-water mark.
   */
  static create(
    slots = 262_143,
    budget: MemoryBudget | null = null,
    maxMemory?: number,
  ): AnonNameTable {
    if (!Number.isInteger(slots) || slots < 1 || slots > MAX_ANON_NAME_SLOTS) {
      throw new RangeError(`anon name slots must be in [1, ${MAX_ANON_NAME_SLOTS}]`);
    }
    const buffer = new SharedArrayBuffer(HEADER_BYTES + (slots + 1) * SLOT_BYTES);
    const i32 = new Int32Array(buffer);
    i32[H_CAPACITY] = slots + 1;
    i32[H_HIGH_WATER] = 1;
    new Float64Array(buffer, 0, HEADER_BYTES / 8)[H_F64_SLOT_CHARGE] = chargePerEntry(
      SLOT_BYTES,
      slots,
      maxMemory,
    );
    return new AnonNameTable(buffer, budget);
  }

  static attach(buffer: SharedArrayBuffer, budget: MemoryBudget | null = null): AnonNameTable {
    return new AnonNameTable(buffer, budget);
  }

  static slotOf(handle: number): number {
    return handle >>> 0;
  }

  private w(slot: number, word: number): number {
    return (HEADER_BYTES + slot * SLOT_BYTES) / 4 + word;
  }

  /** Live slots (allocated, refcount > 0). */
  get live(): number {
    return Atomics.load(this.i32, H_LIVE);
  }

  /**
   * Allocate a slot holding `name` with refcount 1 (anon_vma_name_alloc). Returns the handle,
   * -EINVAL if the name needs more than ANON_VMA_NAME_MAX_LEN bytes including the NUL, -ENOMEM if
   * the table is full. Character rules are the prctl's job (syscalls/).
   */
  alloc(name: string | Uint8Array): number {
    const src = typeof name === 'string' ? encoder.encode(name) : name;
    if (src.length + 1 > ANON_VMA_NAME_MAX_LEN) return -EINVAL;
    const i32 = this.i32;
    spinLock(i32, H_LOCK);
    let slot = i32[H_FREE_HEAD];
    if (slot !== 0) {
      i32[H_FREE_HEAD] = i32[this.w(slot, S_FREE_NEXT)];
    } else {
      slot = i32[H_HIGH_WATER];
      if (slot >= this.capacity || !this.chargeSlot(slot)) {
        spinUnlock(i32, H_LOCK);
        return -ENOMEM;
      }
      i32[H_HIGH_WATER] = slot + 1;
    }
    const off = HEADER_BYTES + slot * SLOT_BYTES + 16;
    this.bytes.set(src, off);
    this.bytes[off + src.length] = 0;
    i32[this.w(slot, S_LEN)] = src.length;
    i32[this.w(slot, S_FREE_NEXT)] = 0;
    const gen = Atomics.load(i32, this.w(slot, S_GEN));
    Atomics.store(i32, this.w(slot, S_REFCNT), 1);
    Atomics.add(i32, H_LIVE, 1);
    spinUnlock(i32, H_LOCK);
    return handleOf(gen, slot);
  }

  /**
   * Pages charged once slots 1..`slot` have been used, at `slotCharge` bytes a slot (whole pages
   * as the running total crosses them); before the first name nothing is charged (not even the
   * header's page), so an unused table costs the budget nothing.
   */
  private chargedPagesThrough(slot: number): number {
    if (slot < 1) return 0;
    return Math.ceil((HEADER_BYTES + (slot + 1) * this.slotCharge) / PAGE_BYTES);
  }

  /** Charges what slot `slot` (the new high-water mark) adds; false past the budget. */
  private chargeSlot(slot: number): boolean {
    if (this.budget === null) return true;
    const pages = this.chargedPagesThrough(slot) - this.chargedPagesThrough(slot - 1);
    return pages === 0 || this.budget.tryCharge(pages * PAGE_BYTES);
  }

  /** Live names, capacity, bytes charged to the budget (a racy snapshot: gauges, tests). */
  usage(): { live: number; capacity: number; chargedBytes: number } {
    const used = Atomics.load(this.i32, H_HIGH_WATER) - 1;
    return {
      live: this.live,
      capacity: this.capacity - 1,
      chargedBytes: this.budget === null ? 0 : this.chargedPagesThrough(used) * PAGE_BYTES,
    };
  }

  /** Take another reference (anon_vma_name_get), e.g. when a VMA is split or duplicated. */
  ref(handle: number): void {
    if (handle === 0) return;
    this.assertCurrent(handle, 'ref');
    const old = Atomics.add(this.i32, this.w(handle >>> 0, S_REFCNT), 1);
    if (old <= 0) throw new Error(`anon name ${handle}: ref of a freed slot`);
  }

  /**
   * Drop a reference (anon_vma_name_put). At zero the slot is freed at once: generation bumped,
   * slot pushed on the free list for immediate reuse.
   */
  put(handle: number): void {
    if (handle === 0) return;
    const slot = handle >>> 0;
    const i32 = this.i32;
    this.assertCurrent(handle, 'put');
    const old = Atomics.sub(i32, this.w(slot, S_REFCNT), 1);
    if (old > 1) return;
    if (old !== 1) throw new Error(`anon name ${handle}: put of a freed slot`);
    spinLock(i32, H_LOCK);
    Atomics.add(i32, this.w(slot, S_GEN), 1);
    i32[this.w(slot, S_FREE_NEXT)] = i32[H_FREE_HEAD];
    i32[H_FREE_HEAD] = slot;
    Atomics.sub(i32, H_LIVE, 1);
    spinUnlock(i32, H_LOCK);
  }

  /** Holders only: a stale handle (slot freed and reused) must never change the new owner's count. */
  private assertCurrent(handle: number, what: string): void {
    const gen = Atomics.load(this.i32, this.w(handle >>> 0, S_GEN));
    if ((gen & GEN_MASK) !== genOf(handle)) {
      throw new Error(`anon name ${handle}: ${what} through a stale handle (slot freed/reused)`);
    }
  }

  /** Current reference count of the handle's slot (0 = free). */
  refcount(handle: number): number {
    return Atomics.load(this.i32, this.w(handle >>> 0, S_REFCNT));
  }

  /** Current generation of the slot (full counter, not masked). */
  generation(slot: number): number {
    return Atomics.load(this.i32, this.w(slot, S_GEN));
  }

  /**
   * True if the handle's storage is still the allocation the handle was made for: the slot's
   * generation matches and it is referenced. A speculative reader checks this after copying the
   * name; false means it read freed or reused storage (use-after-free hazard).
   */
  isLive(handle: number): boolean {
    const slot = handle >>> 0;
    if (slot === 0) return false;
    const gen = Atomics.load(this.i32, this.w(slot, S_GEN));
    return (gen & GEN_MASK) === genOf(handle) && this.refcount(handle) > 0;
  }

  /** Byte offset of the handle's name in `bytes` (plain read; valid while the slot is live). */
  nameOffset(handle: number): number {
    return HEADER_BYTES + (handle >>> 0) * SLOT_BYTES + 16;
  }

  /** Name length in bytes, without the NUL (plain read; clamped so a racy read stays in-slot). */
  nameLength(handle: number): number {
    const n = this.i32[this.w(handle >>> 0, S_LEN)];
    return n < 0 ? 0 : Math.min(n, ANON_VMA_NAME_MAX_LEN - 1);
  }

  /** The name bytes (a view into shared memory; copy before the reference is dropped). */
  nameBytes(handle: number): Uint8Array {
    const off = this.nameOffset(handle);
    return this.bytes.subarray(off, off + this.nameLength(handle));
  }

  /** The name as a string (decoded from UTF-8), or null for handle 0. */
  get(handle: number): string | null {
    if (handle === 0) return null;
    // TextDecoder refuses views on shared memory: copy first.
    return decoder.decode(this.nameBytes(handle).slice());
  }

  /**
   * anon_vma_name_eq / is_same_anon_name: same handle, or both non-null with equal bytes. Used
   * by merge decisions (Linux compares contents, not pointers).
   */
  equalContent(a: number, b: number): boolean {
    if (a === b) return true;
    if (a === 0 || b === 0) return false;
    const la = this.nameLength(a);
    if (la !== this.nameLength(b)) return false;
    const oa = this.nameOffset(a);
    const ob = this.nameOffset(b);
    const bytes = this.bytes;
    for (let i = 0; i < la; i++) if (bytes[oa + i] !== bytes[ob + i]) return false;
    return true;
  }
}
