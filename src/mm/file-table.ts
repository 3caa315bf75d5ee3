import { spinLock, spinUnlock } from '../sync/spinlock.js';
import { type GracePeriods, IMMEDIATE_GRACE } from './deferred-free.js';
import { ENAMETOOLONG, ENOMEM } from './errno.js';
import {
  E_BUILD_ID_LEN,
  E_BUILD_ID_OFF,
  E_DELETED,
  E_F64_INODE,
  E_HASH,
  E_KIND,
  E_MAJOR,
  E_MINOR,
  E_PATH_LEN,
  E_PATH_OFF,
  E_REFS,
  F64_ENTRY_CHARGE,
  F64_HEAP_BYTE_CHARGE,
  F64_NEXT_SHMEM_INODE,
  FILE_KIND_REGULAR,
  FILE_KIND_SHMEM,
  type FileIdentity,
  fileTableCharges,
  fileTableGeometry,
  H_CAPACITY,
  H_COUNT,
  H_ENTRIES_BASE,
  H_HASH_BASE,
  H_HASH_MAX_SLOTS,
  H_HASH_SLOTS,
  H_HEAP_BASE,
  H_HEAP_BYTES,
  H_LOCK,
  H_MARKS_BASE,
  H_SHMEM_PATH,
  hashIdentity,
  INITIAL_HASH_SLOTS,
  SHMEM_DEV_MAJOR,
  SHMEM_DEV_MINOR,
  SHMEM_FIRST_INODE,
  SHMEM_PATH,
} from './file-table-layout.js';
import { FileTableSlots } from './file-table-slots.js';
import type { MemoryBudget } from './memory-budget.js';
import { BUILD_ID_SIZE_MAX, PATH_MAX } from './vm-flags.js';

export {
  FILE_KIND_REGULAR,
  FILE_KIND_SHMEM,
  type FileIdentity,
  type FileTableUsage,
  SHMEM_DEV_MAJOR,
  SHMEM_DEV_MINOR,
} from './file-table-layout.js';

const encoder = new TextEncoder();

/**
 * `FileTable`: the global table of file identities (what a VMA's `vm_file` says in maps and
 * PROCMAP_QUERY: path, device, inode, deleted, build id), one SharedArrayBuffer shared by all
 * mms and threads. Entries are reference-counted like `struct file`: every VMA that maps one,
 * every mm whose exe file it is, and every caller between `intern`/`createShmem` and its `put`
 * holds one reference. The last `put` unhashes the entry and retires it; its slot and path bytes
 * are reused only after an RCU grace period (like a file freed by RCU), because lockless readers
 * that found the VMA before it was unmapped may still be reading them.
 *
 * Field protection:
 *  - header lock word: the spinlock. Counts, free and retire lists, hash slots, the heap's
 *    bookkeeping (file-heap.ts), serials: under it.
 *  - entry fields (path offset/length, dev, inode, kind, build id, serial): written under the
 *    lock before the entry's id is returned, then immutable until the entry is reclaimed, which
 *    happens only after the grace period of its retirement: no reader can still hold the id.
 *  - entry `refs` word: Atomics; a get needs a reference already held (a VMA's, the caller's),
 *    except `intern`'s, which runs under the lock; the 1 -> 0 transition only under the lock.
 *  - entry `deleted` word: may change later (unlink); Atomics.store / Atomics.load.
 *  - retire link and stamp of an entry: under the lock, after its refs reached 0.
 *  - heap bytes of a live or retired entry never change; a block is reused only after reclaim.
 *  - memory budget: see file-table-slots.ts (pages charged as the high-water marks reach them).
 *
 * Readers key per-file caches on `serial(id)` (unique over the table's lifetime), never on the id
 * or the byte offsets alone: both are reused after reclaim.
 *
 * Path bytes: UTF-8 (arbitrary bytes allowed), at most PATH_MAX - 1 bytes. The formatter reads
 * `bytes.subarray(pathOffset(id), pathOffset(id) + pathLength(id))`, then appends " (deleted)"
 * when `deleted(id)`, and escapes '\n' as "\\012" (maps only).
 */

export class FileTable extends FileTableSlots {
  private constructor(buffer: SharedArrayBuffer, budget: MemoryBudget | null) {
    super(buffer, budget);
  }

