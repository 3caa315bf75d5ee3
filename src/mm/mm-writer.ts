/**
 * The writer side of the locking protocol (Linux: every caller of the mm syscalls does this).
 *
 *   mmap_write_lock(mm)                 mm_lock_seq becomes odd; speculating readers will retry
 *     vma_start_write(vma)              for each VMA the call changes or removes (the syscalls
 *                                       call the seam in syscalls/vma-lock-hooks.ts); waits for
 *                                       that VMA's per-VMA readers to leave
 *     vma_mark_attached / detached      new VMAs become lockable / removed ones never again
 *     index stores                      copy-on-write nodes published with Atomics.store; old
 *                                       nodes and removed VMA records are retired to the mm's
 *                                       deferred-free list and reused only after an RCU grace
 *                                       period (the mm was attached with the thread's RcuDomain)
 *   mmap_write_unlock(mm)               mm_lock_seq becomes even: every VMA write lock is
 *                                       released at once (vma_end_write_all)
 *   (or mmap_write_downgrade(mm) mid-call, then mmap_read_unlock(mm): munmap, brk and mremap
 *    shrinking finish their unmap under the read lock; syscalls/vma-munmap.ts)
 *
 * Writers block (Atomics.wait) and therefore run on worker threads: the worker CPUs and the
 * activity threads. Metrics: mmap_lock write wait and hold, vma_lock write wait, and the
 * mutation's result and duration are recorded on the writing thread.
 */
import { type MutationOpId, mutationResultId, type StrategyId } from '../metrics/labels.js';
import type { InstrumentRecorder } from '../metrics/recorder.js';
import {
  mmapReadUnlock,
  mmapWriteDowngrade,
  mmapWriteLock,
  mmapWriteUnlock,
  nowNs,
  type RcuDomain,
  vmaMarkAttached,
  vmaMarkDetached,
  vmaStartWrite,
} from '../sync/index.js';
import { IMMEDIATE_GRACE } from './deferred-free.js';
import { type MmStruct, SYNC_WORDS_BASE } from './mm-struct.js';
import { setVmaLockHooks, type VmaLockHooks } from './syscalls/index.js';

const LOCK_MMAP = 0;
const LOCK_VMA = 1;
const MODE_READ = 0;
const MODE_WRITE = 1;

/** What a writing thread records with. */
export interface WriterEnv {
  recorder: InstrumentRecorder | null;
  /** `strategy` label of the lock metrics (the service's configured strategy). */
  strategy: StrategyId;
}

/** Nanoseconds this thread waited for per-VMA readers during the current mutation. */
let vmaWaitNs = 0;

/**
 * This thread's writes and how many of them waited, and for what (evidence for
 * docs/mechanisms.md; thread-local totals, reset by whoever reads them).
 */
export const writerStats = {
  writes: 0,
  /** Writes that waited for the mmap lock (a reader held it), and the nanoseconds. */
  mmapWaits: 0,
  mmapWaitNs: 0,
  /** Writes that waited for a per-VMA reader (vma_start_write / detach), and the nanoseconds. */
  vmaWaits: 0,
  vmaWaitNs: 0,
  reset(): void {
    this.writes = 0;
    this.mmapWaits = 0;
    this.mmapWaitNs = 0;
    this.vmaWaits = 0;
    this.vmaWaitNs = 0;
  },
};

/** The real per-VMA lock hooks; installed once per writing thread by `installWriterHooks`. */
const LOCKING_HOOKS: VmaLockHooks = {
  startWrite(mm, id) {
    vmaWaitNs += vmaStartWrite(
      mm.i32,
      SYNC_WORDS_BASE,
      mm.vmas.refcntWord(id),
      mm.vmas.lockSeqWord(id),
    );
  },
  markAttached(mm, id) {
    // A new VMA is write-locked before it is published (__mmap_new_vma / __split_vma call
    // vma_start_write on it); detached, that only sets vm_lock_seq and never waits.
    const refcnt = mm.vmas.refcntWord(id);
    const lockSeq = mm.vmas.lockSeqWord(id);
    vmaStartWrite(mm.i32, SYNC_WORDS_BASE, refcnt, lockSeq);
    vmaMarkAttached(mm.i32, SYNC_WORDS_BASE, refcnt, lockSeq);
  },
  markDetached(mm, id) {
    vmaWaitNs += vmaMarkDetached(
      mm.i32,
      SYNC_WORDS_BASE,
      mm.vmas.refcntWord(id),
      mm.vmas.lockSeqWord(id),
    );
  },
  writeDowngrade(mm) {
    if (openMm !== mm || openDowngraded) {
      throw new Error('mmap_write_downgrade: this thread holds no write section on this mm');
    }
    mmapWriteDowngrade(mm.i32, SYNC_WORDS_BASE);
    openDowngraded = true;
    openDowngradedAt = nowNs();
  },
};

/** Makes the syscalls on this thread take real per-VMA locks (call once per writer thread). */
export function installWriterHooks(): void {
  setVmaLockHooks(LOCKING_HOOKS);
}

/**
 * Runs `fn` with the real per-VMA lock hooks installed, then puts back the thread's previous
 * hooks: for a thread that also builds unpublished address spaces with the single-threaded
 * hooks (the event loop of the in-process engine).
 */
