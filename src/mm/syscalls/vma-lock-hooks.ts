/**
 * The seam between the syscalls and the locks (src/sync) they act on mid-call, in one place.
 *
 * The syscalls call these exactly where Linux 6.18 calls the matching function:
 *   startWrite    vma_start_write(): before a VMA that stays in the tree is changed (range,
 *                 flags, name), and before a VMA is removed. Every VMA a call modifies or removes
 *                 passes through it before the first store to its record.
 *   markAttached  vma_mark_attached(): a new record, just before it is published in the index.
 *   markDetached  vma_mark_detached(): a record just removed from the index, before it is
 *                 retired (its storage is reused only after an RCU grace period).
 *   writeDowngrade  mmap_write_downgrade() (vms_complete_munmap_vmas with `unlock`): munmap(2),
 *                 brk shrinking and mremap's in-place shrink, once the VMAs they remove are out
 *                 of the index and detached. The rest of the call (zapping the pages, closing and
 *                 retiring the records) runs under the mmap read lock, beside other readers; the
 *                 caller's write section then ends with a read unlock.
 *
 * The defaults are correct for single-threaded use (tests, template building): no lock is
 * taken, `vm_refcnt` is set to 1 / 0 directly, and nothing is downgraded. `vm_lock_seq` still
 * changes with the record, to a value no mm_lock_seq takes (negative, odd: never write-locked):
 * a reader that stamps what it printed by it (maps-line-memo.ts) sees a record changed
 * single-threaded as changed. The concurrency layer installs hooks that
 * take the real locks (`setVmaLockHooks`) on each thread that runs syscalls; callers hold the
 * mmap write lock around each syscall.
 */
import type { MmStruct } from '../mm-struct.js';

export interface VmaLockHooks {
  startWrite(mm: MmStruct, id: number): void;
  markAttached(mm: MmStruct, id: number): void;
  markDetached(mm: MmStruct, id: number): void;
  writeDowngrade(mm: MmStruct): void;
}

/** The last `vm_lock_seq` a single-threaded change gave a record (-3, -5, ...). */
let unlockedChangeSeq = -1;

function markChangedUnlocked(mm: MmStruct, id: number): void {
  unlockedChangeSeq = (unlockedChangeSeq - 2) | 0;
  Atomics.store(mm.i32, mm.vmas.lockSeqWord(id), unlockedChangeSeq);
}

export const SINGLE_THREADED_HOOKS: VmaLockHooks = {
  startWrite: markChangedUnlocked,
  markAttached: (mm, id) => {
    markChangedUnlocked(mm, id);
    Atomics.store(mm.i32, mm.vmas.refcntWord(id), 1);
  },
  markDetached: (mm, id) => {
    Atomics.store(mm.i32, mm.vmas.refcntWord(id), 0);
  },
  writeDowngrade: () => {},
};

let hooks: VmaLockHooks = SINGLE_THREADED_HOOKS;

/** Install this thread's VMA lock hooks (returns the previous ones). */
export function setVmaLockHooks(h: VmaLockHooks): VmaLockHooks {
  const old = hooks;
  hooks = h;
  return old;
}

export function vmaStartWrite(mm: MmStruct, id: number): void {
  hooks.startWrite(mm, id);
}

export function vmaMarkAttached(mm: MmStruct, id: number): void {
  hooks.markAttached(mm, id);
}

export function vmaMarkDetached(mm: MmStruct, id: number): void {
  hooks.markDetached(mm, id);
}

export function mmapWriteDowngrade(mm: MmStruct): void {
  hooks.writeDowngrade(mm);
}
