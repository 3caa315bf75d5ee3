/**
 * expand_stack() for a page fault below a VM_GROWSDOWN VMA (mm/mmap.c expand_downwards(),
 * Linux 6.18). The caller holds the mmap write lock (the fault path drops its read lock to take
 * it, as lock_mm_and_find_vma() does on x86, which cannot upgrade).
 *
 * Refused (-ENOMEM / -EPERM; the fault then answers SIGSEGV) when the new start is below
 * mmap_min_addr, when an accessible VMA that does not grow down ends less than stack_guard_gap
 * below the new start (a PROT_NONE one does not count) — both before anything changes —, or,
 * after the VMA got its anon_vma (anon_vma_prepare), when the stack would exceed RLIMIT_STACK
 * (8 MiB here) or grow by more pages than its pgoff. Else its start and pgoff move down;
 * total_vm, stack_vm (and locked_vm) grow.
 */
import { EFAULT, ENOMEM, EPERM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { PAGE_SIZE, VM_ACCESS_FLAGS, VM_GROWSDOWN, VM_LOCKED } from '../vm-flags.js';
import { anonVmaPrepare } from './anon-vma.js';
import { indexStore } from './index-ops.js';
import { MMAP_MIN_ADDR, STACK_GUARD_GAP } from './tunables.js';
import { vmaStartWrite } from './vma-lock-hooks.js';

/** ulimit -s: 8 MiB. */
export const RLIMIT_STACK = 8 << 20;

/** stackGrowthRefusal(): the stack may grow. */
export const STACK_GROWS = 0;
/** Refused before anon_vma_prepare(): below mmap_min_addr, or in a neighbour's guard gap. */
export const STACK_REFUSED_EARLY = 1;
/**
 * Refused after anon_vma_prepare(): more than RLIMIT_STACK, or more pages than the VMA's pgoff
 * (`grow <= vm_pgoff`). The VMA keeps the anon_vma it got, refused or not: a touch far below a
 * VM_GROWSDOWN VMA (any unmapped address whose next VMA above grows down) gives it one, which
 * decides its merges and whether fork copies its page tables.
 */
export const STACK_REFUSED_LATE = 2;

/** How expand_downwards() would answer growing VMA `id` down to page `addr`. */
export function stackGrowthRefusal(mm: MmStruct, id: number, addr: number): number {
  const v = mm.vmas;
  if (addr < MMAP_MIN_ADDR) return STACK_REFUSED_EARLY;
  const prev = mm.findVmaPrev(v.start(id));
  if (
    prev !== 0 &&
    !(v.flags(prev) & VM_GROWSDOWN) &&
    (v.flags(prev) & VM_ACCESS_FLAGS) !== 0 &&
    addr - v.end(prev) < STACK_GUARD_GAP
  ) {
    return STACK_REFUSED_EARLY;
  }
  const grow = (v.start(id) - addr) / PAGE_SIZE;
  if (grow > v.pgoff(id) || v.end(id) - addr > RLIMIT_STACK) return STACK_REFUSED_LATE;
  return STACK_GROWS;
}

/** Grow the stack VMA above `addrIn` down to its page. 0 or -errno. */
export function expandStack(mm: MmStruct, addrIn: number): number {
  const addr = addrIn - (addrIn % PAGE_SIZE);
  const v = mm.vmas;
  const vma = mm.findVma(addr);
  if (vma === 0) return -EFAULT;
  if (v.start(vma) <= addr) return 0;
  const flags = v.flags(vma);
  if (!(flags & VM_GROWSDOWN)) return -EFAULT;
  const refusal = stackGrowthRefusal(mm, vma, addr);
  if (refusal === STACK_REFUSED_EARLY) return addr < MMAP_MIN_ADDR ? -EPERM : -ENOMEM;
  anonVmaPrepare(mm, vma);
  if (refusal === STACK_REFUSED_LATE) return -ENOMEM;
  const grow = (v.start(vma) - addr) / PAGE_SIZE;
  vmaStartWrite(mm, vma);
  v.setRange(vma, addr, v.end(vma), v.pgoff(vma) - grow);
  indexStore(mm, addr, v.end(vma), vma);
  mm.stackVm += grow;
  if (v.flags(vma) & VM_LOCKED) mm.lockedVm += grow;
  return 0;
}
