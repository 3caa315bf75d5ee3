/**
 * Per-VMA locks as in Linux 6.18+ (include/linux/mmap_lock.h, mm/mmap_lock.c), on two Int32 words
 * per VMA record whose indexes the storage passes in (layout.ts, VMA_LOCK_WORDS):
 *
 * vm_refcnt — read and changed with Atomics by anyone (unstable RCU readers included):
 *   0                 detached: readers can never raise it again (until vmaMarkAttached)
 *   1                 attached, unlocked or write-locked
 *   >1                read-locked (refcnt - 1 readers), or write-locked with readers that raised
 *                     it for an instant before seeing vm_lock_seq and dropping it again
 *   FLAG (1<<30)      being detached, last reader gone, about to become 0
 *   FLAG + 1          a writer excluding readers, all readers gone
 *   > FLAG + 1        a writer or a detach waiting for readers to leave
 *   Readers never take it above VM_REFCNT_LIMIT (FLAG - 1), so any value >= FLAG refuses them.
 *
 * vm_lock_seq — written (Atomics.store) only while holding the mmap write lock with the
 *   exclude-readers flag set (or with the VMA detached); read reliably under the mmap lock or a
 *   VMA read lock, unreliably by anyone else. The VMA is write-locked while
 *   vm_lock_seq == mm_lock_seq; mmapWriteUnlock makes mm_lock_seq even, which releases every VMA
 *   write lock at once (vma_end_write_all).
 *
 * Readers never wait. Writers (vmaStartWrite, vmaMarkDetached) wait for readers to leave:
 * blocking variants on worker threads, *Async variants for the event loop. Differences from
 * Linux: vmaStartRead does not drop the caller's RCU read section on failure (the caller does);
 * there is no "vma was recycled into another mm" check (a record belongs to one mm's arena).
 */
import { MM_LOCK_SEQ } from './layout.js';
import { mmLockSeqRaw, mmWriteLockHeld } from './mm-seqcount.js';
import {
  assertMayBlock,
  mayBlock,
  nowNs,
  sleepWhileEqual,
  sleepWhileEqualAsync,
  type WaitObserver,
} from './wait.js';

/** `VM_REFCNT_EXCLUDE_READERS_FLAG`: added to vm_refcnt while a writer drains readers. */
export const VM_REFCNT_EXCLUDE_READERS_FLAG = 1 << 30;
/** `VM_REFCNT_LIMIT`: readers never raise vm_refcnt above this. */
export const VM_REFCNT_LIMIT = VM_REFCNT_EXCLUDE_READERS_FLAG - 1;
/** vm_lock_seq of a fresh VMA (Linux UINT_MAX): never equal to an mm_lock_seq in practice. */
export const VM_LOCK_SEQ_INIT = -1;

/** vmaStartRead results. */
export const VMA_LOCKED = 0;
/** Write-locked, readers excluded or refcount at its limit: fall back to the mmap lock. */
export const VMA_FAIL = 1;
/** Detached after the lookup (vm_refcnt was 0): look the address up again. */
export const VMA_EAGAIN = 2;
export type VmaReadResult = typeof VMA_LOCKED | typeof VMA_FAIL | typeof VMA_EAGAIN;

/** `vma_lock_init(vma, true)`: a new, detached, unlocked VMA. For the record's allocator. */
export function vmaLockInit(words: Int32Array, refcnt: number, lockSeq: number): void {
  Atomics.store(words, lockSeq, VM_LOCK_SEQ_INIT);
  Atomics.store(words, refcnt, 0);
}

/**
 * `refcount_inc_not_zero_limited` from a count `c` already read: returns the count seen
 * (0 = detached) and whether it rose. Every read of the count but the compare-exchange's own is
 * a plain load, as Linux's atomic_read() is: only the compare-exchange decides (a stale value
 * just fails it and the loop goes on with the value it saw), and each Atomics call costs
 * ~10 ns on the read path here (a builtin call, not inlined by node 20's V8), once per VMA per
 * read.
 */
function refcntIncNotZeroLimited(words: Int32Array, refcnt: number, c: number): number {
  for (;;) {
    if (c === 0 || c >= VM_REFCNT_LIMIT) return -c - 1; // refused; encode the count seen
    const seen = Atomics.compareExchange(words, refcnt, c, c + 1);
    if (seen === c) return c;
    c = seen;
  }
}

