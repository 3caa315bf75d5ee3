import type { AnonNameTable } from './anon-names.js';
import { ArenaCommit } from './arena-commit.js';
import {
  type ArenaGeometry,
  type ArenaViews,
  allocateArena,
  arenaViews,
  computeGeometry,
  I32_EXE_FILE,
  I32_MACHINE_CAPS,
  MACHINE_CAP_NO_ZERO_PAGE,
  MACHINE_CAP_PKEYS,
  MACHINE_CAP_THP_ALWAYS,
  MACHINE_CAP_THP_NEVER,
  readGeometry,
  SYNC_WORDS_BASE,
  SYNC_WORDS_COUNT,
  writeGeometry,
} from './arena-layout.js';
import { DeferredFree, type GracePeriods, IMMEDIATE_GRACE } from './deferred-free.js';
import { ENOMEM } from './errno.js';
import type { FileIdentity, FileTable } from './file-table.js';
import { MmGlobals } from './mm-globals.js';
import { MmHeader } from './mm-header.js';
import { dropFileObject } from './pages/page-objects.js';
import type { PagePool } from './pages/page-pool.js';
import type { ThpMode } from './pages/thp.js';
import { DEFAULT_MAX_MAP_COUNT } from './vm-flags.js';
import { VmaIndex } from './vma-index.js';
import { VmaTable } from './vma-table.js';

export { type MmGlobalBuffers, MmGlobals } from './mm-globals.js';
export { SYNC_WORDS_BASE, SYNC_WORDS_COUNT };

export interface MmCreateOptions {
  /** max_map_count for this mm (default 65,530). */
  maxVmas?: number;
  /** Global tables (default: this thread's `MmGlobals.default()`). */
  globals?: MmGlobals;
  /** RCU grace periods for deferred free (default IMMEDIATE_GRACE: single-threaded use only). */
  grace?: GracePeriods;
  /**
   * The simulated CPU has protection keys (x86 PKU/OSPKE): execute-only mappings get the
   * execute-only pkey (syscalls/pkey.ts). Default false; the service decides (`--pkeys`).
   */
  pkeys?: boolean;
  /**
   * Read faults allocate pages instead of mapping the zero page (not Linux's default; the
   * differential test sets it on hosts that boot so). Default false.
   */
  noZeroPage?: boolean;
  /** The THP mode (pages/thp.ts). Default `madvise`, the reference host's. */
  thp?: ThpMode;
}

/**
 * `MmStruct`: one address space = a SharedArrayBuffer arena holding the mm header, the sync
 * words, the VMA records (`vmas`) and the ordered index (`index`), plus views of the global
 * tables. Any thread handed `buffer` (and the globals' buffers) can `attach` and read it;
 * writers must hold the mmap write lock (src/sync) for every method marked "writer".
 *
 * Header fields (mm-header.ts) are written by writers under the mmap write lock and read by
 * readers without a lock (racy reads that strategies validate with the mm sequence count).
 */
export class MmStruct extends MmHeader {
  readonly buffer: SharedArrayBuffer;
  readonly views: ArenaViews;
  readonly geometry: ArenaGeometry;
  readonly vmas: VmaTable;
  readonly index: VmaIndex;
  readonly deferred: DeferredFree;
  readonly globals: MmGlobals;
  readonly files: FileTable;
  readonly anonNames: AnonNameTable;
  /** The global page-state pool (src/mm/pages; its own page lock). */
  readonly pages: PagePool;
  /**
   * The arena's pages charged to `globals.budget` (arena-commit.ts). Views made by `attach` are
   * strict (growth past --max-memory is refused: ENOMEM); `create`'s only counts pages until
   * its creator shares the arena and charges them (`commit.admit`).
   */
  readonly commit: ArenaCommit;

