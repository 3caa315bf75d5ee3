/**
 * The byte layout of one address-space arena (one SharedArrayBuffer per mm).
 *
 * The offset table is the struct: every field below names the lock or ordering rule that
 * protects it. Locks referred to:
 *  - "mmap write lock": the mm's mmap_lock held for writing (src/sync); all writers hold it.
 *  - "immutable": written once by `MmStruct.create()` before the buffer is shared.
 *  - "release/acquire": written with `Atomics.store` after the data it publishes, read with
 *    `Atomics.load` before the data is read (the JS memory model makes plain writes before a
 *    seq-cst store visible to a thread whose seq-cst load observes it).
 *
 * Regions (records and nodes on whole cache lines; the ring's entries are 16 bytes):
 *   [header: 7 cache lines][VMA records ->] ... [<- retire ring][index nodes ->]
 *                                                              ^ nodeBase (the "pivot page")
 *
 * Every region is reserved for max_map_count but costs memory only where it was written: the OS
 * commits a page on first touch, and each allocator uses its slots from one end (bump pointer,
 * LIFO free list; the ring restarts at slot 0 whenever it empties), so an arena's resident size
 * is its high-water marks rounded out to pages (`committedBytes`). The regions are laid out so
 * that a small process's used fronts share pages (issue 11: bytes per hosted VMA at 1M VMAs, 100
 * VMAs a process): the VMA records start right after the header, on page 0, and the retire ring
 * grows DOWN from `nodeBase`, which sits PIVOT_OFFSET bytes into its page, so the ring's front
 * and the first index nodes share that page. A 100-VMA process commits 4 pages (it took 6 when
 * every region began on a page of its own).
 *
 * Word indexes below are indexes into an `Int32Array` over the whole arena (I32_*), or into a
 * `Float64Array` over the whole arena (F64_*). A field never shares a cache line with fields that
 * are written at a different rate by a different party: the sync words (written by lock takers)
 * sit alone, and so does the index root (read by every reader, written once per mutation).
 */

export const CACHE_LINE = 64;
export const ARENA_MAGIC = 0x6d6d5f31; // 'mm_1'
export const ARENA_VERSION = 4;

// ---- line 0: geometry (immutable) -----------------------------------------------------------
export const I32_MAGIC = 0;
export const I32_VERSION = 1;
/** max_map_count this mm was created with (immutable). */
export const I32_MAX_VMAS = 2;
/** Number of VMA record slots, including the unused slot 0 (immutable). */
export const I32_VMA_CAPACITY = 3;
/** Number of index node slots, including the unused slot 0 (immutable). */
export const I32_NODE_CAPACITY = 4;
/** Number of retire ring slots (immutable). */
export const I32_RETIRE_CAPACITY = 5;
export const I32_VMA_BASE = 6; // byte offset of the VMA record region (immutable)
export const I32_NODE_BASE = 7; // byte offset of the index node region (immutable)
/**
 * Byte offset of the retire ring's low end (immutable). The ring (Float64 stamp, item pairs) ends
 * at nodeBase and its slot 0 is the highest entry: slot s is at nodeBase - 16 * (s + 1).
 */
export const I32_RETIRE_BASE = 8;
/** Word 9 is unused (was the second retire ring array of version 2). */
/**
 * The simulated machine's capabilities this mm was created with (immutable; MACHINE_CAP_* bits).
 * In the arena so that every thread running syscalls on it (worker CPUs, activity threads) sees
 * the same machine; fork copies it.
 */
export const I32_MACHINE_CAPS = 10;
/** The CPU has protection keys, enabled by the kernel (x86 PKU + OSPKE): see syscalls/pkey.ts. */
export const MACHINE_CAP_PKEYS = 1;
/**
 * Read faults on private anonymous memory allocate a page instead of mapping the shared zero page
 * (mm_forbids_zeropage(); some hypervisor guests boot this way): populating readable private
 * anonymous memory then gives it an anon_vma (syscalls/anon-vma.ts populateVma).
 */
export const MACHINE_CAP_NO_ZERO_PAGE = 2;
/**
 * The THP mode (/sys/kernel/mm/transparent_hugepage/enabled, pages/thp.ts): neither bit is
 * `madvise` (the reference host's), else `always` or `never`.
 */
