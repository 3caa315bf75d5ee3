/**
 * fork(2)'s address-space copy: kernel/fork.c dup_mm() / mm/mmap.c dup_mmap() (Linux 6.18).
 *
 * The child gets the parent's mm_struct fields (code/data/brk/stack bounds, mmap_base,
 * accounting counters, exe_file) and a copy of every VMA except those with VM_DONTCOPY
 * (MADV_DONTFORK), in the same order and with the same boundaries: nothing is re-merged, so
 * the child's maps equal the parent's minus the VM_DONTCOPY lines. Each copy takes a reference
 * on the parent's anon name (names are shared by reference) and loses VM_LOCKED /
 * VM_LOCKONFAULT (mlock is not inherited); a copy of written memory gets an anon_vma of its own
 * (anon-vma.ts), except VM_WIPEONFORK memory, which starts over without one. MAP_SHARED memory stays shared: the copy refers to the
 * same shmem file. The child lives in a new arena with the same max_map_count, global tables,
 * grace periods and machine capabilities (protection keys) as the parent.
 */
import { IMMEDIATE_GRACE } from '../deferred-free.js';
import { MmStruct } from '../mm-struct.js';
import { pagesFork } from '../pages/page-hooks.js';
import {
  PAGE_SIZE,
  VM_COPY_ON_FORK,
  VM_DONTCOPY,
  VM_LOCKED_MASK,
  VM_WIPEONFORK,
} from '../vm-flags.js';
import { ANON_VMA_BITS, forkAnonVmaFlags, VM_ANON_VMA } from './anon-vma.js';
import { exitMm } from './exit.js';
import { SINGLE_THREADED_HOOKS, setVmaLockHooks } from './vma-lock-hooks.js';

export { exitMm };

/**
 * fork could not allocate its copy (dup_mmap's -ENOMEM): the page-state records of the parent's
 * pages did not fit the memory budget. The half-built child was torn down; the parent keeps its
 * state (pages already made copy-on-write stay write-protected, as after a failed dup_mmap).
 */
export class ForkNoMemoryError extends Error {
  constructor() {
    super('fork: page state of the copy does not fit the memory budget (--max-memory)');
    this.name = 'ForkNoMemoryError';
  }
}

/** A copy of `parent`'s address space, as the child of fork() sees it. */
export function forkMm(parent: MmStruct): MmStruct {
  // Built unshared: index nodes replaced while copying are reused at once (IMMEDIATE_GRACE), so
  // the copy's high-water marks (its resident pages) are what it holds; the parent's grace
  // periods take over once it is complete.
  const child = MmStruct.create({
    maxVmas: parent.maxMapCount,
    globals: parent.globals,
    grace: IMMEDIATE_GRACE,
    pkeys: parent.pkeys,
    noZeroPage: parent.noZeroPage,
    thp: parent.thpMode,
  });
  child.startCode = parent.startCode;
  child.endCode = parent.endCode;
  child.startData = parent.startData;
  child.endData = parent.endData;
  child.startBrk = parent.startBrk;
  child.brk = parent.brk;
  child.startStack = parent.startStack;
  child.mmapBase = parent.mmapBase;
  child.argStart = parent.argStart;
  child.setExeFile(parent.exeFile);
  // total_vm loses the VM_DONTCOPY VMAs (it is summed below as the copies are made); dup_mm()
  // then starts the child's hiwater_vm at its total_vm (the parent's peak is not inherited).
  let totalVm = 0;
  child.dataVm = parent.dataVm;
  child.execVm = parent.execVm;
  child.stackVm = parent.stackVm;
  const pv = parent.vmas;
  const cv = child.vmas;
  let count = 0;
  let anonOrdinal = 0;
  for (let vma = parent.findVma(0); vma !== 0; vma = parent.findVma(pv.end(vma))) {
    const flags = pv.flags(vma);
    if (flags & VM_DONTCOPY) continue;
    const id = child.allocVma();
    if (id === 0) throw new RangeError('forkMm: child arena full');
    cv.setRange(id, pv.start(vma), pv.end(vma), pv.pgoff(vma));
    // No mlock in the child; VM_WIPEONFORK memory starts over without an anon_vma.
    let childFlags = flags & ~VM_LOCKED_MASK;
    if (flags & VM_WIPEONFORK) childFlags &= ~ANON_VMA_BITS;
    else if (flags & VM_ANON_VMA) childFlags = forkAnonVmaFlags(childFlags, anonOrdinal++);
    cv.setFlags(id, childFlags);
    child.setVmaFile(id, pv.file(vma));
    cv.setOps(id, pv.ops(vma));
    const name = pv.anonName(vma);
    child.anonNames.ref(name);
    cv.setAnonName(id, name);
    // The child is not visible to any other thread yet: attach without the lock hooks.
    Atomics.store(child.i32, cv.refcntWord(id), 1);
    child.indexStore(id);
    totalVm += (pv.end(vma) - pv.start(vma)) / PAGE_SIZE;
    // copy_page_range() where vma_needs_copy(): VMAs with an anon_vma, and PFN/mixed maps
    // (their page tables, [vvar]'s among them); never VM_WIPEONFORK memory.
    count++;
    const needsCopy =
      !(flags & VM_WIPEONFORK) &&
      ((childFlags & VM_ANON_VMA) !== 0 || (flags & VM_COPY_ON_FORK) !== 0);
    if (needsCopy && !pagesFork(parent, child, pv.start(vma), pv.end(vma))) {
      child.mapCount = count;
      // The child was never shared: torn down without the per-VMA locks (nobody can hold one).
      const hooks = setVmaLockHooks(SINGLE_THREADED_HOOKS);
      try {
        exitMm(child);
      } finally {
        setVmaLockHooks(hooks);
      }
      throw new ForkNoMemoryError();
    }
  }
  child.mapCount = count;
  child.totalVm = totalVm;
  child.hiwaterVm = totalVm;
  child.reclaim();
  child.setGracePeriods(parent.deferred.grace);
  return child;
}
