/**
 * A program touching [addr, addr + length): one access per page, in address order, each either
 * satisfied by its PTE (no fault) or taken through the x86 page-fault path of Linux 6.18
 * (arch/x86/mm/fault.c do_user_addr_fault, mm/memory.c lock_vma_under_rcu):
 *
 *   vma_lock path   under RCU, look the VMA up and read-lock it (vma_start_read); it fails when
 *                   the VMA is write-locked (a writer holds the mmap write lock and changed it),
 *                   detached meanwhile (retry the lookup), or not found (a hole: maybe stack
 *                   growth). Then access_error(), and handle_mm_fault() under the VMA lock; if the
 *                   fault needs an anon_vma, vmf_anon_prepare() trylocks the mmap read lock and
 *                   answers VM_FAULT_RETRY when it cannot (then the mmap_lock path).
 *   mmap_lock path  mmap_read_lock, find_vma; below a VM_GROWSDOWN VMA, drop it, take the write
 *                   lock, expand_stack, and look again; access_error(); handle_mm_fault().
 *
 * Before any page is touched the whole range is checked (VMAs, permissions, object ends), so a
 * refused touch changes nothing — except what Linux does before the signal: a write past the end
 * of a private file VMA first gives it an anon_vma (the COW fault path prepares it). A range whose
 * mappings change while it runs may still stop part-way (the answer is then the refusal).
 * Result: touch-result.ts (faults and the last fault's path, or the refusal's reason).
 */

