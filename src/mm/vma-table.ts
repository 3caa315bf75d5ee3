import type { ArenaCommit } from './arena-commit.js';
import {
  type ArenaGeometry,
  type ArenaViews,
  I32_VMA_FREE_HEAD,
  I32_VMA_HIGH_WATER,
  I32_VMA_IN_USE,
  VMA_F64_ANON_NAME,
  VMA_F64_END,
  VMA_F64_PGOFF,
  VMA_F64_START,
  VMA_I32_FILE,
  VMA_I32_FLAGS,
  VMA_I32_FREE_NEXT,
  VMA_I32_GEN,
  VMA_I32_LOCK_SEQ,
  VMA_I32_OPS,
  VMA_I32_REFCNT,
  VMA_RECORD_BYTES,
} from './arena-layout.js';

const TWO_32 = 0x1_0000_0000;

/** Int32 and Float64 words per VMA record. */
export const VMA_W32 = VMA_RECORD_BYTES / 4;
export const VMA_W64 = VMA_RECORD_BYTES / 8;

/** Low 32 bits of an address below 2^53, as a uint32 (cheap: ToUint32 is modulo 2^32). */
export function lo32(x: number): number {
  return x >>> 0;
}
/** High bits (above bit 31) of an address below 2^53. */
export function hi32(x: number): number {
  return (x - (x >>> 0)) / TWO_32;
}

/**
 * `VmaTable`: fixed-size VMA records in the mm arena, addressed by id (ids are > 0; 0 = none).
 *
 * Field protection (see arena-layout.ts for offsets):
 *  - start, end, pgoff, flags, file, anonName, ops: written by writers only, holding the mmap
 *    write lock and the VMA's write lock (or before the VMA is attached/published). Mutated in
 *    place where the kernel mutates in place (vma_expand, __split_vma, mremap), so lockless
 *    readers must validate (mm sequence count / per-VMA lock, src/sync).
 *  - refcnt, lockSeq: the per-VMA lock words (`vm_refcnt`, `vm_lock_seq`), owned by src/sync;
 *    this module only gives their Int32 word indexes and resets them on allocation.
 *  - gen: bumped by `alloc()` (mmap write lock) before the record is published.
 *
 * Addresses are stored as Float64 (exact below 2^53). The maps formatter gets the 32-bit halves
 * with `lo32()`/`hi32()` (or `startLo/startHi/endLo/endHi`), computed from the double: two
 * arithmetic operations, no `toString(16)`.
 */
export class VmaTable {
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  /** Number of record slots (including unused slot 0). */
  readonly capacity: number;
  /**
   * Word offsets of record 0 in `i32`/`u32` and in `f64`: record `id`'s fields are at
   * `base32 + id * VMA_W32 + VMA_I32_*` and `base64 + id * VMA_W64 + VMA_F64_*` (for readers
   * that read several fields of one record in a loop without a call per field).
   */
  readonly base32: number;
  readonly base64: number;
  private static readonly W32 = VMA_W32;
  private static readonly W64 = VMA_W64;

  private readonly commit: ArenaCommit;

  constructor(views: ArenaViews, geometry: ArenaGeometry, commit: ArenaCommit) {
    this.commit = commit;
    this.i32 = views.i32;
    this.u32 = views.u32;
    this.f64 = views.f64;
    this.capacity = geometry.vmaCapacity;
    this.base32 = geometry.vmaBase / 4;
    this.base64 = geometry.vmaBase / 8;
  }

