/**
 * The page-state pool: one global SharedArrayBuffer (part of MmGlobals, so every thread that
 * sees the address spaces sees it) holding fixed 32-byte records, from which the page tables of
 * every mm (page-table.ts) and the mapcounts of shared pages (page-objects.ts) are built.
 *
 * Locking: ONE spinlock (`PAGE_LOCK`, the first word) protects every record, the free list and
 * the file -> object table. It stands for the kernel's page-table locks (the split PTE locks,
 * mm->page_table_lock) and the folio mapcounts they guard: a fault changes page state holding
 * only the VMA read lock (or the mmap read lock) plus this lock; a syscall holding the mmap write
 * lock takes it too around its page-table changes; smaps/status readers take it while they walk.
 * Critical sections are short (one fault, one run list update) and never sleep, so the lock is a
 * spinlock usable on the event loop. Nothing else is taken while it is held (it is innermost).
 *
 * Record layout (word = Int32 index, slot = Float64 index, within the record):
 *   slot 0   key: first page (virtual page number in a page table, object page in an object)
 *   slot 1   opage: the object page of the first page (page-table runs with an object)
 *   word 4   count: pages in the run
 *   word 5   bits (page-table run: PTE_*) / mapcount (object run)
 *   word 6   obj: object record (page-table run; 0 = an exclusive anonymous page) / OBJ_* flags
 *   word 7   next record in the list (0 = end); the free-list link of a free record
 * Head records (an mm's page table, an object) reuse the words, see page-table.ts / page-objects.ts.
 * Unused records cost no RSS: the buffer is reserved, not committed, until a record is used.
 *
 * Memory budget: records are charged to the service's `MemoryBudget` (--max-memory) a page
 * (RECORDS_PER_PAGE records) at a time as the used front crosses into a page the OS commits; freed
 * records go to the free list and are reused by anyone before the front moves again (the charge,
 * like the committed page, stays). A fault or fork reserves what it may need first (`canFault`):
 * past the budget it is refused (ENOMEM) and changes nothing; a syscall's few records (zap splits)
 * are always granted and charged, even past the limit.
 */
import { spinLock, spinUnlock } from '../../sync/spinlock.js';
import { allocateArena, PAGE_BYTES } from '../arena-layout.js';
import type { MemoryBudget } from '../memory-budget.js';
import { chargePerEntry } from '../table-charge.js';

export const RECORD_BYTES = 32;
const W = RECORD_BYTES / 4;
const S = RECORD_BYTES / 8;

export const R_KEY = 0; // slot
export const R_OPAGE = 1; // slot
export const R_COUNT = 4; // word
export const R_BITS = 5; // word
export const R_OBJ = 6; // word
export const R_NEXT = 7; // word

/** The page lock's word (alone on the first cache line). */
const PAGE_LOCK = 0;
// Line 1: allocator state (page lock).
const H_FREE_HEAD = 16;
const H_HIGH_WATER = 17;
const H_CAPACITY = 18;
const H_IN_USE = 19;
const H_MAX_FILES = 20;
/** Records covered by budget charges so far (a multiple of RECORDS_PER_PAGE; page lock). */
const H_RECORDS_CHARGED = 21;
/**
 * Pages charged per RECORDS_PER_PAGE records (fixed at create): 1, the page they fill, or more
 * when the budget is larger than the pool (table-charge.ts: the budget runs out first).
 */
const H_BLOCK_PAGES = 22;
/** Byte offset of the file -> object table (Int32 per FileTable id; page lock). */
const FILE_OBJ_BASE = 128;

/** Records kept for syscalls (zaps split runs) when faults find the pool nearly full. */
export const FAULT_RESERVE = 4096;
/** Records per committed page: the unit charged to the memory budget. */
export const RECORDS_PER_PAGE = PAGE_BYTES / RECORD_BYTES;

/**
 * Pages charged per RECORDS_PER_PAGE records of a pool of `records` under a budget of `maxMemory`
 * bytes: the records faults may use (all but FAULT_RESERVE) cost the budget more than it holds
 * (table-charge.ts); 1 (the page they fill) when the pool is as large as the budget.
 */
export function recordBlockPages(records: number, maxMemory: number | undefined): number {
  const perRecord = chargePerEntry(RECORD_BYTES, Math.max(1, records - FAULT_RESERVE), maxMemory);
  return Math.ceil((RECORDS_PER_PAGE * perRecord) / PAGE_BYTES);
}