export const MACHINE_CAP_THP_ALWAYS = 4;
export const MACHINE_CAP_THP_NEVER = 8;

// ---- lines 1-2: sync words, owned by src/sync ---------------------------------------------
/**
 * 32 Int32 words (two cache lines, nothing else on them), reserved for src/sync: the mmap_lock
 * rwsem state and waiter counts and the mm sequence count `mm_lock_seq`. src/sync defines their
 * meaning; src/mm never touches them. Two lines so that src/sync can keep `mm_lock_seq` (loaded by
 * every speculating reader) off the line that mmap_lock takers RMW, as Linux does. Protected by:
 * their own Atomics protocol.
 */
export const SYNC_WORDS_BASE = 16;
export const SYNC_WORDS_COUNT = 32;

// ---- line 3: index root (release/acquire) --------------------------------------------------
/**
 * Root node id of the VMA index (0 = empty). Written with `Atomics.store` by the writer (mmap
 * write lock) after every node reachable from it is complete; read with `Atomics.load` by
 * readers inside an RCU read section. Nodes reachable from a root a reader loaded stay intact
 * until an RCU grace period has passed (see deferred-free.ts). A writer holding the mmap write
 * lock may read it plainly (VmaIndex.writerRoot): every store to it was made under that lock.
 */
export const I32_INDEX_ROOT = 48;
/** Number of entries in the index (mmap write lock; readers may read it racily, as a hint). */
export const I32_INDEX_COUNT = 49;

// ---- line 4: allocators and retire ring (mmap write lock) ------------------------------------
/** Head of the free VMA record list, linked through each free record's free-next word. */
export const I32_VMA_FREE_HEAD = 64;
/** Next never-used VMA record slot (bump allocation below capacity). */
export const I32_VMA_HIGH_WATER = 65;
/** VMA records currently allocated (live or retired, not yet reclaimed). */
export const I32_VMA_IN_USE = 66;
export const I32_NODE_FREE_HEAD = 67;
export const I32_NODE_HIGH_WATER = 68;
/** Index nodes currently allocated (reachable, or retired and not yet reclaimed). */
export const I32_NODE_IN_USE = 69;
/** Retire ring: items are pushed at tail and reclaimed from head (monotonic counters). */
export const I32_RETIRE_HEAD = 70;
export const I32_RETIRE_TAIL = 71;
/**
 * The mm's page table: its head record in the global page-state pool (src/mm/pages/page-table.ts),
 * 0 until a page is first mapped. Written with Atomics.store under the page lock (pages/page-pool.ts),
 * not the mmap lock: a fault under a VMA read lock may create it.
 */
export const I32_PAGE_TABLE = 72;
/** Ring slots ever written: slots below it have been touched (committed by the OS; the ring
 * grows down from nodeBase, so they are the bytes [nodeBase - 16 * it, nodeBase)). */
export const I32_RETIRE_HIGH_WATER = 73;
/** Pages of this arena charged to the memory budget (arena-commit.ts; mmap write lock). */
export const I32_PAGES_CHARGED = 74;

// ---- lines 5-6: mm_struct fields (mmap write lock; readers read them racily and validate) ------
/** mm->map_count. */
export const I32_MAP_COUNT = 80;
/** mm->exe_file as a FileTable id (0 = none). */
export const I32_EXE_FILE = 81;
/** Float64 indexes (byte offset / 8): line 5 starts at byte 320 = F64 index 40 (map_count, exe). */
export const F64_START_CODE = 41;
export const F64_END_CODE = 42;
export const F64_START_DATA = 43;
export const F64_END_DATA = 44;
export const F64_START_BRK = 45;
export const F64_BRK = 46;
export const F64_START_STACK = 47;
export const F64_MMAP_BASE = 48;
/** mm->total_vm in pages. */
export const F64_TOTAL_VM = 49;
/** mm->locked_vm, mm->data_vm, mm->exec_vm, mm->stack_vm in pages (accounting for syscalls). */
export const F64_LOCKED_VM = 50;
export const F64_DATA_VM = 51;
export const F64_EXEC_VM = 52;
export const F64_STACK_VM = 53;
/** mm->arg_start / arg_end / env_start / env_end (for completeness of imported layouts). */
export const F64_ARG_START = 54;
/**
 * mm->hiwater_vm in pages: total_vm's high-water mark, raised (update_hiwater_vm) only where the
 * kernel raises it, right before an unmap lowers total_vm (vma-munmap.ts); mremap's move restores
 * it around its unmap of the source. Protected by the mmap write lock (every writer of it holds
 * it); /proc/PID/status reads it racily, as task_mem() does.
 */
