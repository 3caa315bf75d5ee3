/**
 * brk(2), Linux 6.18: mm/mmap.c SYSCALL_DEFINE1(brk) and mm/vma.c do_brk_flags().
 *
 * brk never fails: it returns the new break on success, the unchanged one otherwise. Steps:
 *   1. brk < start_brk (min_brk; no CONFIG_COMPAT_BRK)       -> unchanged (so brk(0) reads it)
 *   2. same page as the current break                        -> mm->brk = brk (unaligned kept)
 *   3. shrinking: no VMA in [PAGE_ALIGN(brk), PAGE_ALIGN(old)) -> unchanged; else that range is
 *      unmapped (whatever VMAs are there) and mm->brk = brk
 *   4. growing: the new end past TASK_SIZE                   -> unchanged (check_brk_limits).
 *      The length is newbrk - oldbrk modulo 2^64: a brk in (2^64 - PAGE_SIZE, 2^64) page-aligns
 *      to 0, so the "growth" wraps to 2^64 - oldbrk, more than TASK_SIZE, and is refused.
 *   5. a VMA starting (with its guard gap, for a stack) less than a page above the new end -> unchanged
 *   6. map_count > max_map_count                             -> unchanged
 *   7. extend the VMA ending at the old break if it has the brk flags (read/write data, VM_ACCOUNT,
 *      no name, no file), else a new anonymous VMA [old, new) with pgoff = old >> PAGE_SHIFT.
 * The maps formatter names the VMA [heap] from start_brk/brk (vma_is_initial_heap).
 */
import type { MmStruct } from '../mm-struct.js';
import { PAGE_SIZE, TASK_SIZE, VM_ACCOUNT, VM_DATA_DEFAULT_FLAGS } from '../vm-flags.js';
import { IndexFullError } from '../vma-index.js';
import { indexStore } from './index-ops.js';
import { STACK_GUARD_GAP } from './tunables.js';
import { pageAlign64, sub64 } from './u64.js';
import { vmStartGap } from './unmapped-area.js';
import { vmaMarkAttached, vmaStartWrite } from './vma-lock-hooks.js';
import { vmaMergeNewRange, vmg } from './vma-merge.js';
import { doAlignMunmap } from './vma-munmap.js';

/** brk(addr): the new program break, or the current one if the request is refused. */
export function brk(mm: MmStruct, newBrk: number): number {
  const origbrk = mm.brk;
  if (newBrk < mm.startBrk) return origbrk;
  const newbrk = pageAlign64(newBrk);
  const oldbrk = pageAlign64(origbrk);
  if (oldbrk === newbrk) {
    mm.brk = newBrk;
    return newBrk;
  }
  // Always allow shrinking brk.
  if (newBrk <= origbrk) {
    const vma = mm.findVma(newbrk);
    if (vma === 0 || mm.vmas.start(vma) >= oldbrk) return origbrk;
    mm.brk = newBrk;
    // do_vmi_align_munmap(..., unlock = true): mm->brk is set first, while the write lock is held.
    if (doAlignMunmap(mm, vma, newbrk, oldbrk, true) < 0) {
      mm.brk = origbrk;
      return origbrk;
    }
    return newBrk;
  }
  // check_brk_limits(): get_unmapped_area(NULL, oldbrk, len, 0, MAP_FIXED); unsigned long len.
  const len = sub64(newbrk, oldbrk);
  if (len > TASK_SIZE || oldbrk > TASK_SIZE - len) return origbrk;
  // Only check if the next VMA is within the stack_guard_gap of the expansion area.
  const next = mm.findVma(oldbrk);
  if (next !== 0 && mm.vmas.start(next) < newbrk + PAGE_SIZE + STACK_GUARD_GAP) {
    if (newbrk + PAGE_SIZE > vmStartGap(mm, next)) return origbrk;
  }
  // vma_prev_limit(vmi, start_brk): the VMA below the old break, if it reaches above start_brk.
  let brkvma = mm.findVmaPrev(oldbrk);
  if (brkvma !== 0 && mm.vmas.end(brkvma) <= mm.startBrk) brkvma = 0;
  if (doBrkFlags(mm, brkvma, oldbrk, len) < 0) return origbrk;
  mm.brk = newBrk;
  return newBrk;
}

/** do_brk_flags(): extend `vma` (ending at addr) by len, or map a new anonymous VMA. */
function doBrkFlags(mm: MmStruct, vma: number, addr: number, len: number): number {
  const flags = (VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT) >>> 0;
  if (mm.mapCount > mm.maxMapCount) return -1;
  const pgoff = addr / PAGE_SIZE;
  if (vma !== 0 && mm.vmas.end(vma) === addr) {
    const g = vmg.init(mm, addr, addr + len, flags, 0, pgoff, 0);
    g.prev = vma;
    g.justExpand = true;
    if (vmaMergeNewRange(g) !== 0) return 0;
  }
  const id = mm.allocVma();
  if (id === 0) return -1;
  const v = mm.vmas;
  v.setRange(id, addr, addr + len, pgoff);
  v.setFlags(id, flags);
  vmaStartWrite(mm, id);
  vmaMarkAttached(mm, id);
  try {
    indexStore(mm, addr, addr + len, id);
  } catch (e) {
    if (!(e instanceof IndexFullError)) throw e;
    v.free(id);
    return -1;
  }
  mm.mapCount = mm.mapCount + 1;
  return 0;
}
