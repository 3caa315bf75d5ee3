import { spinLock, spinUnlock } from '../sync/spinlock.js';
import { ENAMETOOLONG, ENOMEM } from './errno.js';
import { BUILD_ID_SIZE_MAX, PATH_MAX } from './vm-flags.js';

/**
 * `FileTable`: the global, append-only table of file identities (what a VMA's `vm_file` says
 * in maps and PROCMAP_QUERY: path, device, inode, deleted, build id), one SharedArrayBuffer
 * shared by all mms and threads.
 *
 * Field protection:
 *  - header lock word: the spinlock. count, heap top, next shmem inode, hash slots: under it.
 *  - entry fields (path offset/length, dev, inode, kind, build id): written by the appender under
 *    the lock before the entry's id is returned or stored anywhere; immutable afterwards (readers
 *    need no lock: they only see ids that were published to them after the entry was written).
 *  - entry `deleted` word: may change later (unlink); Atomics.store / Atomics.load.
 *  - heap bytes: append-only; a published entry's bytes never change.
 *
 * Path bytes: UTF-8 (arbitrary bytes allowed), at most PATH_MAX - 1 bytes. The formatter reads
 * `bytes.subarray(pathOffset(id), pathOffset(id) + pathLength(id))`, then appends " (deleted)"
 * when `deleted(id)`, and escapes '\n' as "\\012" (maps only).
 */

export const FILE_KIND_REGULAR = 0;
/** MAP_SHARED|MAP_ANONYMOUS memory: shmem "/dev/zero", fresh inode each time, always deleted. */
export const FILE_KIND_SHMEM = 1;

const H_LOCK = 0;
const H_COUNT = 1;
const H_CAPACITY = 2;
const H_HEAP_TOP = 3;
const H_HEAP_CAPACITY = 4;
const H_HASH_SLOTS = 5;
const H_ENTRIES_BASE = 6; // byte offsets
const H_HASH_BASE = 7;
const H_HEAP_BASE = 8;
const F64_NEXT_SHMEM_INODE = 5; // bytes 40..47 of the header
const HEADER_BYTES = 64;

/** Entry: 8 Int32 words + one Float64 = 40 bytes. */
const ENTRY_BYTES = 40;
const E_PATH_OFF = 0;
const E_PATH_LEN = 1;
const E_MAJOR = 2;
const E_MINOR = 3;
const E_DELETED = 4;
const E_KIND = 5;
const E_BUILD_ID_OFF = 6;
const E_BUILD_ID_LEN = 7;
const E_F64_INODE = 4; // byte 32 of the entry

/** Device of the internal shmem mount on this host (`00:01`, as maps prints shmem). */
export const SHMEM_DEV_MAJOR = 0;
export const SHMEM_DEV_MINOR = 1;
const SHMEM_PATH = new TextEncoder().encode('/dev/zero');
/** First inode number handed to shmem files (get_next_ino() values are small counters). */
const SHMEM_FIRST_INODE = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface FileIdentity {
  path: string | Uint8Array;
  devMajor: number;
  devMinor: number;
  inode: number;
  buildId?: Uint8Array;
}