export const F64_HIWATER_VM = 55;

export const HEADER_BYTES = 7 * CACHE_LINE;

// ---- VMA records --------------------------------------------------------------------------
/**
 * One VMA record = one cache line (64 bytes): the fields readers format, the allocator words and
 * the per-VMA lock words. The fields are written by writers only, holding the mmap write lock
 * AND the VMA write lock, mutated in place where the kernel mutates in place: vma_expand /
 * __split_vma / mremap adjust vm_start, vm_end, vm_pgoff of a live VMA, so lockless readers must
 * validate what they read.
 *
 * Intended difference from Linux: the kernel keeps `vm_refcnt` on a cache line of its own
 * (`____cacheline_aligned_in_smp`) so reader RMWs on it do not bounce the line holding the fields.
 * Here the lock words share the record's line: a second line per VMA doubled the bytes per hosted
 * VMA (issue 11: the memory budget asks for <= 256 B per VMA at a million VMAs), and the cost
 * only shows when several CPUs read-lock the same VMA at once.
 *
 *   bytes  0-23  start, end, pgoff (Float64)
 *   bytes 24-47  flags, file, (spare), ops, gen, free-next (Int32)
 *   bytes 48-55  vm_refcnt, vm_lock_seq (Int32, src/sync)
 *   bytes 56-63  anon name handle (Float64: 32 slot bits, 21 generation bits, anon-names.ts)
 * One spare Int32 word is left (byte 32): keep additions this small, 64 B is the budget.
 */
export const VMA_RECORD_BYTES = CACHE_LINE;
/** Float64 slot offsets within a record (record byte offset / 8 + slot). */
export const VMA_F64_START = 0; // vm_start, bytes
export const VMA_F64_END = 1; // vm_end, bytes (exclusive)
export const VMA_F64_PGOFF = 2; // vm_pgoff, in pages
/**
 * AnonNameTable handle, 0 = none. A Float64 (was Int32 word 8, 20 slot bits: a table of 1 Mi
 * names one client could fill under a large budget, issue 11) so that one plain load reads the
 * whole handle: a lockless reader never pairs one name's slot with another's generation.
 */
export const VMA_F64_ANON_NAME = 7;
/** Int32 word offsets within a record (record byte offset / 4 + word). */
export const VMA_I32_FLAGS = 6; // vm_flags (uint32 bits)
export const VMA_I32_FILE = 7; // FileTable id, 0 = anonymous
export const VMA_I32_OPS = 9; // special-mapping ops index (special-mappings.ts), 0 = none
/**
 * Incremented by the allocator each time the record is (re)allocated, before it is published;
 * a reader that saw one value and later another knows the record was recycled (records are
 * type-stable, like SLAB_TYPESAFE_BY_RCU slabs).
 */
export const VMA_I32_GEN = 10;
/** Allocator link while the record is free (mmap write lock); meaningless while in use. */
export const VMA_I32_FREE_NEXT = 11;
/** Per-VMA lock words, owned by src/sync (vma lock protocol). */
export const VMA_I32_REFCNT = 12; // vm_refcnt: 0 detached, 1 attached, >1 read-locked
export const VMA_I32_LOCK_SEQ = 13; // vm_lock_seq, compared with mm_lock_seq

// ---- index nodes --------------------------------------------------------------------------
/**
 * B+tree node fan-out. A node holds up to NODE_FANOUT items. In a leaf (level 0) item i is a VMA
 * entry [lo, hi) -> VMA id; in an internal node item i is child i with lo = smallest start and
 * hi = largest end in that child's subtree. Nodes are immutable once published (copy-on-write).
 */
