// Instruments: the shared buffer of per-thread instrument blocks (layout: block-layout.ts).
//
//   main thread:   const instruments = Instruments.create();   // pass instruments.buffer on
//   any thread:    const rec = Instruments.attach(buffer).recorder(); // once per thread
//                  const QUERY = readOpId('query');             // ids resolved once, cold
//                  rec.read(QUERY, strategy, ns);               // hot path: plain adds
//                  rec.release();                               // before the thread ends
//   scraper:       aggregator.ts sums the blocks (registry.ts wires it into prom-client)
//
// Claim/release protocol (all under TABLE_LOCK): claim picks a free block, records the owner
// thread and bumps the block's generation; release adds the block into the retired block,
// zeroes it and frees it. Because a release moves counts from a block to the retired block
// inside the lock, and the scraper reads both inside the lock, a scrape sees each count
// exactly once, before or after the move.

import { threadId } from 'node:worker_threads';
import { acquireTableLock, breakTableLockOf, releaseTableLock } from '../sync/table-lock.js';
import {
  BLOCK_BYTES,
  type BufferLayout,
  blockByteOffset,
  bufferLayout,
  E_GENERATION,
  E_OWNER,
  LAYOUT_VERSION,
  MAGIC,
  TABLE_ENTRY_WORDS,
  W_BLOCK_CELLS,
  W_CAPACITY,
  W_ENABLED,
  W_MAGIC,
  W_TABLE_LOCK,
  W_VERSION,
} from './block-layout.js';
import { BLOCK_CELLS } from './families.js';
import { InstrumentRecorder } from './recorder.js';

// One import for recording code: the recorder, the label ids and the clock.
export { nowNs } from '../sync/clock.js';
export * from './labels.js';
export { InstrumentRecorder } from './recorder.js';

export interface InstrumentsOptions {
  /**
   * Blocks, i.e. threads that can record at the same time (default 1024, ~20 KiB each; the
   * buffer's pages are zero-filled on first touch, so unused blocks cost no physical memory).
   */
  capacity?: number;
  /** Initial state of the shared on/off switch (default on). */
  enabled?: boolean;
}

export const DEFAULT_CAPACITY = 1024;
/** Longest a claim or release waits for TABLE_LOCK (normally held for microseconds). */
const TABLE_LOCK_BUDGET_MS = 1_000;
export const MAX_INSTRUMENT_BLOCKS = 65_536;

export class Instruments {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  private readonly layout: BufferLayout;
  /** Int32 view of the whole buffer: header words and the block table. */
  private readonly words: Int32Array;
  private readonly blockViews: Array<Float64Array | undefined>;
  private retiredView: Float64Array | undefined;
  private ownRecorder: InstrumentRecorder | null = null;

  private constructor(buffer: SharedArrayBuffer, layout: BufferLayout) {
    this.buffer = buffer;
    this.layout = layout;
    this.capacity = layout.capacity;
    this.words = new Int32Array(buffer, 0, layout.retiredByteOffset / 4);
    this.blockViews = new Array(layout.capacity);
  }