  /**
   * A new table for up to `maxFiles` identities at once and `heapBytes` of path/build-id bytes,
   * reserved (fileTableGeometry), not committed: with a `budget`, the pages its entries, hash and
   * heap reach are charged as they first reach them, and a file that would pass the budget is
   * ENOMEM. The service sizes it with `fileTableReserveFor(--max-memory)`.
   */
  static create(
    maxFiles = 65_535,
    heapBytes = 8 << 20,
    budget: MemoryBudget | null = null,
    /** Charge entries and heap bytes so this budget runs out before either (table-charge.ts). */
    chargeAgainst?: number,
  ) {
    const g = fileTableGeometry(maxFiles, heapBytes);
    // A plain SharedArrayBuffer: a reserve past glibc's largest mmap threshold (32 MiB) is mmap'd
    // by calloc (zero pages, committed as touched); typed arrays over a growable one
    // (allocateArena) made interns about 2x slower here (measured on a loaded machine).
    const buffer = new SharedArrayBuffer(g.totalBytes);
    const i32 = new Int32Array(buffer);
    i32[H_CAPACITY] = g.capacity;
    i32[H_COUNT] = 1; // id 0 = "no file"
    i32[H_HASH_SLOTS] = Math.min(INITIAL_HASH_SLOTS, g.maxHashSlots);
    i32[H_HASH_MAX_SLOTS] = g.maxHashSlots;
    i32[H_ENTRIES_BASE] = g.entriesBase;
    i32[H_HASH_BASE] = g.hashBase;
    i32[H_HEAP_BASE] = g.heapBase;
    i32[H_HEAP_BYTES] = g.heapBytes;
    i32[H_MARKS_BASE] = g.marksBase;
    const f64 = new Float64Array(buffer);
    f64[F64_NEXT_SHMEM_INODE] = SHMEM_FIRST_INODE;
    const charges = fileTableCharges(maxFiles, heapBytes, chargeAgainst);
    f64[F64_ENTRY_CHARGE] = charges.entry;
    f64[F64_HEAP_BYTE_CHARGE] = charges.heapByte;
    const t = new FileTable(buffer, budget);
    t.heap.format();
    // Every shmem entry shares these bytes (never freed): the heap's first block, not charged.
    const at = t.heap.alloc(SHMEM_PATH.length);
    if (at < 0) throw new RangeError('FileTable.create: heap too small');
    t.bytes.set(SHMEM_PATH, at);
    i32[H_SHMEM_PATH] = at;
    return t;
  }

  static attach(buffer: SharedArrayBuffer, budget: MemoryBudget | null = null): FileTable {
    return new FileTable(buffer, budget);
  }

  /**
   * The id of the file (path, dev, inode) with a new reference for the caller (`put` it), made
   * if no live entry has that identity (interned: while referenced, the same identity always gives
   * the same id). -ENAMETOOLONG for a path of PATH_MAX bytes or more, -ENOMEM when the table or
   * its byte heap is full or the memory budget refuses the pages a new entry needs (after
   * reclaiming what `grace` allows); nothing changes then.
   */
  intern(f: FileIdentity, grace: GracePeriods = IMMEDIATE_GRACE): number {
    const path = typeof f.path === 'string' ? encoder.encode(f.path) : f.path;
    if (path.length >= PATH_MAX) return -ENAMETOOLONG;
    const build = f.buildId;
    if (build !== undefined && build.length > BUILD_ID_SIZE_MAX) {
      throw new RangeError(`build id longer than ${BUILD_ID_SIZE_MAX} bytes`);
    }
    const h = hashIdentity(path, f.devMajor, f.devMinor, f.inode);
    const i32 = this.i32;
    spinLock(i32, H_LOCK);
    try {
      const found = this.hash.find(h, (id) =>
        this.sameIdentity(id, path, f.devMajor, f.devMinor, f.inode),
      );
      if (found > 0) {
        Atomics.add(i32, this.e(found) + E_REFS, 1);
        return found;
      }
      // Room in the hash first (it may double: charged; then the empty slot found is stale).
      const slots = this.hash.slots;
      const room = this.hash.reserveOne((s) =>
        this.chargeLocked(i32[H_COUNT], this.heap.frontBytes, s),
      );
      if (!room) return -ENOMEM;
      const slot = this.hash.slots === slots ? found : this.hash.find(h, () => false);
      const n = path.length + (build?.length ?? 0);
      const at = this.allocBytesLocked(n, grace);
      if (at < 0) return -ENOMEM;
      const id = this.allocEntryLocked(grace);
      if (id < 0) {
        this.heap.free(at, n);
        return id;
      }
      this.bytes.set(path, at);
      if (build !== undefined && build.length > 0) this.bytes.set(build, at + path.length);
      this.fillLocked(id, at, path.length, f.devMajor, f.devMinor, f.inode, FILE_KIND_REGULAR);
      const e = this.e(id);
      i32[e + E_BUILD_ID_OFF] = build !== undefined && build.length > 0 ? at + path.length : 0;
      i32[e + E_BUILD_ID_LEN] = build?.length ?? 0;
      i32[e + E_HASH] = h;
      this.hash.insert(slot, id);
      return id;
    } finally {
      spinUnlock(i32, H_LOCK);
    }
  }

