// Layout of the one SharedArrayBuffer that holds every thread's instruments. The offset table
// is the struct; each field names what protects it.
//
//   bytes 0..63     header line A (read-mostly; Int32 words)
//     MAGIC, VERSION, CAPACITY, BLOCK_CELLS   written once by create(), before the buffer is
//                                             shared; immutable afterwards
//     ENABLED         1 = record, 0 = recorders return at once. Written with Atomics.store by
//                     Instruments.enabled; read with a plain load on every record (a racy read
//                     of a tear-free Int32; a toggle is seen by other threads soon, not at once)
//   bytes 64..127   header line B (Int32 words)
//     TABLE_LOCK      spinlock word: 0 free, else 1 + the holder's threadId (src/sync/table-lock.ts).
//                     Acquired with Atomics.compareExchange,
//                     released with Atomics.store (+ notify), so everything written under it is
//                     visible to the next holder. Protects: the block table, the retired block,
//                     and the scraper's reads of block generations.
//   block table     CAPACITY entries of 2 Int32 words, from byte 128; under TABLE_LOCK:
//     OWNER           0 = free; else 1 + worker_threads.threadId of the owning thread
//     GENERATION      incremented at each claim, so a scraper can tell a reused block from the
//                     one it saw before
//   retired block   BLOCK_CELLS Float64 cells, 128-byte aligned: the sum of all released
//                   blocks. Written only under TABLE_LOCK (release adds a block into it).
//   thread blocks   CAPACITY blocks of BLOCK_CELLS Float64 cells, each starting on its own
//                   128-byte boundary (two cache lines: no false sharing with a neighbour, even
//                   with the adjacent-line prefetcher). A claimed block is written ONLY by its
//                   owner thread, with plain stores; it is zeroed by the releasing thread under
//                   TABLE_LOCK before it is marked free, so the next owner (which acquires
//                   TABLE_LOCK to claim it) starts from zero.

import { BLOCK_CELLS } from './families.js';

export const MAGIC = 0x70666d31; // 'pfm1'
/** Bump when the block layout (families.ts or labels.ts enums) changes incompatibly. */
export const LAYOUT_VERSION = 3;

// Int32 word indexes in the header.
export const W_MAGIC = 0;
export const W_VERSION = 1;
export const W_CAPACITY = 2;
export const W_BLOCK_CELLS = 3;
export const W_ENABLED = 4;
export const W_TABLE_LOCK = 16; // byte 64: its own cache line

const ALIGN = 128;
const TABLE_BYTE_OFFSET = 128;
/** Int32 words per block-table entry. */
export const TABLE_ENTRY_WORDS = 2;
export const E_OWNER = 0;
export const E_GENERATION = 1;

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** Bytes of one block (cells rounded up to a 128-byte boundary). */
export const BLOCK_BYTES = alignUp(BLOCK_CELLS * Float64Array.BYTES_PER_ELEMENT);

export interface BufferLayout {
  readonly capacity: number;
  /** Int32 word index of block-table entry 0. */
  readonly tableWord: number;
  readonly retiredByteOffset: number;
  readonly firstBlockByteOffset: number;
  readonly totalBytes: number;
}

export function bufferLayout(capacity: number): BufferLayout {
  const tableBytes = capacity * TABLE_ENTRY_WORDS * Int32Array.BYTES_PER_ELEMENT;
  const retiredByteOffset = alignUp(TABLE_BYTE_OFFSET + tableBytes);
  const firstBlockByteOffset = retiredByteOffset + BLOCK_BYTES;
  return {
    capacity,
    tableWord: TABLE_BYTE_OFFSET / Int32Array.BYTES_PER_ELEMENT,
    retiredByteOffset,
    firstBlockByteOffset,
    totalBytes: firstBlockByteOffset + capacity * BLOCK_BYTES,
  };
}

export function blockByteOffset(layout: BufferLayout, block: number): number {
  return layout.firstBlockByteOffset + block * BLOCK_BYTES;
}