export const NODE_FANOUT = 14;
export const NODE_MIN_FILL = NODE_FANOUT / 2;
/**
 * Node layout, cache-line aware (nodes start on a 64-byte boundary, NODE_BYTES is 5 lines):
 *   line 0      count, level, ptr[14]        (a lookup reads the header and one ptr: same line)
 *   lines 1-2   hi[14] (Float64)             (findNext scans these: 112 bytes)
 *   lines 2-4   lo[14] (Float64)             (findPrev scans these)
 */
export const NODE_I32_COUNT = 0;
export const NODE_I32_LEVEL = 1;
export const NODE_PTR_BYTES = 8; // Int32[NODE_FANOUT]
/** Free-list link while the node is free (mmap write lock): reuses ptr[0]. */
export const NODE_I32_FREE_NEXT = NODE_PTR_BYTES / 4;
export const NODE_HI_BYTES = CACHE_LINE; // Float64[NODE_FANOUT]
export const NODE_LO_BYTES = NODE_HI_BYTES + 8 * NODE_FANOUT; // Float64[NODE_FANOUT]
export const NODE_BYTES = 5 * CACHE_LINE; // 320 >= NODE_LO_BYTES + 8 * NODE_FANOUT = 288
/** Bound on tree height used by readers as a guard against walking garbage. */
export const MAX_INDEX_HEIGHT = 12;

// ---- retire ring --------------------------------------------------------------------------
/**
 * One ring entry = two Float64 slots: the RCU stamp, then the item (> 0 a VMA record id, < 0 the
 * negated index node id). Interleaved so that the ring's used front is one contiguous run.
 */
export const RETIRE_ENTRY_BYTES = 16;

/** Page size the OS commits memory in (x86-64): the unit of `committedBytes`. */
export const PAGE_BYTES = 4096;
/**
 * Where nodeBase sits in its page (the pivot page): the ring's first 64 slots lie below it and
 * index nodes 0-8 above it, on the same page. Every arena commits the pivot page (its first
 * index node or retire is there), so it is counted from creation with the header page.
 */
export const PIVOT_OFFSET = 1024;

