/**
 * Layout of the FileTable's SharedArrayBuffer (file-table.ts has the protection rules): the
 * header page, the byte heap (file-heap.ts) and its marks, fixed-size entries, the intern hash
 * (file-hash.ts). Each region starts on a page and is used from its start (a high-water mark), so
 * a large reserve costs only the pages in use; `chargedPages` is what the budget is charged.
 */
import { PAGE_BYTES } from './arena-layout.js';
import { HEAP_HEADER_WORDS, HEAP_MAX_BLOCK, HEAP_MIN_BLOCK, heapMarkBytes } from './file-heap.js';
import { chargePerEntry } from './table-charge.js';

export const FILE_KIND_REGULAR = 0;
/** MAP_SHARED|MAP_ANONYMOUS memory: shmem "/dev/zero", fresh inode each time, always deleted. */
export const FILE_KIND_SHMEM = 1;

// Header: 32 Int32 words (128 bytes); the Float64 at index 15 is the next shmem inode.
export const H_LOCK = 0;
export const H_COUNT = 1;
export const H_CAPACITY = 2;
export const H_FREE_HEAD = 3;
export const H_HASH_SLOTS = 4;
export const H_ENTRIES_BASE = 5; // byte offsets (may pass 2^31: read them as Uint32, `>>> 0`)
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
/** Regular entries in the intern hash (file-hash.ts). */
export const H_HASH_USED = 27;
/** Hash slots reserved (the slots in use are H_HASH_SLOTS). */
export const H_HASH_MAX_SLOTS = 28;
/** Pages charged to the memory budget so far (beyond a fresh table's; only grows). */
export const H_CHARGED_PAGES = 29;
export const F64_NEXT_SHMEM_INODE = 15;
/**
 * Float64s past the 128-byte header, still on the header page (the heap starts on the next one),
 * fixed at create: bytes the budget is charged per entry and per heap byte (table-charge.ts).
 */
export const F64_ENTRY_CHARGE = 16;
export const F64_HEAP_BYTE_CHARGE = 17;
export const HEADER_BYTES = 128;
/** Hash slots a fresh table uses (one page); it doubles as entries come. */
export const INITIAL_HASH_SLOTS = 1024;

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
  /** Bytes of its committed pages charged to the memory budget (entries, hash, heap, marks). */
  chargedBytes: number;
}

if (H_HEAP_WORDS + HEAP_HEADER_WORDS > H_HASH_USED) {
  throw new Error('file-table-layout: heap words overlap the hash words');
}

/** Most entries a table reserves: ids fit the VMA's Int32 file field many times over. */
export const MAX_FILE_ENTRIES = (1 << 24) - 1;
/** Most heap bytes a table reserves: heap offsets are Int32 byte offsets (< 2 GiB). */
export const MAX_FILE_HEAP_BYTES = 1792 << 20;
/** Bytes of per-file-id state kept elsewhere (the page pool's file -> object slot), charged here. */
export const FILE_ID_SIDE_BYTES = 4;

/** Where a table's regions lie (byte offsets) for `maxFiles` entries and `heapBytes` of heap. */
export interface FileTableGeometry {
  capacity: number;
  heapBase: number;
  heapBytes: number;
  marksBase: number;
  entriesBase: number;
  hashBase: number;
  maxHashSlots: number;
  totalBytes: number;
}

const pageUp = (n: number) => Math.ceil(n / PAGE_BYTES) * PAGE_BYTES;

