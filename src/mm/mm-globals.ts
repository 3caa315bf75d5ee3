/**
 * `MmGlobals`: the global tables every address space shares (file identities, anon names, page
 * state, the memory budget), and their buffers as sent to another thread.
 */
import { AnonNameTable } from './anon-names.js';
import { FileTable } from './file-table.js';
import { MemoryBudget } from './memory-budget.js';
import { PagePool } from './pages/page-pool.js';

/** The buffers of the global tables, as sent to a worker with postMessage. */
export interface MmGlobalBuffers {
  files: SharedArrayBuffer;
  anonNames: SharedArrayBuffer;
  pages: SharedArrayBuffer;
  budget: SharedArrayBuffer;
}

/**
 * The global tables every mm shares (file identities, anon names). One instance per thread;
 * all instances of one service view the same buffers.
 */
export class MmGlobals {
  private constructor(
    readonly files: FileTable,
    readonly anonNames: AnonNameTable,
    /** Page tables and page mapcounts of every mm (src/mm/pages). */
    readonly pages: PagePool,
    /** The service's memory budget (--max-memory): every arena's committed pages are charged. */
    readonly budget: MemoryBudget,
  ) {}

  static create(
    opts: {
      maxFiles?: number;
      fileHeapBytes?: number;
      anonNameSlots?: number;
      pageRecords?: number;
      /** --max-memory in bytes (default: no limit). */
      maxMemory?: number;
      /**
       * Charge each table entry at least maxMemory / its capacity (table-charge.ts), so that the
       * budget runs out before any table: the service sets it; a unit test's small tables under
       * a large budget would otherwise charge an entry many pages.
       */
      guardTables?: boolean;
    } = {},
  ) {
    const budget = MemoryBudget.create(opts.maxMemory);
    const against = opts.guardTables === true ? opts.maxMemory : undefined;
    const files = FileTable.create(opts.maxFiles, opts.fileHeapBytes, budget, against);
    return new MmGlobals(
      files,
      AnonNameTable.create(opts.anonNameSlots, budget, against),
      PagePool.create(budget, opts.pageRecords, files.capacity, against),
      budget,
    );
  }

  /** On another thread: view the tables whose buffers `buffers()` returned. */
  static attach(b: MmGlobalBuffers): MmGlobals {
    const budget = MemoryBudget.attach(b.budget);
    return new MmGlobals(
      FileTable.attach(b.files, budget),
      AnonNameTable.attach(b.anonNames, budget),
      PagePool.attach(b.pages, budget),
      budget,
    );
  }

  buffers(): MmGlobalBuffers {
    return {
      files: this.files.buffer,
      anonNames: this.anonNames.buffer,
      pages: this.pages.buffer,
      budget: this.budget.buffer,
    };
  }

  private static processDefault: MmGlobals | undefined;
  /** This thread's default globals, created on first use (for `MmStruct.create()` without any). */
  static default(): MmGlobals {
    MmGlobals.processDefault ??= MmGlobals.create();
    return MmGlobals.processDefault;
  }
}