  private constructor(
    buffer: SharedArrayBuffer,
    globals: MmGlobals,
    grace: GracePeriods,
    strict: boolean,
  ) {
    const views = arenaViews(buffer);
    super(views);
    this.buffer = buffer;
    this.views = views;
    this.geometry = readGeometry(views);
    this.globals = globals;
    this.files = globals.files;
    this.anonNames = globals.anonNames;
    this.pages = globals.pages;
    this.commit = new ArenaCommit(this.i32, globals.budget, strict);
    this.vmas = new VmaTable(this.views, this.geometry, this.commit);
    this.deferred = new DeferredFree(this.views, this.geometry, grace, this.commit);
    this.index = new VmaIndex(
      this.views,
      this.geometry,
      this.deferred,
      (id) => this.vmas.free(id),
      this.commit,
    );
  }

  /** A new, empty address space. */
  static create(opts: MmCreateOptions = {}): MmStruct {
    const g = computeGeometry(opts.maxVmas ?? DEFAULT_MAX_MAP_COUNT);
    const buffer = allocateArena(g.totalBytes);
    const views = arenaViews(buffer);
    writeGeometry(views, g);
    views.i32[I32_MACHINE_CAPS] =
      (opts.pkeys ? MACHINE_CAP_PKEYS : 0) |
      (opts.noZeroPage ? MACHINE_CAP_NO_ZERO_PAGE : 0) |
      (opts.thp === 'always' ? MACHINE_CAP_THP_ALWAYS : 0) |
      (opts.thp === 'never' ? MACHINE_CAP_THP_NEVER : 0);
    const mm = new MmStruct(
      buffer,
      opts.globals ?? MmGlobals.default(),
      opts.grace ?? IMMEDIATE_GRACE,
      false,
    );
    mm.commit.countFixedPages();
    return mm;
  }

  /** View an existing arena (on any thread). `grace` as in create; pass the thread's RCU. */
  static attach(buffer: SharedArrayBuffer, globals: MmGlobals, grace?: GracePeriods): MmStruct {
    return new MmStruct(buffer, globals, grace ?? IMMEDIATE_GRACE, true);
  }

  /** Use this thread's RCU implementation for deferred free from now on. */
  setGracePeriods(grace: GracePeriods): void {
    this.deferred.grace = grace;
  }

  /** max_map_count of this mm. */
  get maxMapCount(): number {
    return this.geometry.maxVmas;
  }

  /** set_mm_exe_file: takes a reference on `file` (held by the caller), puts the old one. */
  setExeFile(file: number): void {
    const old = this.exeFile;
    this.files.get(file);
    this.i32[I32_EXE_FILE] = file;
    this.putFile(old);
  }

  // ---- read API (readers in an RCU section, or holding the mmap lock) -----------------------
  /** First VMA with end > addr, or 0 (find_vma; vma_next from addr). */
  findVma(addr: number): number {
    return this.index.findNext(addr);
  }
  /** Last VMA with start < addr, or 0 (the `prev` of find_vma_prev / vma_prev). */
  findVmaPrev(addr: number): number {
    return this.index.findPrev(addr);
  }
  /** The VMA containing addr, or 0 (vma_lookup). */
  vmaLookup(addr: number): number {
    return this.index.lookup(addr);
  }

  // ---- writer helpers (mmap write lock) ------------------------------------------------------
  /** Iterate VMA ids with end > from and start < to, in address order (VMA_ITERATOR / for_each_vma_range). */
  *vmasInRange(from = 0, to = Number.POSITIVE_INFINITY): Generator<number> {
    const c = this.index.cursor();
    for (let ok = c.seek(from); ok && c.start < to; ok = c.next()) yield c.id;
  }

  /** Allocate a detached VMA record (vm_area_alloc). 0 when the arena is full (-> ENOMEM). */
  allocVma(): number {
    this.index.reclaimRetiredBatch();
    const id = this.vmas.alloc();
    if (id !== 0) return id;
    // Full while retired records wait for grace: wait for a grace period (if the RCU can), retry.
    return this.index.waitForGraceAndReclaim() ? this.vmas.alloc() : 0;
  }