export class PagePool {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly capacity: number;
  private readonly fileObjBase: number;
  private readonly maxFiles: number;
  private readonly recordBase32: number;
  private readonly recordBase64: number;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    /** What the records are charged to (--max-memory). */
    readonly budget: MemoryBudget,
  ) {
    // Views of a fixed length: over a growable SharedArrayBuffer (allocateArena) a view without
    // one tracks the buffer's length, and V8 then compiles every element access several times
    // slower (measured ~5x on a record key read).
    this.i32 = new Int32Array(buffer, 0, Math.floor(buffer.byteLength / 4));
    this.f64 = new Float64Array(buffer, 0, Math.floor(buffer.byteLength / 8));
    this.capacity = this.i32[H_CAPACITY];
    this.maxFiles = this.i32[H_MAX_FILES];
    this.fileObjBase = FILE_OBJ_BASE / 4;
    const base = recordBase(this.maxFiles);
    this.recordBase32 = base / 4;
    this.recordBase64 = base / 8;
  }

  /**
   * A pool of at most `records` records for a file table of `maxFiles` ids, charged to `budget`;
   * with `chargeAgainst` (--max-memory) records the faults may use are charged so that this budget
   * runs out before them (table-charge.ts).
   */
  static create(
    budget: MemoryBudget,
    records = 1 << 16,
    maxFiles = 65_536,
    chargeAgainst?: number,
  ): PagePool {
    const buffer = allocateArena(recordBase(maxFiles) + records * RECORD_BYTES);
    const i32 = new Int32Array(buffer);
    i32[H_CAPACITY] = records;
    i32[H_BLOCK_PAGES] = recordBlockPages(records, chargeAgainst);
    i32[H_HIGH_WATER] = 1; // record 0 is "none"
    i32[H_MAX_FILES] = maxFiles;
    return new PagePool(buffer, budget);
  }

  static attach(buffer: SharedArrayBuffer, budget: MemoryBudget): PagePool {
    return new PagePool(buffer, budget);
  }

  /** Take the page lock (spins; never sleeps: usable on the event loop). */
  lock(): void {
    spinLock(this.i32, PAGE_LOCK);
  }

  unlock(): void {
    spinUnlock(this.i32, PAGE_LOCK);
  }

  /** Records in use (page lock, or racy). */
  get inUse(): number {
    return this.i32[H_IN_USE];
  }

  /** Bytes charged to the memory budget per record (32, or more under a large budget). */
  get recordCharge(): number {
    return (this.i32[H_BLOCK_PAGES] * PAGE_BYTES) / RECORDS_PER_PAGE;
  }

  /** Bytes of records charged to the memory budget (page lock, or racy). */
  get chargedBytes(): number {
    return (this.i32[H_RECORDS_CHARGED] / RECORDS_PER_PAGE) * this.i32[H_BLOCK_PAGES] * PAGE_BYTES;
  }

  /**
   * Whether a fault (or fork) may allocate `n` more records: keeps FAULT_RESERVE of the capacity
   * for syscalls, and charges the budget for the pages the used front would need beyond what is
   * charged already; false (nothing charged) past --max-memory (page lock).
   */
  canFault(n: number): boolean {
    const i32 = this.i32;
    const inUse = i32[H_IN_USE];
    if (this.capacity - inUse - n <= FAULT_RESERVE) return false;
    // Free-listed records and the charged part of the front (record 0 is never used).
    const lacking = n - (i32[H_RECORDS_CHARGED] - 1 - inUse);
    if (lacking <= 0) return true;
    const blocks = Math.ceil(lacking / RECORDS_PER_PAGE);
    if (!this.budget.tryCharge(blocks * i32[H_BLOCK_PAGES] * PAGE_BYTES)) return false;
    i32[H_RECORDS_CHARGED] += blocks * RECORDS_PER_PAGE;
    return true;
  }

  /** A zeroed record, or throws when the pool is exhausted (page lock). */
  alloc(): number {
    const i32 = this.i32;
    let r = i32[H_FREE_HEAD];
    if (r !== 0) {
      i32[H_FREE_HEAD] = i32[this.w(r) + R_NEXT];
    } else {
      r = i32[H_HIGH_WATER];
      if (r >= this.capacity) throw new RangeError('page-state pool exhausted');
      i32[H_HIGH_WATER] = r + 1;
      if (r >= i32[H_RECORDS_CHARGED]) {
        // A syscall's record that no fault reserved: always granted, charged even past the limit.
        this.budget.charge(i32[H_BLOCK_PAGES] * PAGE_BYTES);
        i32[H_RECORDS_CHARGED] += RECORDS_PER_PAGE;
      }
    }
    const w = this.w(r);
    for (let k = 0; k < W; k++) i32[w + k] = 0;
    i32[H_IN_USE]++;
    return r;
  }

  /** Return a record (page lock). */
  free(r: number): void {
    const i32 = this.i32;
    i32[this.w(r) + R_NEXT] = i32[H_FREE_HEAD];
    i32[H_FREE_HEAD] = r;
    i32[H_IN_USE]--;
  }

  /** Int32 index of record r's first word. */
  w(r: number): number {
    return this.recordBase32 + r * W;
  }
  /** Float64 index of record r's first slot. */
  s(r: number): number {
    return this.recordBase64 + r * S;
  }

  key(r: number): number {
    return this.f64[this.s(r) + R_KEY];
  }
  setKey(r: number, v: number): void {
    this.f64[this.s(r) + R_KEY] = v;
  }
  opage(r: number): number {
    return this.f64[this.s(r) + R_OPAGE];
  }
  setOpage(r: number, v: number): void {
    this.f64[this.s(r) + R_OPAGE] = v;
  }
  count(r: number): number {
    return this.i32[this.w(r) + R_COUNT];
  }
  setCount(r: number, v: number): void {
    this.i32[this.w(r) + R_COUNT] = v;
  }
  bits(r: number): number {
    return this.i32[this.w(r) + R_BITS];
  }
  setBits(r: number, v: number): void {
    this.i32[this.w(r) + R_BITS] = v;
  }
  obj(r: number): number {
    return this.i32[this.w(r) + R_OBJ];
  }
  setObj(r: number, v: number): void {
    this.i32[this.w(r) + R_OBJ] = v;
  }
  next(r: number): number {
    return this.i32[this.w(r) + R_NEXT];
  }
  setNext(r: number, v: number): void {
    this.i32[this.w(r) + R_NEXT] = v;
  }

  /** The object record of FileTable id `fileId` (0 = none yet; page lock). */
  fileObject(fileId: number): number {
    if (fileId <= 0 || fileId >= this.maxFiles) throw new RangeError(`file id ${fileId}`);
    return this.i32[this.fileObjBase + fileId];
  }
  setFileObject(fileId: number, obj: number): void {
    this.i32[this.fileObjBase + fileId] = obj;
  }
}

function recordBase(maxFiles: number): number {
  return Math.ceil((FILE_OBJ_BASE + maxFiles * 4) / 64) * 64;
}
