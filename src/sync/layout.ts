/**
 * Word layout of the shared-memory synchronisation state, as exported constants so that the
 * storage (src/mm) can reserve the words inside each mm arena without src/sync knowing anything
 * about arenas. All indexes are Int32 word indexes into one `Int32Array` view of the arena's
 * SharedArrayBuffer; all offsets are relative to a base index the storage chooses.
 *
 * Cache lines are 64 bytes = 16 Int32 words (node-perf.md §3: false sharing is real, an
 * `Atomics.add` on a shared line costs 5x).
 */

/** Int32 words per 64-byte cache line. */
export const CACHE_LINE_WORDS = 16;

// ---------------------------------------------------------------------------------------------
// Per-mm block: the mmap_lock rw-semaphore and the mm sequence count.
//
// The block is MM_SYNC_WORDS long (two cache lines, which is what src/mm/arena-layout.ts reserves
// at SYNC_WORDS_BASE) and its base index must be a multiple of MM_SYNC_ALIGN_WORDS, so that no
// other arena field shares the lines that lock takers write.
//
// As in Linux (mm_lock_seq sits away from the rwsem count in struct mm_struct), mm_lock_seq has
// its own line: speculating readers only load it, mmap_lock readers RMW the state word, and the
// two must not bounce one line between them (docs/mechanisms.md, `shared_cache_line`).
// ---------------------------------------------------------------------------------------------

/** Words the storage must reserve per mm for src/sync (two cache lines). */
export const MM_SYNC_WORDS = 2 * CACHE_LINE_WORDS;
/** Required alignment (in words) of the per-mm block's base index. */
export const MM_SYNC_ALIGN_WORDS = CACHE_LINE_WORDS;

/**
 * mmap_lock state word (offset from the mm block base). Changed only with Atomics RMW
 * (compareExchange/sub) by mmap-lock.ts; bit fields are described there. Threads sleep on it.
 */
export const MMAP_LOCK_STATE = 0;

/**
 * mm_lock_seq (offset from the mm block base). Written only by the holder of the mmap write lock
 * (Atomics.add: +1 at write lock = odd, +1 at write unlock/downgrade = even); read by anyone with
 * Atomics.load. Wraps at 2^32 like the kernel's unsigned sequence.
 */
export const MM_LOCK_SEQ = CACHE_LINE_WORDS;

/** Offsets 1-15 and 17-31 of the block are reserved (zero). */

// ---------------------------------------------------------------------------------------------
// Per-VMA words: each VMA record needs two Int32 words, anywhere in the same Int32Array as its
// mm block: `vm_refcnt` and `vm_lock_seq` (see vma-lock.ts). The storage passes their indexes
// (VmaTable.refcntWord(id), VmaTable.lockSeqWord(id)). vm_refcnt is written by every per-VMA
// reader, so it should not share a cache line with fields other readers walk (start/end): Linux
// puts it on its own line (`____cacheline_aligned_in_smp`); a separate refcnt array indexed by
// VMA id is a cheap approximation.
// ---------------------------------------------------------------------------------------------

/** Int32 words each VMA record needs for its lock (vm_refcnt + vm_lock_seq). */
export const VMA_LOCK_WORDS = 2;

// ---------------------------------------------------------------------------------------------
// RCU domain: its own SharedArrayBuffer (one per process-wide domain, shared by all mms).
// ---------------------------------------------------------------------------------------------

/** Global epoch (line 0). Advanced by +2 with Atomics.add in retireStamp(); read by readers. */
export const RCU_EPOCH = 0;
/** Number of threads sleeping in synchronize() (line 1). Atomics.add/sub; read by unlockers. */
export const RCU_SYNC_WAITERS = CACHE_LINE_WORDS;
/** Number of reader slots (line 1, written once at creation, then read-only). */
export const RCU_MAX_SLOTS = CACHE_LINE_WORDS + 1;
/** One past the highest slot ever claimed (line 1, raised with compareExchange on register). */
export const RCU_SLOT_HIGH_WATER = CACHE_LINE_WORDS + 2;
/** Words before the first slot. */
export const RCU_HEADER_WORDS = 2 * CACHE_LINE_WORDS;
/** Words per reader slot: one cache line each, so readers never share a line. */
export const RCU_SLOT_WORDS = CACHE_LINE_WORDS;
/**
 * Slot word: 0 = quiescent, odd = inside a read section that began at epoch (value - 1).
 * Written only by the owning thread (Atomics.store); read by grace-period checks.
 */
export const RCU_SLOT_STATE = 0;
/** Slot word: 0 = free, 1 = claimed by a thread (compareExchange to claim, store 0 to free). */
export const RCU_SLOT_OWNER = 1;
/** Default number of reader slots (threads that can use one domain). */
export const RCU_DEFAULT_MAX_THREADS = 64;

/** Bytes of SharedArrayBuffer an RCU domain with `maxThreads` slots needs. */
export function rcuBufferBytes(maxThreads: number = RCU_DEFAULT_MAX_THREADS): number {
  return (RCU_HEADER_WORDS + maxThreads * RCU_SLOT_WORDS) * Int32Array.BYTES_PER_ELEMENT;
}