/**
 * `vma_start_read` (caller is inside an RCU read section; never waits). LOCKED: the VMA is
 * read-locked and attached, no writer can change it until vmaEndRead. FAIL: it is write-locked,
 * a writer is excluding readers, or the count is at its limit; the caller falls back to the mmap
 * read lock.
 * EAGAIN: it was detached (vm_refcnt 0) after the lookup; the caller looks up again.
 *
 * Shaped for V8's inliner (it runs once per line of a maps read): the count's first increment
 * is written out here; a refusal or a lost race goes on in `vmaStartReadRetry`, which reads the
 * count again (any value the count has during the call is one the increment may act on).
 */
export function vmaStartRead(
  words: Int32Array,
  mm: number,
  refcnt: number,
  lockSeq: number,
): VmaReadResult {
  const mmSeq = mm + MM_LOCK_SEQ;
  // Pessimistic early check with plain loads (Linux: READ_ONCE); its result is not relied on,
  // the re-check is.
  if (words[lockSeq] === words[mmSeq]) return VMA_FAIL;
  const c = words[refcnt]; // a plain load, as in refcntIncNotZeroLimited
  if (c === 0 || c >= VM_REFCNT_LIMIT || Atomics.compareExchange(words, refcnt, c, c + 1) !== c) {
    return vmaStartReadRetry(words, mmSeq, refcnt, lockSeq);
  }
  return vmaRecheckLockSeq(words, mmSeq, refcnt, lockSeq);
}

/** `vma_start_read` after a refused or lost first increment: the general loop. */
function vmaStartReadRetry(
  words: Int32Array,
  mmSeq: number,
  refcnt: number,
  lockSeq: number,
): VmaReadResult {
  const seen = refcntIncNotZeroLimited(words, refcnt, words[refcnt]);
  if (seen < 0) return seen === -1 ? VMA_EAGAIN : VMA_FAIL;
  return vmaRecheckLockSeq(words, mmSeq, refcnt, lockSeq);
}

/**
 * The end of `vma_start_read`, the count raised: is the VMA write-locked after all? (`mmSeq`:
 * the word index of mm_lock_seq.)
 */
function vmaRecheckLockSeq(
  words: Int32Array,
  mmSeq: number,
  refcnt: number,
  lockSeq: number,
): VmaReadResult {
  // A writer may have set vm_lock_seq between the first check and the increment; if so it has
  // the VMA write-locked (or has already released it with mmapWriteUnlock, which we then see as a
  // different mm_lock_seq). The sequentially consistent compare-exchange above is the acquire
  // Linux's refcount increment gives here: the writer's stores to vm_lock_seq and mm_lock_seq
  // (Atomics, before its own RMW on vm_refcnt that our compare-exchange is ordered after) happen
  // before these loads, which come after it in program order, so plain (tear-free Int32) loads
  // see them, as Linux's READ_ONCE()s do; V8 never moves a typed-array load above an Atomics call.
  if (words[lockSeq] === words[mmSeq]) {
    vmaEndRead(words, refcnt);
    return VMA_FAIL;
  }
  return VMA_LOCKED;
}

/**
 * `vma_start_read_locked`: read-lock a VMA while holding the mmap read lock, so that no writer can
 * hold it. Fails (false) only if vm_refcnt is at its limit (or the VMA is detached).
 */
export function vmaStartReadLocked(words: Int32Array, refcnt: number): boolean {
  return refcntIncNotZeroLimited(words, refcnt, words[refcnt]) > 0;
}

/** `vma_end_read`: drop the read lock; wake a writer waiting for the last reader. */
export function vmaEndRead(words: Int32Array, refcnt: number): void {
  const now = Atomics.sub(words, refcnt, 1) - 1;
  // __vma_are_readers_excluded(): a writer (target FLAG + 1) or a detach (target FLAG) is
  // draining (a count with the flag set is not 0). The wake is out of line: this runs once per
  // line of a maps read, and V8 inlines it there only while it is small.
  if ((now & VM_REFCNT_EXCLUDE_READERS_FLAG) !== 0) wakeExcluder(words, refcnt, now);
}