export class FileTable {
  readonly buffer: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  /** The whole buffer as bytes: paths and build ids live here. */
  readonly bytes: Uint8Array;
  readonly capacity: number;
  private readonly entries32: number;
  private readonly hashBase32: number;
  private readonly hashSlots: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.capacity = this.i32[H_CAPACITY];
    this.entries32 = this.i32[H_ENTRIES_BASE] / 4;
    this.hashBase32 = this.i32[H_HASH_BASE] / 4;
    this.hashSlots = this.i32[H_HASH_SLOTS];
  }

  /** A new table for up to `maxFiles` identities and `heapBytes` of path/build-id bytes. */
  static create(maxFiles = 65_535, heapBytes = 8 << 20): FileTable {
    let hashSlots = 1;
    while (hashSlots < 2 * (maxFiles + 1)) hashSlots <<= 1;
    const entriesBase = HEADER_BYTES;
    const hashBase = entriesBase + Math.ceil(((maxFiles + 1) * ENTRY_BYTES) / 64) * 64;
    const heapBase = hashBase + hashSlots * 4;
    const buffer = new SharedArrayBuffer(Math.ceil((heapBase + heapBytes) / 8) * 8);
    const i32 = new Int32Array(buffer);
    i32[H_CAPACITY] = maxFiles + 1;
    i32[H_COUNT] = 1; // id 0 = "no file"
    i32[H_HEAP_TOP] = heapBase;
    i32[H_HEAP_CAPACITY] = heapBase + heapBytes;
    i32[H_HASH_SLOTS] = hashSlots;
    i32[H_ENTRIES_BASE] = entriesBase;
    i32[H_HASH_BASE] = hashBase;
    i32[H_HEAP_BASE] = heapBase;
    new Float64Array(buffer)[F64_NEXT_SHMEM_INODE] = SHMEM_FIRST_INODE;
    return new FileTable(buffer);
  }

  static attach(buffer: SharedArrayBuffer): FileTable {
    return new FileTable(buffer);
  }

  /** Number of ids handed out so far, plus one (ids are 1..count-1). */
  get count(): number {
    return Atomics.load(this.i32, H_COUNT);
  }

  private e(id: number): number {
    return this.entries32 + id * (ENTRY_BYTES / 4);
  }

  /**
   * The id of the file (path, dev, inode), appending it if new (interned: the same identity
   * always gives the same id). Returns -ENAMETOOLONG for a path of PATH_MAX bytes or more,
   * -ENOMEM when the table or its byte heap is full.
   */
  intern(f: FileIdentity): number {
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
      let slot = h & (this.hashSlots - 1);
      for (;;) {
        const id = i32[this.hashBase32 + slot];
        if (id === 0) break;
        if (this.sameIdentity(id, path, f.devMajor, f.devMinor, f.inode)) return id;
        slot = (slot + 1) & (this.hashSlots - 1);
      }
      const id = this.appendLocked(path, f.devMajor, f.devMinor, f.inode, FILE_KIND_REGULAR, build);
      if (id > 0) i32[this.hashBase32 + slot] = id;
      return id;
    } finally {
      spinUnlock(i32, H_LOCK);
    }
  }

  /**
   * A fresh shmem file for a MAP_SHARED|MAP_ANONYMOUS mapping (shmem_zero_setup): path
   * "/dev/zero", device 00:01, a new inode number, already deleted (maps prints
   * "/dev/zero (deleted)"). Never interned: each mapping gets its own. -ENOMEM when full.
   */
  createShmem(): number {
    const i32 = this.i32;
    spinLock(i32, H_LOCK);
    try {
      const inode = this.f64[F64_NEXT_SHMEM_INODE];
      const id = this.appendLocked(
        SHMEM_PATH,
        SHMEM_DEV_MAJOR,
        SHMEM_DEV_MINOR,
        inode,
        FILE_KIND_SHMEM,
        undefined,
      );
      if (id > 0) {
        this.f64[F64_NEXT_SHMEM_INODE] = inode + 1;
        i32[this.e(id) + E_DELETED] = 1;
      }
      return id;
    } finally {
      spinUnlock(i32, H_LOCK);
    }
  }

  /**
   * Snapshot restore (src/mm/image): a shmem file with a given inode, as `createShmem` made it
   * before the restart. -ENOMEM when full.
   */
  adoptShmem(inode: number): number {
    const i32 = this.i32;
    spinLock(i32, H_LOCK);
    try {
      const id = this.appendLocked(
        SHMEM_PATH,
        SHMEM_DEV_MAJOR,
        SHMEM_DEV_MINOR,
        inode,
        FILE_KIND_SHMEM,
        undefined,
      );
      if (id > 0) i32[this.e(id) + E_DELETED] = 1;
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

  private appendLocked(
    path: Uint8Array,
    major: number,
    minor: number,
    inode: number,
    kind: number,
    build: Uint8Array | undefined,
  ): number {
    const i32 = this.i32;
    const id = i32[H_COUNT];
    const need = path.length + (build?.length ?? 0);
    const top = i32[H_HEAP_TOP];
    if (id >= this.capacity || top + need > i32[H_HEAP_CAPACITY]) return -ENOMEM;
    this.bytes.set(path, top);
    const e = this.e(id);
    i32[e + E_PATH_OFF] = top;
    i32[e + E_PATH_LEN] = path.length;
    i32[e + E_MAJOR] = major;
    i32[e + E_MINOR] = minor;
    i32[e + E_DELETED] = 0;
    i32[e + E_KIND] = kind;
    if (build !== undefined && build.length > 0) {
      this.bytes.set(build, top + path.length);
      i32[e + E_BUILD_ID_OFF] = top + path.length;
      i32[e + E_BUILD_ID_LEN] = build.length;
    } else {
      i32[e + E_BUILD_ID_OFF] = 0;
      i32[e + E_BUILD_ID_LEN] = 0;
    }
    this.f64[e / 2 + E_F64_INODE] = inode;
    i32[H_HEAP_TOP] = top + need;
    Atomics.store(i32, H_COUNT, id + 1); // publishes the entry to lock-free `count` readers
    return id;
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

  // ---- readers (no lock: entries are immutable once their id is published) -----------------
  pathOffset(id: number): number {
    return this.i32[this.e(id) + E_PATH_OFF];
  }
  pathLength(id: number): number {
    return this.i32[this.e(id) + E_PATH_LEN];
  }
  /** The path bytes (a view into shared memory), without " (deleted)". */
  pathBytes(id: number): Uint8Array {
    const off = this.pathOffset(id);
    return this.bytes.subarray(off, off + this.pathLength(id));
  }
  /** The path as a string (UTF-8 decoded), without " (deleted)". */
  path(id: number): string {
    return decoder.decode(this.pathBytes(id).slice());
  }
  devMajor(id: number): number {
    return this.i32[this.e(id) + E_MAJOR];
  }
  devMinor(id: number): number {
    return this.i32[this.e(id) + E_MINOR];
  }
  /** Inode number (u64 in the kernel; exact below 2^53). */
  inode(id: number): number {
    return this.f64[this.e(id) / 2 + E_F64_INODE];
  }
  /** True once the file was unlinked: maps appends " (deleted)". */
  deleted(id: number): boolean {
    return Atomics.load(this.i32, this.e(id) + E_DELETED) !== 0;
  }
  kind(id: number): number {
    return this.i32[this.e(id) + E_KIND];
  }
  isShmem(id: number): boolean {
    return this.kind(id) === FILE_KIND_SHMEM;
  }
  buildIdOffset(id: number): number {
    return this.i32[this.e(id) + E_BUILD_ID_OFF];
  }
  /** Build id length in bytes, 0 if the file has none. */
  buildIdLength(id: number): number {
    return this.i32[this.e(id) + E_BUILD_ID_LEN];
  }
  buildId(id: number): Uint8Array | null {
    const n = this.buildIdLength(id);
    if (n === 0) return null;
    const off = this.buildIdOffset(id);
    return this.bytes.slice(off, off + n);
  }

  /** Mark the file unlinked (any thread; Atomics.store). */
  markDeleted(id: number): void {
    Atomics.store(this.i32, this.e(id) + E_DELETED, 1);
  }
}

/** FNV-1a over the path bytes, then the device and inode. */
function hashIdentity(path: Uint8Array, major: number, minor: number, inode: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path[i], 0x01000193);
  h = Math.imul(h ^ major, 0x01000193);
  h = Math.imul(h ^ minor, 0x01000193);
  h = Math.imul(h ^ (inode >>> 0), 0x01000193);
  h = Math.imul(h ^ Math.floor(inode / 0x1_0000_0000), 0x01000193);
  return h >>> 0;
}