import {
  mmapReadLock,
  mmapReadTrylock,
  mmapReadUnlock,
  mmapWriteLock,
  mmapWriteUnlock,
  nowNs,
  VMA_EAGAIN,
  VMA_LOCKED,
  vmaEndRead,
  vmaStartRead,
} from '../../sync/index.js';
import { IMMEDIATE_GRACE } from '../deferred-free.js';
import { EFAULT } from '../errno.js';
import { type MmStruct, SYNC_WORDS_BASE } from '../mm-struct.js';
import {
  accessWithoutFault,
  faultWantsAnonPage,
  handlePageFault,
  pastEndOfObject,
} from '../pages/page-fault.js';
import {
  PAGE_SIZE,
  TASK_SIZE,
  VM_ACCESS_FLAGS,
  VM_GROWSDOWN,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from '../vm-flags.js';
import { anonVmaPrepare, hasAnonVma } from './anon-vma.js';
import { VM_PKEY_EXEC_ONLY } from './pkey.js';
import {
  PATH_MMAP_LOCK,
  PATH_VMA_LOCK,
  REASON_NO_ACCESS,
  REASON_NO_VMA,
  REASON_NO_WRITE,
  REASON_PAST_EOF,
  REASON_PKEY,
  REASON_STACK_GAP,
  touchErrno,
  touchOk,
  touchRefused,
} from './touch-result.js';
import {
  expandStack,
  STACK_REFUSED_EARLY,
  STACK_REFUSED_LATE,
  stackGrowthRefusal,
} from './touch-stack.js';

/** Who records each fault (metrics): path 0 vma_lock / 1 mmap_lock, errno 0 = ok, ns taken. */
export interface FaultObserver {
  fault(path: number, errno: number, ns: number): void;
}

/** What the fault path reads under RCU with (the thread's RcuDomain, when the mm has one). */
interface RcuReader {
  readLock(): void;
  readUnlock(): void;
}

function rcuOf(mm: MmStruct): RcuReader | null {
  const g = mm.deferred.grace as Partial<RcuReader>;
  if (mm.deferred.grace === IMMEDIATE_GRACE || typeof g.readLock !== 'function') return null;
  return g as RcuReader;
}

/** access_error() on x86: 0 when allowed, else the reason. */
function accessError(mm: MmStruct, flags: number, write: boolean): number {
  if (write) return flags & VM_WRITE ? 0 : REASON_NO_WRITE;
  if ((flags & VM_ACCESS_FLAGS) === 0) return REASON_NO_ACCESS;
  // An execute-only protection key denies data reads (the PKU fault is a SIGSEGV too).
  if (mm.pkeys && flags & VM_PKEY_EXEC_ONLY && !(flags & VM_READ)) return REASON_PKEY;
  return 0;
}

/** Counts of one touch (per thread). */
let lastPath = PATH_VMA_LOCK;

/** touch: the number of faults and the last path (touch-result.ts), or a refusal. */
export function touch(
  mm: MmStruct,
  addr: number,
  length: number,
  write: boolean,
  observer: FaultObserver | null,
): number {
  if (length === 0) return touchOk(0, 0);
  const first = addr - (addr % PAGE_SIZE);
  const end = Math.ceil((addr + length) / PAGE_SIZE) * PAGE_SIZE;
  if (end > TASK_SIZE || addr + length > TASK_SIZE) return touchRefused(REASON_NO_VMA);
  const refusal = checkRange(mm, first, end, write);
  if (refusal !== 0) {
    if (refusal < 0) return refusal;
    // A fault at page `refusal` refused after a side effect: SIGBUS (a private write has
    // prepared the anon_vma first) or a stack grown down to a page the access check refuses.
    const r = userFault(mm, refusal, write, observer);
    return r < 0 ? r : touchRefused(REASON_PAST_EOF);
  }
  let faults = 0;
  for (let a = first; a < end; a += PAGE_SIZE) {
    if (accessWithoutFault(mm, a / PAGE_SIZE, write)) continue;
    const r = userFault(mm, a, write, observer);
    if (r < 0) return r;
    faults++;
  }
  return touchOk(faults, lastPath);
}

/**
 * The whole range, before anything is touched: 0 when every page may be accessed, a refusal
 * (< 0), or the address (> 0) of a page whose fault is refused after a side effect: the first
 * page past the end of its object (SIGBUS), or a page in a stack gap whose VMA refuses the access
 * (the stack grows first).
 * Racy reads under RCU (no lock): the faults check again.
 */
function checkRange(mm: MmStruct, first: number, end: number, write: boolean): number {
  const rcu = rcuOf(mm);
  rcu?.readLock();
  try {
    const v = mm.vmas;
    let a = first;
    while (a < end) {
      const id = mm.findVma(a);
      if (id === 0) return touchRefused(REASON_NO_VMA);
      if (v.start(id) > a) {
        if (!(v.flags(id) & VM_GROWSDOWN)) return touchRefused(REASON_NO_VMA);
        const refusal = stackGrowthRefusal(mm, id, a);
        if (refusal === STACK_REFUSED_EARLY) return touchRefused(REASON_STACK_GAP);
        // Refused after anon_vma_prepare(): the fault gives the VMA its anon_vma, then SIGSEGV.
        if (refusal === STACK_REFUSED_LATE) return a;
        // lock_mm_and_find_vma() grows the stack before access_error() refuses the access.
        if (accessError(mm, v.flags(id), write) !== 0) return a;
      }
      const reason = accessError(mm, v.flags(id), write);
      if (reason !== 0) return touchRefused(reason);
      const stop = Math.min(end, v.end(id));
      if (v.file(id) !== 0) {
        for (let p = Math.max(a, v.start(id)); p < stop; p += PAGE_SIZE) {
          if (pastEndOfObject(mm, id, p / PAGE_SIZE)) return p;
        }
      }
      a = stop;
    }
    return 0;
  } finally {
    rcu?.readUnlock();
  }
}

/** One page fault at `addr` (do_user_addr_fault). 0, or a refusal / -errno. */
function userFault(mm: MmStruct, addr: number, write: boolean, obs: FaultObserver | null): number {
  const t0 = obs ? nowNs() : 0;
  const r = faultUnderVmaLock(mm, addr, write);
  if (r !== RETRY) {
    lastPath = PATH_VMA_LOCK;
    obs?.fault(PATH_VMA_LOCK, r < 0 ? touchErrno(r) : 0, nowNs() - t0);
    return r;
  }
  const m = faultUnderMmapLock(mm, addr, write);
  lastPath = PATH_MMAP_LOCK;
  obs?.fault(PATH_MMAP_LOCK, m < 0 ? touchErrno(m) : 0, nowNs() - t0);
  return m;
}

/** lock_vma_under_rcu() could not help (or VM_FAULT_RETRY): take the mmap_lock path. */
const RETRY = 1;

function faultUnderVmaLock(mm: MmStruct, addr: number, write: boolean): number {
  const rcu = rcuOf(mm);
  const v = mm.vmas;
  let id = 0;
  rcu?.readLock();
  for (;;) {
    id = mm.vmaLookup(addr);
    if (id === 0) break;
    const st = vmaStartRead(mm.i32, SYNC_WORDS_BASE, v.refcntWord(id), v.lockSeqWord(id));
    if (st === VMA_EAGAIN) continue; // detached after the lookup: look again
    if (st !== VMA_LOCKED) id = 0;
    else if (addr < v.start(id) || addr >= v.end(id)) {
      vmaEndRead(mm.i32, v.refcntWord(id));
      id = 0;
    }
    break;
  }
  rcu?.readUnlock();
  if (id === 0) return RETRY;
  try {
    const reason = accessError(mm, v.flags(id), write);
    if (reason !== 0) return touchRefused(reason);
    if (faultWantsAnonPage(mm, id, addr / PAGE_SIZE, write) && !hasAnonVma(mm, id)) {
      // vmf_anon_prepare(): under the VMA lock only with the mmap read lock, if it is free.
      if (!mmapReadTrylock(mm.i32, SYNC_WORDS_BASE)) return RETRY;
      try {
        prepareAnonVma(mm, id);
      } finally {
        mmapReadUnlock(mm.i32, SYNC_WORDS_BASE);
      }
    }
    return faultResult(handlePageFault(mm, id, addr / PAGE_SIZE, write));
  } finally {
    vmaEndRead(mm.i32, v.refcntWord(id));
  }
}

function faultUnderMmapLock(mm: MmStruct, addr: number, write: boolean): number {
  const v = mm.vmas;
  mmapReadLock(mm.i32, SYNC_WORDS_BASE);
  let id = mm.findVma(addr);
  if (id !== 0 && v.start(id) > addr && v.flags(id) & VM_GROWSDOWN) {
    // lock_mm_and_find_vma(): no upgrade on x86: drop, write-lock, expand, look again.
    mmapReadUnlock(mm.i32, SYNC_WORDS_BASE);
    mmapWriteLock(mm.i32, SYNC_WORDS_BASE);
    const err = expandStack(mm, addr);
    mmapWriteUnlock(mm.i32, SYNC_WORDS_BASE);
    if (err < 0) return touchRefused(REASON_STACK_GAP);
    mmapReadLock(mm.i32, SYNC_WORDS_BASE);
    id = mm.findVma(addr);
  }
  try {
    if (id === 0 || v.start(id) > addr) return touchRefused(REASON_NO_VMA);
    const reason = accessError(mm, v.flags(id), write);
    if (reason !== 0) return touchRefused(reason);
    if (faultWantsAnonPage(mm, id, addr / PAGE_SIZE, write)) prepareAnonVma(mm, id);
    return faultResult(handlePageFault(mm, id, addr / PAGE_SIZE, write));
  } finally {
    mmapReadUnlock(mm.i32, SYNC_WORDS_BASE);
  }
}

/** __anon_vma_prepare(): under the mmap read lock and the page lock (mm->page_table_lock). */
function prepareAnonVma(mm: MmStruct, id: number): void {
  if (mm.vmas.flags(id) & VM_SHARED) return;
  mm.pages.lock();
  try {
    anonVmaPrepare(mm, id);
  } finally {
    mm.pages.unlock();
  }
}

function faultResult(r: number): number {
  if (r === -EFAULT) return touchRefused(REASON_PAST_EOF);
  return r;
}