/** vmaEndRead under a draining writer or detach: wake it if we were the last reader. */
function wakeExcluder(words: Int32Array, refcnt: number, now: number): void {
  if (now <= VM_REFCNT_EXCLUDE_READERS_FLAG + 1) Atomics.notify(words, refcnt);
}

/**
 * `__is_vma_write_locked`: true if the VMA is write-locked under the current mmap write lock.
 * Reliable only for the holder of the mmap write lock.
 */
export function vmaIsWriteLocked(words: Int32Array, mm: number, lockSeq: number): boolean {
  return Atomics.load(words, lockSeq) === mmLockSeqRaw(words, mm);
}

/** The raw vm_refcnt (for tests, assertions and debugging). */
export function vmaRefcnt(words: Int32Array, refcnt: number): number {
  return Atomics.load(words, refcnt);
}

function assertMmapWriteLocked(words: Int32Array, mm: number, what: string): void {
  if (!mmWriteLockHeld(words, mm)) throw new Error(`${what}: the mmap write lock is not held`);
}

function assertVmaWriteLocked(words: Int32Array, mm: number, lockSeq: number, what: string): void {
  assertMmapWriteLocked(words, mm, what);
  if (!vmaIsWriteLocked(words, mm, lockSeq)) {
    throw new Error(`${what}: the VMA is not write-locked (call vmaStartWrite first)`);
  }
}

/** `refcount_add_not_zero(FLAG)`: false if the VMA is detached (nothing to exclude). */
function startExcludeReaders(words: Int32Array, refcnt: number): boolean {
  let c = Atomics.load(words, refcnt);
  for (;;) {
    if (c === 0) return false;
    const seen = Atomics.compareExchange(words, refcnt, c, c + VM_REFCNT_EXCLUDE_READERS_FLAG);
    if (seen === c) return true;
    c = seen;
  }
}

/** The refcnt value at which a writer (`target` FLAG + 1) or a detach (FLAG) has no readers. */
function drainTarget(detaching: boolean): number {
  return VM_REFCNT_EXCLUDE_READERS_FLAG + (detaching ? 0 : 1);
}

/** After readers are drained: write-lock (set vm_lock_seq) and drop the flag. */
function finishWriteLock(words: Int32Array, mm: number, refcnt: number, lockSeq: number): void {
  Atomics.store(words, lockSeq, mmLockSeqRaw(words, mm));
  Atomics.sub(words, refcnt, VM_REFCNT_EXCLUDE_READERS_FLAG);
}

/**
 * `vma_start_write` (requires the mmap write lock; blocking, worker threads only): exclude new
 * readers, wait for current ones to leave, then mark the VMA write-locked until mmapWriteUnlock /
 * mmapWriteDowngrade. Returns the nanoseconds waited for readers.
 */
export function vmaStartWrite(
  words: Int32Array,
  mm: number,
  refcnt: number,
  lockSeq: number,
  observer?: WaitObserver,
): number {
  assertMmapWriteLocked(words, mm, 'vmaStartWrite');
  if (vmaIsWriteLocked(words, mm, lockSeq)) return 0;
  if (!startExcludeReaders(words, refcnt)) {
    Atomics.store(words, lockSeq, mmLockSeqRaw(words, mm)); // detached: no readers to exclude
    return 0;
  }
  const target = drainTarget(false);
  let c = Atomics.load(words, refcnt);
  if (c === target) {
    finishWriteLock(words, mm, refcnt, lockSeq);
    return 0;
  }
  // Readers are inside and we would have to sleep: on the main thread, take the flag back
  // (readers it refused meanwhile just fell back) and refuse, leaving the VMA as it was.
  if (!mayBlock()) {
    Atomics.sub(words, refcnt, VM_REFCNT_EXCLUDE_READERS_FLAG);
    assertMayBlock('vmaStartWrite');
  }
  const t0 = nowNs();
  while (c !== target) {
    observer?.beforeWait();
    sleepWhileEqual(words, refcnt, c);
    c = Atomics.load(words, refcnt);
  }
  finishWriteLock(words, mm, refcnt, lockSeq);
  return nowNs() - t0;
}