  /**
   * A fresh shmem file for a MAP_SHARED|MAP_ANONYMOUS mapping (shmem_zero_setup): path
   * "/dev/zero", device 00:01, a new inode number, already deleted (maps prints
   * "/dev/zero (deleted)"). Never interned: each mapping gets its own. The caller holds the one
   * reference. -ENOMEM when full.
   */
  createShmem(grace: GracePeriods = IMMEDIATE_GRACE): number {
    return this.shmem(-1, grace);
  }

  /**
   * Snapshot restore (src/mm/image): a shmem file with a given inode, as `createShmem` made it
   * before the restart (one reference for the caller). -ENOMEM when full.
   */
  adoptShmem(inode: number, grace: GracePeriods = IMMEDIATE_GRACE): number {
    return this.shmem(inode, grace);
  }

  private shmem(inode: number, grace: GracePeriods): number {
    const i32 = this.i32;
    spinLock(i32, H_LOCK);
    try {
      const id = this.allocEntryLocked(grace);
      if (id < 0) return id;
      const ino = inode >= 0 ? inode : this.f64[F64_NEXT_SHMEM_INODE];
      if (inode < 0) this.f64[F64_NEXT_SHMEM_INODE] = ino + 1;
      const at = i32[H_SHMEM_PATH];
      this.fillLocked(
        id,
        at,
        SHMEM_PATH.length,
        SHMEM_DEV_MAJOR,
        SHMEM_DEV_MINOR,
        ino,
        FILE_KIND_SHMEM,
      );
      const e = this.e(id);
      i32[e + E_BUILD_ID_OFF] = 0;
      i32[e + E_BUILD_ID_LEN] = 0;
      i32[e + E_DELETED] = 1;
      return id;
    } finally {
      spinUnlock(i32, H_LOCK);
    }
  }

  /** The inode the next `createShmem` hands out (snapshot and restore; under the lock). */
  get nextShmemInode(): number {
    spinLock(this.i32, H_LOCK);
    const v = this.f64[F64_NEXT_SHMEM_INODE];
    spinUnlock(this.i32, H_LOCK);
    return v;
  }
  set nextShmemInode(v: number) {
    spinLock(this.i32, H_LOCK);
    this.f64[F64_NEXT_SHMEM_INODE] = v;
    spinUnlock(this.i32, H_LOCK);
  }

  /** get_file(): one more reference on `id` (0: none), for a caller that already holds one. */
  get(id: number): void {
    if (id !== 0) Atomics.add(this.i32, this.e(id) + E_REFS, 1);
  }

  /**
   * fput(): drops a reference on `id` (0: none). The last one unhashes the entry and retires it
   * with a stamp from `grace`: its slot and bytes are reused once that grace period is over.
   * Call it only after the reference's holder (a VMA) is unreachable for new readers. Returns
   * true when that was the last reference.
   */
  put(id: number, grace: GracePeriods = IMMEDIATE_GRACE): boolean {
    if (id === 0) return false;
    const i32 = this.i32;
    const w = this.e(id) + E_REFS;
    for (let v = Atomics.load(i32, w); v > 1; v = Atomics.load(i32, w)) {
      if (Atomics.compareExchange(i32, w, v, v - 1) === v) return false;
    }
    spinLock(i32, H_LOCK);
    try {
      const left = Atomics.sub(i32, w, 1) - 1;
      if (left < 0) throw new Error(`FileTable.put: file ${id} had no reference`);
      if (left === 0) this.retireLocked(id, grace);
      return left === 0;
    } finally {
      spinUnlock(i32, H_LOCK);
    }
  }

  /** References held on `id` (tests, snapshot checks). */
  refs(id: number): number {
    return Atomics.load(this.i32, this.e(id) + E_REFS);
  }

  private sameIdentity(id: number, path: Uint8Array, major: number, minor: number, ino: number) {
    const e = this.e(id);
    const i32 = this.i32;
    if (i32[e + E_KIND] !== FILE_KIND_REGULAR) return false;
    if (i32[e + E_MAJOR] !== major || i32[e + E_MINOR] !== minor) return false;
    if (this.f64[e / 2 + E_F64_INODE] !== ino) return false;
    const len = i32[e + E_PATH_LEN];
    if (len !== path.length) return false;
    const off = i32[e + E_PATH_OFF];
    for (let i = 0; i < len; i++) if (this.bytes[off + i] !== path[i]) return false;
    return true;
  }

  /** Mark the file unlinked (any thread; Atomics.store). */
  markDeleted(id: number): void {
    Atomics.store(this.i32, this.e(id) + E_DELETED, 1);
  }
}