  /** A new, zeroed buffer (normally once per app instance, on the main thread). */
  static create(options: InstrumentsOptions = {}): Instruments {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_INSTRUMENT_BLOCKS) {
      throw new RangeError(`instrument capacity must be an integer in 1..${MAX_INSTRUMENT_BLOCKS}`);
    }
    const layout = bufferLayout(capacity);
    const buffer = new SharedArrayBuffer(layout.totalBytes);
    const instruments = new Instruments(buffer, layout);
    // Written before the buffer is handed to any other thread; immutable afterwards.
    const w = instruments.words;
    w[W_MAGIC] = MAGIC;
    w[W_VERSION] = LAYOUT_VERSION;
    w[W_CAPACITY] = capacity;
    w[W_BLOCK_CELLS] = BLOCK_CELLS;
    Atomics.store(w, W_ENABLED, options.enabled === false ? 0 : 1);
    return instruments;
  }

  /** A view of a buffer made by create(), on any thread. Checks that the layouts agree. */
  static attach(buffer: SharedArrayBuffer): Instruments {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < 128) {
      throw new TypeError('Instruments.attach expects the SharedArrayBuffer of Instruments.create');
    }
    const header = new Int32Array(buffer, 0, 16);
    if (header[W_MAGIC] !== MAGIC) throw new TypeError('not an instruments buffer (bad magic)');
    if (header[W_VERSION] !== LAYOUT_VERSION || header[W_BLOCK_CELLS] !== BLOCK_CELLS) {
      throw new TypeError('instruments buffer was made by a different build (layout mismatch)');
    }
    const layout = bufferLayout(header[W_CAPACITY]);
    if (layout.totalBytes !== buffer.byteLength) {
      throw new TypeError('instruments buffer size does not match its header');
    }
    return new Instruments(buffer, layout);
  }

  /** The shared on/off switch: off makes every recorder on every thread return at once. */
  get enabled(): boolean {
    return Atomics.load(this.words, W_ENABLED) !== 0;
  }

  set enabled(on: boolean) {
    Atomics.store(this.words, W_ENABLED, on ? 1 : 0);
  }

  /**
   * This thread's recorder: claims a block on first use (and again after release()). Throws
   * if all `capacity` blocks are owned by live threads.
   */
  recorder(): InstrumentRecorder {
    const existing = this.ownRecorder;
    if (existing !== null) return existing;
    const block = this.claimBlock();
    const recorder = new InstrumentRecorder(
      this.words,
      W_ENABLED,
      this.blockCells(block),
      block,
      () => {
        this.ownRecorder = null;
        this.releaseBlock(block);
      },
    );
    this.ownRecorder = recorder;
    return recorder;
  }

  /**
   * Release every block still owned by the thread `deadThreadId` (a Worker's `threadId`),
   * keeping its counts. Only for threads that have exited without release(), e.g. from a
   * Worker 'exit' handler: releasing a live thread's block would lose its later increments.
   * Returns how many blocks were released.
   */
  releaseBlocksOfThread(deadThreadId: number): number {
    // A thread terminated inside claim/release still holds TABLE_LOCK: free it first. (Its
    // half-done release, if any, may leave that one block's counts partly moved.)
    breakTableLockOf(this.words, W_TABLE_LOCK, deadThreadId);
    let released = 0;
    for (let block = 0; block < this.capacity; block++) {
      // Owner words only change under the lock; the re-check inside releaseBlock is exact.
      if (Atomics.load(this.words, this.entryWord(block) + E_OWNER) === deadThreadId + 1) {
        if (this.releaseBlock(block, deadThreadId + 1)) released++;
      }
    }
    return released;
  }

  // ---- for the aggregator (aggregator.ts); call the accessors inside tryWithTableLocked ----

  /**
   * Run `fn` holding TABLE_LOCK (no claim or release can happen meanwhile) and return true;
   * return false without running it if the lock stayed held for `budgetMs` (its holder died
   * inside the critical section and nobody has called releaseBlocksOfThread for it yet).
   */
  tryWithTableLocked(fn: () => void, budgetMs: number): boolean {
    if (!acquireTableLock(this.words, W_TABLE_LOCK, budgetMs)) return false;
    try {
      fn();
    } finally {
      releaseTableLock(this.words, W_TABLE_LOCK);
    }
    return true;
  }

  /** The TABLE_LOCK word now: 0 if free, else 1 + the holder's threadId. */
  tableLockHolder(): number {
    return Atomics.load(this.words, W_TABLE_LOCK);
  }

  /** 0 if the block is free, else 1 + the owner's threadId. Under TABLE_LOCK. */
  blockOwner(block: number): number {
    return this.words[this.entryWord(block) + E_OWNER];
  }

  /** Claim generation of the block. Under TABLE_LOCK. */
  blockGeneration(block: number): number {
    return this.words[this.entryWord(block) + E_GENERATION];
  }

  /** The block's cells (written by its owner thread only). */
  blockCells(block: number): Float64Array {
    let view = this.blockViews[block];
    if (view === undefined) {
      view = new Float64Array(this.buffer, blockByteOffset(this.layout, block), BLOCK_CELLS);
      this.blockViews[block] = view;
    }
    return view;
  }

  /** Sum of all released blocks. Read and written under TABLE_LOCK only. */
  retiredCells(): Float64Array {
    this.retiredView ??= new Float64Array(this.buffer, this.layout.retiredByteOffset, BLOCK_CELLS);
    return this.retiredView;
  }

  /** Run `fn` under TABLE_LOCK; throws if it cannot be had within TABLE_LOCK_BUDGET_MS. */
  private locked<T>(fn: () => T): T {
    let result: T | undefined;
    const ran = this.tryWithTableLocked(() => {
      result = fn();
    }, TABLE_LOCK_BUDGET_MS);
    if (!ran) {
      const holder = Atomics.load(this.words, W_TABLE_LOCK) - 1;
      throw new Error(
        `instrument table lock held for over ${TABLE_LOCK_BUDGET_MS} ms by thread ${holder}`,
      );
    }
    return result as T;
  }

  private entryWord(block: number): number {
    return this.layout.tableWord + block * TABLE_ENTRY_WORDS;
  }

  private claimBlock(): number {
    const claimed = this.locked(() => {
      for (let block = 0; block < this.capacity; block++) {
        const entry = this.entryWord(block);
        if (this.words[entry + E_OWNER] === 0) {
          this.words[entry + E_OWNER] = threadId + 1;
          this.words[entry + E_GENERATION] = (this.words[entry + E_GENERATION] + 1) | 0;
          return block;
        }
      }
      return -1;
    });
    if (claimed < 0) {
      throw new Error(
        `all ${this.capacity} instrument blocks are in use; create Instruments with a larger capacity`,
      );
    }
    return claimed;
  }

  /** Move the block's counts into the retired block and free it. Returns false if it was not
   * owned by `expectedOwner` (when given) or already free. */
  private releaseBlock(block: number, expectedOwner?: number): boolean {
    return this.locked(() => {
      const entry = this.entryWord(block);
      const owner = this.words[entry + E_OWNER];
      if (owner === 0 || (expectedOwner !== undefined && owner !== expectedOwner)) return false;
      const cells = this.blockCells(block);
      const retired = this.retiredCells();
      for (let i = 0; i < BLOCK_CELLS; i++) retired[i] += cells[i];
      cells.fill(0);
      this.words[entry + E_OWNER] = 0;
      return true;
    });
  }
}

/** Bytes of one thread block (for capacity planning and the docs). */
export const INSTRUMENT_BLOCK_BYTES = BLOCK_BYTES;