/** `vma_start_write` for the event loop (and main-thread tests). Resolves to nanoseconds waited. */
export async function vmaStartWriteAsync(
  words: Int32Array,
  mm: number,
  refcnt: number,
  lockSeq: number,
  observer?: WaitObserver,
): Promise<number> {
  assertMmapWriteLocked(words, mm, 'vmaStartWriteAsync');
  if (vmaIsWriteLocked(words, mm, lockSeq)) return 0;
  if (!startExcludeReaders(words, refcnt)) {
    Atomics.store(words, lockSeq, mmLockSeqRaw(words, mm));
    return 0;
  }
  const target = drainTarget(false);
  let c = Atomics.load(words, refcnt);
  const t0 = c === target ? 0 : nowNs();
  while (c !== target) {
    observer?.beforeWait();
    await sleepWhileEqualAsync(words, refcnt, c);
    c = Atomics.load(words, refcnt);
  }
  finishWriteLock(words, mm, refcnt, lockSeq);
  return t0 === 0 ? 0 : nowNs() - t0;
}

/**
 * `vma_mark_attached`: the VMA (write-locked by the caller, detached) becomes visible to per-VMA
 * readers. Publish it in the index after this, as Linux's vma_iter_store does.
 */
export function vmaMarkAttached(
  words: Int32Array,
  mm: number,
  refcnt: number,
  lockSeq: number,
): void {
  assertVmaWriteLocked(words, mm, lockSeq, 'vmaMarkAttached');
  if (Atomics.load(words, refcnt) !== 0) throw new Error('vmaMarkAttached: VMA already attached');
  Atomics.store(words, refcnt, 1);
}

/**
 * Starts `vma_mark_detached` (caller holds the VMA write lock): drop the attached reference.
 * Returns -1 if the VMA is now detached, else the refcnt a drain must wait for (readers that
 * raised it for an instant before seeing the write lock).
 */
function startDetach(words: Int32Array, mm: number, refcnt: number, lockSeq: number): number {
  assertVmaWriteLocked(words, mm, lockSeq, 'vmaMarkDetached');
  const old = Atomics.sub(words, refcnt, 1);
  if (old <= 0) {
    Atomics.add(words, refcnt, 1);
    throw new Error('vmaMarkDetached: VMA is not attached');
  }
  if (old === 1) return -1;
  if (!startExcludeReaders(words, refcnt)) return -1; // the stray readers left meanwhile
  return drainTarget(true);
}

/**
 * `vma_mark_detached` (blocking, worker threads only): the VMA is write-locked and already
 * removed from the index; afterwards vm_refcnt is 0, so no reader can ever lock it again, and no
 * reader holds it. Returns the nanoseconds waited for stray readers.
 */
export function vmaMarkDetached(
  words: Int32Array,
  mm: number,
  refcnt: number,
  lockSeq: number,
  observer?: WaitObserver,
): number {
  const target = startDetach(words, mm, refcnt, lockSeq);
  if (target < 0) return 0;
  let c = Atomics.load(words, refcnt);
  if (c === target) {
    Atomics.sub(words, refcnt, VM_REFCNT_EXCLUDE_READERS_FLAG);
    return 0;
  }
  // A stray reader raised the count for an instant; it never blocks, so this wait is short. On
  // the main thread spin instead of sleeping (the event loop must not sleep on a lock).
  const t0 = nowNs();
  const block = mayBlock();
  while (c !== target) {
    if (block) {
      observer?.beforeWait();
      sleepWhileEqual(words, refcnt, c);
    }
    c = Atomics.load(words, refcnt);
  }
  Atomics.sub(words, refcnt, VM_REFCNT_EXCLUDE_READERS_FLAG);
  return nowNs() - t0;
}

/** `vma_mark_detached` for the event loop. Resolves to nanoseconds waited. */
export async function vmaMarkDetachedAsync(
  words: Int32Array,
  mm: number,
  refcnt: number,
  lockSeq: number,
  observer?: WaitObserver,
): Promise<number> {
  const target = startDetach(words, mm, refcnt, lockSeq);
  if (target < 0) return 0;
  let c = Atomics.load(words, refcnt);
  const t0 = c === target ? 0 : nowNs();
  while (c !== target) {
    observer?.beforeWait();
    await sleepWhileEqualAsync(words, refcnt, c);
    c = Atomics.load(words, refcnt);
  }
  Atomics.sub(words, refcnt, VM_REFCNT_EXCLUDE_READERS_FLAG);
  return t0 === 0 ? 0 : nowNs() - t0;
}