export function withWriterHooks<T>(fn: () => T): T {
  const previous = setVmaLockHooks(LOCKING_HOOKS);
  try {
    return fn();
  } finally {
    setVmaLockHooks(previous);
  }
}

/**
 * Runs one mutation (`fn` calls one syscall and returns its result, >= 0 or -errno) under the
 * mmap write lock, recording lock and mutation metrics. Returns `fn`'s result.
 */
export function mmWrite(mm: MmStruct, env: WriterEnv, op: MutationOpId, fn: () => number): number {
  beginMmWrite(mm);
  let result = 0;
  try {
    result = fn();
  } finally {
    endMmWrite(mm, env, op, result);
  }
  return result;
}

/** The write section open on this thread (one at a time: writers never nest). */
let openMm: MmStruct | null = null;
let openWaitedNs = 0;
let openT0 = 0;
/** Whether, and when, the section's write lock was downgraded to a read lock. */
let openDowngraded = false;
let openDowngradedAt = 0;

/**
 * The first half of mmWrite: takes the mmap write lock (blocking: worker threads, or uncontended
 * on the main thread). Exposed for tests that must keep a writer inside its section while a
 * reader on the same thread runs into it (e.g. a VMA write-locked under a per-VMA reader's
 * lookup); everything else uses mmWrite. Call the syscalls, then endMmWrite.
 */
export function beginMmWrite(mm: MmStruct): void {
  if (openMm !== null) throw new Error('mmWrite: a write section is already open on this thread');
  if (mm.deferred.grace === IMMEDIATE_GRACE) {
    // Removed records and index nodes would be reused at the next write while RCU readers on
    // other threads may still be reading them.
    throw new Error('mmWrite: the mm was attached without RCU grace periods (pass the RcuDomain)');
  }
  openWaitedNs = mmapWriteLock(mm.i32, SYNC_WORDS_BASE);
  openT0 = nowNs();
  openMm = mm;
  openDowngraded = false;
  vmaWaitNs = 0;
  relieveRetireBacklog(mm);
}

/** Above this fraction of the node or record arena in use, a writer waits out a grace period. */
const BACKLOG_FRACTION = 0.75;

function backlogHigh(mm: MmStruct): boolean {
  const index = mm.index;
  const t = mm.vmas;
  return (
    index.nodesInUse > index.nodeCapacity * BACKLOG_FRACTION ||
    t.inUse > t.capacity * BACKLOG_FRACTION
  );
}

/**
 * Retired index nodes and VMA records are reused only after a grace period, so a reader that
 * stays inside one RCU read section (e.g. descheduled mid-chunk) while a writer loops at full
 * speed lets the backlog grow until the arena runs out of nodes. Like the kernel falling back to
 * synchronize_rcu() when it cannot defer a free, the writer then waits for the read sections open
 * now to end and reclaims. Safe under the mmap write lock: no reader waits for the mmap lock
 * inside an RCU read section (every strategy drops RCU before taking it).
 */
function relieveRetireBacklog(mm: MmStruct): void {
  if (!backlogHigh(mm)) return;
  mm.reclaim();
  if (!backlogHigh(mm)) return;
  const grace = mm.deferred.grace as Partial<RcuDomain>;
  if (typeof grace.synchronize !== 'function') return;
  grace.synchronize();
  mm.reclaim();
}

/**
 * The second half of mmWrite: releases the mmap write lock (and with it every VMA write lock),
 * or the read lock it was downgraded to, and records the lock times and the mutation's `result`.
 * A downgraded section's hold is two: write until the downgrade, read after it.
 */
export function endMmWrite(mm: MmStruct, env: WriterEnv, op: MutationOpId, result: number): void {
  if (openMm !== mm) throw new Error('mmWrite: no write section open on this mm');
  openMm = null;
  const downgraded = openDowngraded;
  if (downgraded) mmapReadUnlock(mm.i32, SYNC_WORDS_BASE);
  else mmapWriteUnlock(mm.i32, SYNC_WORDS_BASE);
  const end = nowNs();
  const held = end - openT0;
  const writeHeld = downgraded ? openDowngradedAt - openT0 : held;
  const waited = openWaitedNs;
  writerStats.writes++;
  if (waited > 0) {
    writerStats.mmapWaits++;
    writerStats.mmapWaitNs += waited;
  }
  if (vmaWaitNs > 0) {
    writerStats.vmaWaits++;
    writerStats.vmaWaitNs += vmaWaitNs;
  }
  const rec = env.recorder;
  if (rec) {
    rec.lockWait(LOCK_MMAP, MODE_WRITE, env.strategy, waited);
    rec.lockHold(LOCK_MMAP, MODE_WRITE, env.strategy, writeHeld);
    if (downgraded) rec.lockHold(LOCK_MMAP, MODE_READ, env.strategy, end - openDowngradedAt);
    if (vmaWaitNs > 0) rec.lockWait(LOCK_VMA, MODE_WRITE, env.strategy, vmaWaitNs);
    rec.mutation(op, mutationResultId(result), waited + held);
  }
}
