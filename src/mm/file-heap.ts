/**
 * `FileHeap`: the byte heap of the global FileTable (paths and build ids), a binary buddy
 * allocator inside the table's SharedArrayBuffer, so entries reclaimed after their grace period
 * give their bytes back and a client that maps and unmaps new paths forever cannot fill it.
 *
 * Blocks are MIN_BLOCK << order bytes (order 0 … MAX_ORDER), aligned to their size relative to
 * the heap base. The heap is reserved, not committed: top-order blocks are carved from a front
 * (the high-water mark) only when no free block is left, so the pages the OS commits are the ones
 * below the front, and the owner charges them to the memory budget as the front moves (`grow`). A free block holds its free-list links in its first 8 bytes (next, prev: byte
 * offsets from the heap base, -1 = none); `marks[unit]` is order + 1 for the first unit of a free
 * block, 0 otherwise, so `free` finds a free buddy to merge with in O(1).
 *
 * Field protection: every word here (list heads, used bytes, marks, the links in free blocks) is
 * touched only by the FileTable's writers under its spinlock. Readers never look at the heap's
 * bookkeeping; they read the bytes of live (or retired, not yet reclaimed) entries only, and a
 * block is freed only after its entry's RCU grace period, so bytes a reader may still use are
 * never overwritten (file-table.ts).
 */

/** Smallest block (bytes); also the unit of `marks`. */
export const HEAP_MIN_BLOCK = 32;
/** Largest order: MIN_BLOCK << 8 = 8192 bytes, room for PATH_MAX - 1 path bytes + a build id. */
export const HEAP_MAX_ORDER = 8;
export const HEAP_MAX_BLOCK = HEAP_MIN_BLOCK << HEAP_MAX_ORDER;

/** Int32 words of bookkeeping a heap needs in the header (list heads, used bytes, the front). */
export const HEAP_HEADER_WORDS = HEAP_MAX_ORDER + 3;
const W_USED = HEAP_MAX_ORDER + 1;
/** Bytes below the high-water mark (carved into blocks so far): a multiple of HEAP_MAX_BLOCK. */
const W_FRONT = HEAP_MAX_ORDER + 2;

/** Bytes of the mark array for a heap of `heapBytes` (a multiple of HEAP_MAX_BLOCK). */
export function heapMarkBytes(heapBytes: number): number {
  return heapBytes / HEAP_MIN_BLOCK;
}

/** A heap size rounded up to whole top-order blocks. */
export function roundHeapBytes(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / HEAP_MAX_BLOCK)) * HEAP_MAX_BLOCK;
}

/** The order of the smallest block holding `n` bytes (n ≤ HEAP_MAX_BLOCK). */
function orderFor(n: number): number {
  let order = 0;
  while (HEAP_MIN_BLOCK << order < n) order++;
  return order;
}

export class FileHeap {
  private readonly i32: Int32Array;
  private readonly marks: Uint8Array;

  /**
   * `headerWord`: first of HEAP_HEADER_WORDS Int32 words; the heap is `heapBytes` at byte offset
   * `heapBase` (a multiple of 8) and the marks `heapMarkBytes(heapBytes)` at `marksBase`.
   * `grow(front)` is asked before the front moves to `front` bytes; false refuses (alloc: -1).
   */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly headerWord: number,
    private readonly heapBase: number,
    private readonly heapBytes: number,
    marksBase: number,
    private readonly grow: (front: number) => boolean = () => true,
  ) {
    this.i32 = new Int32Array(buffer);
    this.marks = new Uint8Array(buffer, marksBase, heapMarkBytes(heapBytes));
  }

  /**
   * Writes an empty heap: no free block, the front at 0 (nothing below it touched, so nothing
   * committed: a reserve of any size costs no page here). Before the buffer is shared.
   */
  format(): void {
    for (let o = 0; o <= HEAP_MAX_ORDER; o++) this.i32[this.headerWord + o] = -1;
    this.i32[this.headerWord + W_USED] = 0;
    this.i32[this.headerWord + W_FRONT] = 0;
  }

  /** Bytes below the high-water mark: what the heap has touched (and the OS committed). */
  get frontBytes(): number {
    return this.i32[this.headerWord + W_FRONT];
  }

  /** Bytes in allocated blocks (block sizes, not requested sizes). */
  get usedBytes(): number {
    return this.i32[this.headerWord + W_USED];
  }

  get capacityBytes(): number {
    return this.heapBytes;
  }

  /** Whether a free block holds `n` bytes (else `alloc` must move the front). */
  hasFree(n: number): boolean {
    for (let order = orderFor(n); order <= HEAP_MAX_ORDER; order++) {
      if (this.head(order) >= 0) return true;
    }
    return false;
  }

  /** A block of at least `n` (1 … HEAP_MAX_BLOCK) bytes: its absolute byte offset, or -1. */
  alloc(n: number): number {
    const want = orderFor(n);
    let order = want;
    while (order <= HEAP_MAX_ORDER && this.head(order) < 0) order++;
    if (order > HEAP_MAX_ORDER && !this.carve()) return -1;
    order = Math.min(order, HEAP_MAX_ORDER);
    const off = this.head(order);
    this.unlink(off, order);
    // Split down to the wanted order, freeing the upper halves.
    while (order > want) {
      order--;
      this.push(off + (HEAP_MIN_BLOCK << order), order);
    }
    this.i32[this.headerWord + W_USED] += HEAP_MIN_BLOCK << want;
    return this.heapBase + off;
  }

  /** Frees the block `alloc(n)` returned at absolute offset `at`, merging free buddies. */
  free(at: number, n: number): void {
    let order = orderFor(n);
    let off = at - this.heapBase;
    this.i32[this.headerWord + W_USED] -= HEAP_MIN_BLOCK << order;
    while (order < HEAP_MAX_ORDER) {
      const buddy = off ^ (HEAP_MIN_BLOCK << order);
      if (this.marks[buddy / HEAP_MIN_BLOCK] !== order + 1) break;
      this.unlink(buddy, order);
      off = Math.min(off, buddy);
      order++;
    }
    this.push(off, order);
  }

  /** Frees one more top-order block at the front (if the reserve and `grow` allow). */
  private carve(): boolean {
    const w = this.headerWord + W_FRONT;
    const front = this.i32[w];
    if (front + HEAP_MAX_BLOCK > this.heapBytes || !this.grow(front + HEAP_MAX_BLOCK)) return false;
    this.i32[w] = front + HEAP_MAX_BLOCK;
    this.push(front, HEAP_MAX_ORDER);
    return true;
  }

  private head(order: number): number {
    return this.i32[this.headerWord + order];
  }

  private link(off: number): number {
    return (this.heapBase + off) >> 2;
  }

  private push(off: number, order: number): void {
    const w = this.link(off);
    const first = this.head(order);
    this.i32[w] = first;
    this.i32[w + 1] = -1;
    if (first >= 0) this.i32[this.link(first) + 1] = off;
    this.i32[this.headerWord + order] = off;
    this.marks[off / HEAP_MIN_BLOCK] = order + 1;
  }

  private unlink(off: number, order: number): void {
    const w = this.link(off);
    const next = this.i32[w];
    const prev = this.i32[w + 1];
    if (prev >= 0) this.i32[this.link(prev)] = next;
    else this.i32[this.headerWord + order] = next;
    if (next >= 0) this.i32[this.link(next) + 1] = prev;
    this.marks[off / HEAP_MIN_BLOCK] = 0;
  }
}