export function fileTableGeometry(maxFiles: number, heapBytes: number): FileTableGeometry {
  if (!Number.isInteger(maxFiles) || maxFiles < 1 || maxFiles > MAX_FILE_ENTRIES) {
    throw new RangeError(`file table entries must be in [1, ${MAX_FILE_ENTRIES}]`);
  }
  if (!(heapBytes > 0 && heapBytes <= MAX_FILE_HEAP_BYTES)) {
    throw new RangeError(`file table heap must be in (0, ${MAX_FILE_HEAP_BYTES}] bytes`);
  }
  const heap = Math.max(1, Math.ceil(heapBytes / HEAP_MAX_BLOCK)) * HEAP_MAX_BLOCK;
  let maxHashSlots = 1;
  while (maxHashSlots < 2 * (maxFiles + 1)) maxHashSlots <<= 1;
  const heapBase = PAGE_BYTES;
  const marksBase = heapBase + heap;
  const entriesBase = pageUp(marksBase + heapMarkBytes(heap));
  const hashBase = pageUp(entriesBase + (maxFiles + 1) * ENTRY_BYTES);
  return {
    capacity: maxFiles + 1,
    heapBase,
    heapBytes: heap,
    marksBase,
    entriesBase,
    hashBase,
    maxHashSlots,
    totalBytes: pageUp(hashBase + maxHashSlots * 4),
  };
}

/** What a table charges the budget per entry and per heap byte (table-charge.ts). */
export interface FileTableCharges {
  entry: number;
  heapByte: number;
}

/**
 * Charges for a table of `maxFiles` entries and a heap of `heapBytes` under a budget of
 * `maxMemory` bytes (undefined: the bytes themselves): each region alone runs the budget out
 * before it is full. The heap's first top block is the fresh table's (not charged).
 */
export function fileTableCharges(
  maxFiles: number,
  heapBytes: number,
  maxMemory: number | undefined,
): FileTableCharges {
  const g = fileTableGeometry(maxFiles, heapBytes);
  return {
    entry: chargePerEntry(ENTRY_BYTES, maxFiles, maxMemory),
    heapByte: chargePerEntry(1, Math.max(1, g.heapBytes - HEAP_MAX_BLOCK), maxMemory),
  };
}

/**
 * Pages charged for a table with `count` entry ids handed out (high-water mark), its heap's front
 * at `heapFront` bytes and `hashSlots` hash slots in use (every region is used from its start),
 * plus the per-id state kept elsewhere (FILE_ID_SIDE_BYTES). The header page is not counted.
 * These are the pages touched when `charges` are the bytes themselves (entry 64, heap byte 1);
 * under a budget larger than a region, more (table-charge.ts).
 */
export function chargedPages(
  count: number,
  heapFront: number,
  hashSlots: number,
  charges: FileTableCharges = { entry: ENTRY_BYTES, heapByte: 1 },
): number {
  const pages = (bytes: number) => Math.ceil(bytes / PAGE_BYTES);
  return (
    pages(count * charges.entry) +
    pages(count * FILE_ID_SIDE_BYTES) +
    pages(heapFront * charges.heapByte) +
    pages(heapFront / HEAP_MIN_BLOCK) +
    pages(hashSlots * 4)
  );
}

/**
 * The reserve for a service whose memory budget is `maxMemory` bytes: as many entries and heap
 * bytes as the budget could pay for (an entry's slot is charged, and every heap byte), up to
 * MAX_FILE_ENTRIES / MAX_FILE_HEAP_BYTES (~3 GiB of address space, reserved, not committed;
 * past them, from ~1 GiB and ~1.75 GiB of budget, each entry / heap byte is charged more:
 * fileTableCharges), so a client meets the budget before the table; at least the historical
 * 65,535 entries and 8 MiB. Without a budget: the most.
 */
export function fileTableReserveFor(maxMemory: number | undefined): {
  maxFiles: number;
  heapBytes: number;
} {
  // A page more than the budget (and the heap's uncharged first block): what the charge rule
  // needs for an entry to be charged its own size (table-charge.ts).
  const b =
    maxMemory !== undefined && Number.isFinite(maxMemory) ? maxMemory + PAGE_BYTES : Infinity;
  return {
    maxFiles: Math.min(MAX_FILE_ENTRIES, Math.max(65_535, Math.ceil(b / ENTRY_BYTES))),
    heapBytes: Math.min(MAX_FILE_HEAP_BYTES, Math.max(8 << 20, b + HEAP_MAX_BLOCK)),
  };
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
