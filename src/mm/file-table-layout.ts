/**
 * Layout of the FileTable's SharedArrayBuffer (file-table.ts has the protection rules):
 * header, fixed-size entries, the intern hash, the byte heap (file-heap.ts) and its marks.
 */
import { HEAP_HEADER_WORDS } from './file-heap.js';

export const FILE_KIND_REGULAR = 0;
/** MAP_SHARED|MAP_ANONYMOUS memory: shmem "/dev/zero", fresh inode each time, always deleted. */
export const FILE_KIND_SHMEM = 1;

// Header: 32 Int32 words (128 bytes); the Float64 at index 15 is the next shmem inode.
export const H_LOCK = 0;
export const H_COUNT = 1;
export const H_CAPACITY = 2;
export const H_FREE_HEAD = 3;
export const H_HASH_SLOTS = 4;
export const H_ENTRIES_BASE = 5; // byte offsets
export const H_HASH_BASE = 6;
export const H_HEAP_BASE = 7;
export const H_HEAP_BYTES = 8;
export const H_MARKS_BASE = 9;
export const H_LIVE = 10;
export const H_RETIRED = 11;
export const H_RETIRE_HEAD = 12;
export const H_RETIRE_TAIL = 13;
export const H_SERIAL = 14;
export const H_SHMEM_PATH = 15;
export const H_HEAP_WORDS = 16; // HEAP_HEADER_WORDS words
export const F64_NEXT_SHMEM_INODE = 15;
export const HEADER_BYTES = 128;

/** Entry: 64 bytes = 16 Int32 words; Float64s at word 8 (inode) and 14 (retire stamp). */
export const ENTRY_BYTES = 64;
export const E_PATH_OFF = 0;
export const E_PATH_LEN = 1;
export const E_MAJOR = 2;
export const E_MINOR = 3;
export const E_DELETED = 4;
export const E_KIND = 5;
export const E_BUILD_ID_OFF = 6;
export const E_BUILD_ID_LEN = 7;
export const E_F64_INODE = 4; // Float64 index within the entry (byte 32)
export const E_REFS = 10;
export const E_SERIAL = 11;
/** Retire list, then free list link (an id, 0 = end). */
export const E_NEXT = 12;
export const E_HASH = 13;
export const E_F64_STAMP = 7; // byte 56

/** Device of the internal shmem mount on this host (`00:01`, as maps prints shmem). */
export const SHMEM_DEV_MAJOR = 0;
export const SHMEM_DEV_MINOR = 1;
export const SHMEM_PATH = new TextEncoder().encode('/dev/zero');
/** First inode number handed to shmem files (get_next_ino() values are small counters). */
export const SHMEM_FIRST_INODE = 1024;

export interface FileIdentity {
  path: string | Uint8Array;
  devMajor: number;
  devMinor: number;
  inode: number;
  buildId?: Uint8Array;
}

/** What the table holds now (the procfs_file_table_* gauges). */
export interface FileTableUsage {
  live: number;
  retired: number;
  capacity: number;
  heapUsedBytes: number;
  heapBytes: number;
}

if (H_HEAP_WORDS + HEAP_HEADER_WORDS > F64_NEXT_SHMEM_INODE * 2) {
  throw new Error('file-table-layout: heap words overlap the shmem inode');
}

/** FNV-1a over the path bytes, then the device and inode. */
export function hashIdentity(
  path: Uint8Array,
  major: number,
  minor: number,
  inode: number,
): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path[i], 0x01000193);
  h = Math.imul(h ^ major, 0x01000193);
  h = Math.imul(h ^ minor, 0x01000193);
  h = Math.imul(h ^ (inode >>> 0), 0x01000193);
  h = Math.imul(h ^ Math.floor(inode / 0x1_0000_0000), 0x01000193);
  return h >>> 0;
}
