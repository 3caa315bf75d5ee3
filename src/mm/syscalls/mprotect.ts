/**
 * mprotect(2), Linux 6.18 x86-64: mm/mprotect.c do_mprotect_pkey() and mprotect_fixup().
 *
 * Order of checks:
 *   1. PROT_GROWSDOWN and PROT_GROWSUP together                    EINVAL
 *   2. start not page aligned                                       EINVAL
 *   3. len == 0                                                     0 (nothing else is checked)
 *   4. start + PAGE_ALIGN(len) wraps or is <= start                 ENOMEM
 *   5. prot bits other than READ/WRITE/EXEC/SEM (arch_validate_prot) EINVAL
 *   6. no VMA intersects [start, end)                               ENOMEM
 *   7. PROT_GROWSDOWN: first VMA starts at/after end -> ENOMEM; it is not VM_GROWSDOWN -> EINVAL
 *      (the range then starts at that VMA's start); otherwise the first VMA starts above
 *      start -> ENOMEM; PROT_GROWSUP -> EINVAL (x86 has no VM_GROWSUP)
 *   Then each VMA in the range, in address order:
 *   8. a hole before it                                             ENOMEM
 *   9. a requested permission its VM_MAY* flags forbid              EACCES
 *  10. mprotect_fixup(): merge or split (split at max_map_count     ENOMEM)
 *   After the loop, a hole at the end of the range                  ENOMEM
 * Errors from 8-10 and the final hole come after the VMAs before them were changed: Linux keeps
 * those changes, and so does this.
 *
 * VM_ACCOUNT (mprotect_fixup): a private mapping made writable is charged and gets VM_ACCOUNT
 * unless it already has VM_ACCOUNT, VM_WRITE, VM_SHARED, VM_NORESERVE (or VM_HUGETLB); a
 * never-faulted anonymous VMA (no anon_vma, see anon-vma.ts) made read-only loses VM_ACCOUNT. The flag is invisible in maps but decides merges (observed on 6.18.44 in smaps
 * VmFlags: rw anon `ac`, after mprotect(PROT_READ) no `ac`).
 *
 * Protection keys (pkey.ts): on an mm with PKU the VMA's key is re-derived from prot per VMA, as
 * x86's __arch_override_mprotect_pkey() does; different keys keep VMAs apart. Without PKU every
 * VMA keeps key 0.
 */

import { EACCES, EINVAL, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { pagesProtect } from '../pages/page-hooks.js';
import {
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_SEM,
  PROT_WRITE,
  VM_ACCESS_FLAGS,
  VM_ACCOUNT,
  VM_GROWSDOWN,
  VM_HUGETLB,
  VM_LOCKED,
  VM_NORESERVE,
  VM_SHARED,
  VM_WRITE,
} from '../vm-flags.js';
import { ANON_VMA_BITS, populateVma, VM_ANON_VMA } from './anon-vma.js';
import { mprotectPkeyFlags, VM_PKEY_EXEC_ONLY } from './pkey.js';
import { add64, offsetInPage, pageAlign64 } from './u64.js';
import { vmaStartWrite } from './vma-lock-hooks.js';
import { vmaModifyFlags } from './vma-modify.js';

/** vma_is_anonymous(): no vm_ops, i.e. neither a file, shmem nor a special mapping. */
export function vmaIsAnonymous(mm: MmStruct, id: number): boolean {
  return mm.vmas.file(id) === 0 && mm.vmas.ops(id) === 0;
}

/** mprotect(start, len, prot): 0 or -errno. */
export function mprotect(mm: MmStruct, startIn: number, lenIn: number, protIn: number): number {
  const grows = protIn & (PROT_GROWSDOWN | PROT_GROWSUP);
  const prot = protIn & ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
  let start = startIn;
  if (offsetInPage(start)) return -EINVAL;
  if (lenIn === 0) return 0;
  const len = pageAlign64(lenIn);
  const end = add64(start, len);
  if (end <= start) return -ENOMEM;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0) return -EINVAL;

  const v = mm.vmas;
  let vma = mm.findVma(start);
  if (vma === 0 || v.start(vma) >= end) return -ENOMEM;
  if (grows & PROT_GROWSDOWN) {
    start = v.start(vma);
    if ((v.flags(vma) & VM_GROWSDOWN) === 0) return -EINVAL;
  } else {
    if (v.start(vma) > start) return -ENOMEM;
    if (grows & PROT_GROWSUP) return -EINVAL;
  }
  let prev = start > v.start(vma) ? vma : mm.findVmaPrev(v.start(vma));

  const newProt = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
  let nstart = start;
  let tmp = v.start(vma);
  let error = 0;
  while (vma !== 0 && v.start(vma) < end) {
    if (v.start(vma) !== tmp) {
      error = -ENOMEM;
      break;
    }
    // Each call passes r/w/x explicitly: what is not passed is cleared; the pkey is re-derived.
    const old = v.flags(vma);
    const pkey = mprotectPkeyFlags(mm.pkeys, old, prot);
    const newflags = (newProt | pkey | (old & ~(VM_ACCESS_FLAGS | VM_PKEY_EXEC_ONLY))) >>> 0;
    // newflags >> 4 shifts VM_MAY* into the place of VM_*.
    if ((newflags & ~(newflags >>> 4) & VM_ACCESS_FLAGS) !== 0) {
      error = -EACCES;
      break;
    }
    tmp = Math.min(v.end(vma), end);
    const res = mprotectFixup(mm, vma, prev, nstart, tmp, newflags);
    if (res < 0) {
      error = res;
      break;
    }
    prev = res;
    tmp = v.end(res);
    nstart = tmp;
    vma = mm.findVma(tmp);
  }
  if (error === 0 && tmp < end) error = -ENOMEM;
  return error;
}

/**
 * mprotect_fixup(): give [start, end) of `vma` the flags `newflags` (plus the VM_ACCOUNT rule).
 * Returns the VMA now covering the range (the new `prev`), or -errno.
 */
function mprotectFixup(
  mm: MmStruct,
  vma: number,
  prev: number,
  start: number,
  end: number,
  newflagsIn: number,
): number {
  const oldflags = mm.vmas.flags(vma);
  let newflags = newflagsIn;
  if (newflags === oldflags) return vma;
  if (newflags & VM_WRITE) {
    if ((oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)) === 0) {
      newflags = (newflags | VM_ACCOUNT) >>> 0;
    }
  } else if (oldflags & VM_ACCOUNT && vmaIsAnonymous(mm, vma) && !(oldflags & VM_ANON_VMA)) {
    // Never faulted (no anon_vma): the commitment can be given back.
    newflags = (newflags & ~VM_ACCOUNT) >>> 0;
  }
  const res = vmaModifyFlags(mm, prev, vma, start, end, newflags);
  if (res < 0) return res;
  vmaStartWrite(mm, res);
  // The anon_vma is not a flag in Linux: keep what the (possibly merged) VMA has.
  mm.vmas.setFlags(res, (newflags & ~ANON_VMA_BITS) | (mm.vmas.flags(res) & ANON_VMA_BITS));
  // change_protection(): the PTEs of the range follow the new protection.
  pagesProtect(mm, start, end, mm.vmas.flags(res));
  // Private VM_LOCKED VMA becoming writable: trigger COW (populate_vma_page_range).
  if (newflags & VM_WRITE && oldflags & VM_LOCKED && !(oldflags & (VM_WRITE | VM_SHARED))) {
    populateVma(mm, res);
  }
  return res;
}