export interface ArenaGeometry {
  maxVmas: number;
  vmaCapacity: number;
  nodeCapacity: number;
  retireCapacity: number;
  retireBase: number;
  vmaBase: number;
  nodeBase: number;
  totalBytes: number;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * Sizes for an mm of `maxVmas` VMAs. VMA slots: twice max_map_count, so a full address space can
 * be rewritten while the previous records wait for a grace period. Node slots: a full tree of
 * minimum-fill leaves needs maxVmas/8 + maxVmas/64 + ..., about maxVmas/7; we reserve maxVmas/2
 * plus a constant for copy-on-write paths waiting for grace. Unused slots cost no RSS: the OS
 * zero-fills the buffer's pages on first touch, and allocators reuse freed slots LIFO.
 */
export function computeGeometry(maxVmas: number): ArenaGeometry {
  if (!Number.isInteger(maxVmas) || maxVmas < 1 || maxVmas > 1 << 24) {
    throw new RangeError(`maxVmas must be an integer in [1, 2^24], got ${maxVmas}`);
  }
  const vmaCapacity = 2 * maxVmas + 64;
  const nodeCapacity = Math.ceil(maxVmas / 2) + 1024;
  const retireCapacity = vmaCapacity + nodeCapacity;
  const vmaBase = HEADER_BYTES;
  const ringBytes = retireCapacity * RETIRE_ENTRY_BYTES;
  // The pivot page: nodeBase PIVOT_OFFSET bytes into the first page past the records and ring.
  const nodeBase =
    alignUp(vmaBase + vmaCapacity * VMA_RECORD_BYTES + ringBytes, PAGE_BYTES) + PIVOT_OFFSET;
  const retireBase = nodeBase - ringBytes;
  const totalBytes = alignUp(nodeBase + nodeCapacity * NODE_BYTES, CACHE_LINE);
  return {
    maxVmas,
    vmaCapacity,
    nodeCapacity,
    retireCapacity,
    retireBase,
    vmaBase,
    nodeBase,
    totalBytes,
  };
}

/** The typed views every arena user works through (one set per thread per arena). */
export interface ArenaViews {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
}

export function arenaViews(buffer: SharedArrayBuffer): ArenaViews {
  // Fixed-length views (an arena never grows once allocated): no length tracking on the hot path.
  const n = buffer.byteLength;
  return {
    buffer,
    i32: new Int32Array(buffer, 0, n >> 2),
    u32: new Uint32Array(buffer, 0, n >> 2),
    f64: new Float64Array(buffer, 0, n >> 3),
  };
}

/**
 * A zeroed arena of `bytes`. Allocated as a growable SharedArrayBuffer (at its full length) so
 * that V8 maps it straight from the OS (a page reservation, committed lazily, unmapped when the
 * last thread drops it) instead of through malloc: a plain 30 MB SharedArrayBuffer comes from
 * glibc's calloc, whose dynamic mmap threshold rises past that size after the first free, after
 * which every new arena is carved from the heap and memset in full (all of it resident) and
 * freed arenas stay resident as heap fragments. That was the fork/exit churn leak (issue 11).
 * Only the pages a process touches are resident.
 */
export function allocateArena(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(bytes, { maxByteLength: bytes });
}

/** Write the immutable geometry line of a fresh (zero-filled) arena. */
export function writeGeometry(v: ArenaViews, g: ArenaGeometry): void {
  v.i32[I32_MAGIC] = ARENA_MAGIC;
  v.i32[I32_VERSION] = ARENA_VERSION;
  v.i32[I32_MAX_VMAS] = g.maxVmas;
  v.i32[I32_VMA_CAPACITY] = g.vmaCapacity;
  v.i32[I32_NODE_CAPACITY] = g.nodeCapacity;
  v.i32[I32_RETIRE_CAPACITY] = g.retireCapacity;
  v.i32[I32_VMA_BASE] = g.vmaBase;
  v.i32[I32_NODE_BASE] = g.nodeBase;
  v.i32[I32_RETIRE_BASE] = g.retireBase;
}

/** Read the geometry back from an arena (on attach); throws if the buffer is not an mm arena. */
export function readGeometry(v: ArenaViews): ArenaGeometry {
  if (v.i32[I32_MAGIC] !== ARENA_MAGIC || v.i32[I32_VERSION] !== ARENA_VERSION) {
    throw new TypeError('not an mm arena (bad magic/version)');
  }
  return {
    maxVmas: v.i32[I32_MAX_VMAS],
    vmaCapacity: v.i32[I32_VMA_CAPACITY],
    nodeCapacity: v.i32[I32_NODE_CAPACITY],
    retireCapacity: v.i32[I32_RETIRE_CAPACITY],
    retireBase: v.i32[I32_RETIRE_BASE],
    vmaBase: v.i32[I32_VMA_BASE],
    nodeBase: v.i32[I32_NODE_BASE],
    totalBytes: v.buffer.byteLength,
  };
}

function pageSpan(from: number, to: number): [number, number] {
  return [Math.floor(from / PAGE_BYTES), Math.ceil(to / PAGE_BYTES)];
}

/** Pages every arena commits from creation: the header page and the pivot page. */
export const FIXED_PAGES = 2;

/**
 * Bytes of the arena the OS has committed (resident pages), from the allocators' high-water
 * marks: the header with the used front of the records, and the pivot page with the used fronts
 * of the ring (below it) and of the nodes (above it), rounded out to whole pages. Readers may call
 * it racily (mmap write lock to be exact).
 */
export function committedBytes(v: ArenaViews, g: ArenaGeometry): number {
  const i32 = v.i32;
  const [a0, a1] = pageSpan(0, g.vmaBase + i32[I32_VMA_HIGH_WATER] * VMA_RECORD_BYTES);
  const [b0, b1] = pageSpan(
    g.nodeBase - i32[I32_RETIRE_HIGH_WATER] * RETIRE_ENTRY_BYTES,
    g.nodeBase + i32[I32_NODE_HIGH_WATER] * NODE_BYTES,
  );
  // Only a full ring and full records could meet on one page: count it once.
  return (a1 - a0 + (b1 - Math.max(b0, a1))) * PAGE_BYTES;
}