  /**
   * vm_area_dup: a new detached record with the descriptive fields of `src`, taking a reference
   * on its anon name. 0 when the arena is full.
   */
  dupVma(src: number): number {
    const id = this.allocVma();
    if (id === 0) return 0;
    this.vmas.copyFields(id, src);
    this.anonNames.ref(this.vmas.anonName(src));
    this.files.get(this.vmas.file(src));
    return id;
  }

  /** Sets the file of record `id` (0 before), taking a reference (get_file) on it. */
  setVmaFile(id: number, file: number): void {
    this.files.get(file);
    this.vmas.setFile(id, file);
  }

  /**
   * A FileTable reference for the identity `f` (drop it with `putFile`), or -errno. A table that
   * is full while unreferenced entries wait for their grace period: wait for one and retry.
   */
  internFile(f: FileIdentity): number {
    const id = this.files.intern(f, this.deferred.grace);
    return id === -ENOMEM && this.waitForFileGrace()
      ? this.files.intern(f, this.deferred.grace)
      : id;
  }

  /** shmem_zero_setup's file, one reference for the caller (or -ENOMEM), like internFile. */
  createShmemFile(): number {
    const id = this.files.createShmem(this.deferred.grace);
    return id === -ENOMEM && this.waitForFileGrace()
      ? this.files.createShmem(this.deferred.grace)
      : id;
  }

  /** fput: drops a file reference; the last one retires the entry until a grace period ends. */
  putFile(id: number): void {
    if (!this.files.put(id, this.deferred.grace)) return;
    // No VMA maps the file any more: its page object goes too (the id is reused after grace).
    this.pages.lock();
    try {
      dropFileObject(this.pages, id);
    } finally {
      this.pages.unlock();
    }
  }

  /** synchronize_rcu + reclaim when retired file entries wait (false: nothing to gain, or the
   * calling thread may not sleep: the event loop). */
  private waitForFileGrace(): boolean {
    const g = this.deferred.grace;
    if (this.files.retired === 0 || g.synchronize === undefined) return false;
    try {
      g.synchronize();
    } catch {
      return false;
    }
    return this.files.reclaim(g) > 0;
  }

  /** Replace a VMA's anon name, moving the reference (the old handle is put immediately). */
  setAnonName(id: number, handle: number): void {
    const old = this.vmas.anonName(id);
    if (old === handle) return;
    this.anonNames.ref(handle);
    this.vmas.setAnonName(id, handle);
    this.anonNames.put(old);
  }

  /** Publish `id` in the index over [start(id), end(id)) (vma_iter_store). Throws IndexFullError. */
  indexStore(id: number): void {
    this.index.store(this.vmas.start(id), this.vmas.end(id), id);
  }

  /**
   * vm_area_free of a VMA already removed from the index (and detached by src/sync): its anon
   * name reference is dropped NOW (as Linux's vm_area_free does; the handle stays in the record,
   * dangling, for racing lockless readers to trip over), so is its file reference (the entry,
   * if that was the last, is reused only after a grace period: readers may still print it), and
   * the record itself is reused only after an RCU grace period.
   */
  retireVma(id: number): void {
    this.anonNames.put(this.vmas.anonName(id));
    this.putFile(this.vmas.file(id));
    this.deferred.retireVma(id);
  }

  /**
   * Frees a record that was never reachable by any reader (its index store failed): drops its
   * anon name and file references and returns it to the free list at once.
   */
  discardVma(id: number): void {
    this.anonNames.put(this.vmas.anonName(id));
    this.putFile(this.vmas.file(id));
    this.vmas.free(id);
  }

  /** Reclaim retired records and nodes past their grace period (index writes do it per RECLAIM_BATCH). */
  reclaim(): number {
    return this.index.reclaimRetired();
  }
}
