/**
 * `FileTableView`: the read side of the global FileTable (file-table.ts): no lock, because an
 * entry is immutable from the publication of its id to its reclaim, and reclaim waits for an RCU
 * grace period after the last reference (a VMA) went away. Callers must read an id only while it
 * is protected: under the mmap lock or a VMA lock of a VMA that maps it, or inside the RCU read
 * section in which they found that VMA.
 */
import {
  E_BUILD_ID_LEN,
  E_BUILD_ID_OFF,
  E_DELETED,
  E_F64_INODE,
  E_KIND,
  E_MAJOR,
  E_MINOR,
  E_PATH_LEN,
  E_PATH_OFF,
  E_SERIAL,
  ENTRY_BYTES,
  FILE_KIND_SHMEM,
  H_CAPACITY,
  H_ENTRIES_BASE,
} from './file-table-layout.js';

const decoder = new TextDecoder();

/** What `readPrinted` fills (a VmaView has these fields). */
export interface PrintedFileFields {
  fileSerial: number;
  devMajor: number;
  devMinor: number;
  inode: number;
  /** The path's bytes are `bytes[nameFrom, nameTo)`. */
  nameFrom: number;
  nameTo: number;
  deleted: boolean;
}

export class FileTableView {
  readonly buffer: SharedArrayBuffer;
  protected readonly i32: Int32Array;
  protected readonly f64: Float64Array;
  /** The whole buffer as bytes: paths and build ids live here. */
  readonly bytes: Uint8Array;
  /** Entry slots + 1 (id 0 = no file). */
  readonly capacity: number;
  private readonly entries32: number;

  protected constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.capacity = this.i32[H_CAPACITY];
    this.entries32 = (this.i32[H_ENTRIES_BASE] >>> 0) / 4;
  }

  /** Int32 index of entry `id`'s first word. */
  protected e(id: number): number {
    return this.entries32 + id * (ENTRY_BYTES / 4);
  }

  /**
   * The fields a maps line prints, read in one call into `out` (per-line readers: one call
   * instead of six accessors, each of which would count against the caller's inlining budget).
   * The same protection as every accessor here.
   */
  readPrinted(id: number, out: PrintedFileFields): void {
    const w = this.e(id);
    const i32 = this.i32;
    out.fileSerial = i32[w + E_SERIAL];
    out.devMajor = i32[w + E_MAJOR];
    out.devMinor = i32[w + E_MINOR];
    out.inode = this.f64[w / 2 + E_F64_INODE];
    const off = i32[w + E_PATH_OFF];
    out.nameFrom = off;
    out.nameTo = off + i32[w + E_PATH_LEN];
    out.deleted = i32[w + E_DELETED] !== 0; // plain load: see deleted()
  }

  /** Unique over the table's lifetime: the key of any per-file cache (ids and offsets are reused). */
  serial(id: number): number {
    return this.i32[this.e(id) + E_SERIAL];
  }
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
  /**
   * True once the file was unlinked: maps appends " (deleted)". A plain (tear-free Int32) load:
   * the flag goes 0 → 1 once (Atomics.store, any thread, no lock, as an unlink races d_path in
   * Linux) and nothing else is read in its shadow, so any value seen is an answer the reader
   * could have got a moment earlier or later; an Atomics.load here cost ~14 ns per file line.
   */
  deleted(id: number): boolean {
    return this.i32[this.e(id) + E_DELETED] !== 0;
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
}