  // ---- readers ----------------------------------------------------------------------------
  start(id: number): number {
    return this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_START];
  }
  end(id: number): number {
    return this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_END];
  }
  /** vm_pgoff, in pages (maps prints pgoff * PAGE_SIZE). */
  pgoff(id: number): number {
    return this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_PGOFF];
  }
  /** vm_flags as a non-negative uint32. */
  flags(id: number): number {
    return this.u32[this.base32 + id * VmaTable.W32 + VMA_I32_FLAGS];
  }
  /** FileTable id, 0 for anonymous memory. */
  file(id: number): number {
    return this.i32[this.base32 + id * VmaTable.W32 + VMA_I32_FILE];
  }
  /** AnonNameTable handle, 0 for none. */
  anonName(id: number): number {
    return this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_ANON_NAME];
  }
  /** Special-mapping ops index (special-mappings.ts): 0 none, OPS_DUMMY after vma_close. */
  ops(id: number): number {
    return this.i32[this.base32 + id * VmaTable.W32 + VMA_I32_OPS];
  }
  /** Allocation generation of the record (changes whenever the record is recycled). */
  gen(id: number): number {
    return this.i32[this.base32 + id * VmaTable.W32 + VMA_I32_GEN];
  }
  startLo(id: number): number {
    return lo32(this.start(id));
  }
  startHi(id: number): number {
    return hi32(this.start(id));
  }
  endLo(id: number): number {
    return lo32(this.end(id));
  }
  endHi(id: number): number {
    return hi32(this.end(id));
  }

  /** Int32 word index (into the arena's Int32Array) of this VMA's `vm_refcnt`. */
  refcntWord(id: number): number {
    return this.base32 + id * VmaTable.W32 + VMA_I32_REFCNT;
  }
  /** Int32 word index (into the arena's Int32Array) of this VMA's `vm_lock_seq`. */
  lockSeqWord(id: number): number {
    return this.base32 + id * VmaTable.W32 + VMA_I32_LOCK_SEQ;
  }

  // ---- writers (mmap write lock + VMA write lock, or record not yet published) --------------
  setStart(id: number, v: number): void {
    this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_START] = v;
  }
  setEnd(id: number, v: number): void {
    this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_END] = v;
  }
  setPgoff(id: number, v: number): void {
    this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_PGOFF] = v;
  }
  setFlags(id: number, v: number): void {
    this.u32[this.base32 + id * VmaTable.W32 + VMA_I32_FLAGS] = v >>> 0;
  }
  setFile(id: number, v: number): void {
    this.i32[this.base32 + id * VmaTable.W32 + VMA_I32_FILE] = v;
  }
  /** Stores the handle only; reference counting is the caller's (see MmStruct.setAnonName). */
  setAnonName(id: number, v: number): void {
    this.f64[this.base64 + id * VmaTable.W64 + VMA_F64_ANON_NAME] = v;
  }
  setOps(id: number, v: number): void {
    this.i32[this.base32 + id * VmaTable.W32 + VMA_I32_OPS] = v;
  }
  /** Set start, end and pgoff together (vma_set_range). */
  setRange(id: number, start: number, end: number, pgoff: number): void {
    const b = this.base64 + id * VmaTable.W64;
    this.f64[b + VMA_F64_START] = start;
    this.f64[b + VMA_F64_END] = end;
    this.f64[b + VMA_F64_PGOFF] = pgoff;
  }

  /**
   * Copy the descriptive fields of `src` into `dst` (vm_area_dup without the lock words and
   * without taking references: the caller refs the anon name, see MmStruct.dupVma).
   */
  copyFields(dst: number, src: number): void {
    const s64 = this.base64 + src * VmaTable.W64;
    const d64 = this.base64 + dst * VmaTable.W64;
    this.f64[d64 + VMA_F64_START] = this.f64[s64 + VMA_F64_START];
    this.f64[d64 + VMA_F64_END] = this.f64[s64 + VMA_F64_END];
    this.f64[d64 + VMA_F64_PGOFF] = this.f64[s64 + VMA_F64_PGOFF];
    this.f64[d64 + VMA_F64_ANON_NAME] = this.f64[s64 + VMA_F64_ANON_NAME];
    const s32 = this.base32 + src * VmaTable.W32;
    const d32 = this.base32 + dst * VmaTable.W32;
    this.i32[d32 + VMA_I32_FLAGS] = this.i32[s32 + VMA_I32_FLAGS];
    this.i32[d32 + VMA_I32_FILE] = this.i32[s32 + VMA_I32_FILE];
    this.i32[d32 + VMA_I32_OPS] = this.i32[s32 + VMA_I32_OPS];
  }

  // ---- allocator (mmap write lock) ---------------------------------------------------------
  /** Records currently allocated (live plus retired-but-not-reclaimed). */
  get inUse(): number {
    return this.i32[I32_VMA_IN_USE];
  }

  /**
   * Allocate a record: all descriptive fields zero, `vm_refcnt` 0 (detached), `vm_lock_seq` -1
   * (the kernel's vma_lock_init sets UINT_MAX), generation bumped. Returns 0 when the arena is
   * full (the caller returns -ENOMEM). Whoever publishes the record in the index marks it
   * attached (src/sync, `vm_refcnt` := 1). Also 0 when a new page for it is refused by the
   * memory budget (arena-commit.ts).
   */
  alloc(): number {
    const i32 = this.i32;
    let id = i32[I32_VMA_FREE_HEAD];
    if (id !== 0) {
      i32[I32_VMA_FREE_HEAD] = i32[this.base32 + id * VmaTable.W32 + VMA_I32_FREE_NEXT];
    } else {
      id = i32[I32_VMA_HIGH_WATER];
      if (id === 0) id = 1; // slot 0 is "none"
      if (id >= this.capacity) return 0;
      // A new slot may reach a page the arena has not used yet: charge it (refused: ENOMEM).
      const base = this.base32 * 4;
      const prevEnd = base + (id === 1 ? 0 : id * VMA_RECORD_BYTES);
      if (!this.commit.grow(prevEnd, base + (id + 1) * VMA_RECORD_BYTES)) return 0;
      i32[I32_VMA_HIGH_WATER] = id + 1;
    }
    const b64 = this.base64 + id * VmaTable.W64;
    this.f64[b64 + VMA_F64_START] = 0;
    this.f64[b64 + VMA_F64_END] = 0;
    this.f64[b64 + VMA_F64_PGOFF] = 0;
    this.f64[b64 + VMA_F64_ANON_NAME] = 0;
    const b32 = this.base32 + id * VmaTable.W32;
    i32[b32 + VMA_I32_FLAGS] = 0;
    i32[b32 + VMA_I32_FILE] = 0;
    i32[b32 + VMA_I32_OPS] = 0;
    i32[b32 + VMA_I32_FREE_NEXT] = 0;
    i32[b32 + VMA_I32_GEN] = (i32[b32 + VMA_I32_GEN] + 1) | 0;
    // The lock words may be read concurrently by a stale reader (type-stable reuse): store them
    // atomically so that reader sees either the old or the new value.
    Atomics.store(i32, b32 + VMA_I32_REFCNT, 0);
    Atomics.store(i32, b32 + VMA_I32_LOCK_SEQ, -1);
    i32[I32_VMA_IN_USE]++;
    return id;
  }

  /**
   * Return a record to the free list. Only for records no reader can reach any more: never
   * published, or retired and past an RCU grace period (deferred-free.ts does that).
   */
  free(id: number): void {
    if (id <= 0 || id >= this.capacity) throw new RangeError(`bad VMA id ${id}`);
    const i32 = this.i32;
    i32[this.base32 + id * VmaTable.W32 + VMA_I32_FREE_NEXT] = i32[I32_VMA_FREE_HEAD];
    i32[I32_VMA_FREE_HEAD] = id;
    i32[I32_VMA_IN_USE]--;
  }
}
