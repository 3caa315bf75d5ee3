/**
 * x86 memory protection keys, as far as they change VMA merging. Whether the simulated CPU has
 * them (PKU, enabled by the kernel: OSPKE) is a per-mm capability, `MmStruct.pkeys`, fixed when
 * the address space is created (the service's `--pkeys`, inherited by fork).
 *
 * With PKU, mmap() with prot exactly PROT_EXEC gives the VMA the mm's execute-only pkey (do_mmap:
 * execute_only_pkey()); mprotect() re-derives the key per VMA with
 * __arch_override_mprotect_pkey(): an exec-only VMA asked for anything but exactly PROT_EXEC
 * gets the default key 0, exactly PROT_EXEC gets the execute-only key, and anything else keeps
 * the VMA's key. The key lives in VM_PKEY_BIT0..3 (bits 32..35), which maps and PROCMAP_QUERY do
 * not show, but two VMAs with different keys never merge: `mprotect(PROT_EXEC | PROT_SEM)` on
 * part of an exec-only mapping splits it, while the same call with PROT_EXEC does not.
 *
 * Without PKU, execute_only_pkey() is -1 (do_mmap keeps key 0) and arch_override_mprotect_pkey()
 * returns 0 for every VMA: an execute-only mapping is a plain `--x` VMA that merges as any other.
 *
 * The simulated flag word is 32 bits wide, and only two key values ever occur (0 and the
 * execute-only key), so the simulation keeps "has the execute-only key" in one bit below 32 that
 * simulated memory never uses otherwise: VM_ARCH_1 (x86's VM_PAT, set only for PAT-tracked
 * PFN mappings of device drivers).
 */
import { PROT_EXEC, VM_ACCESS_FLAGS, VM_ARCH_1, VM_EXEC } from '../vm-flags.js';

export const VM_PKEY_EXEC_ONLY = VM_ARCH_1;

/** do_mmap(): the key bits for a new mapping with this prot argument. */
export function mmapPkeyFlags(pkeys: boolean, prot: number): number {
  return pkeys && prot === PROT_EXEC ? VM_PKEY_EXEC_ONLY : 0;
}

/** vma_is_pkey_exec_only(). */
function isPkeyExecOnly(vmaFlags: number): boolean {
  return (vmaFlags & VM_ACCESS_FLAGS) === VM_EXEC && (vmaFlags & VM_PKEY_EXEC_ONLY) !== 0;
}

/** arch_override_mprotect_pkey() with pkey -1 (plain mprotect): the VMA's new key bits. */
export function mprotectPkeyFlags(pkeys: boolean, vmaFlags: number, prot: number): number {
  if (!pkeys) return 0;
  if (isPkeyExecOnly(vmaFlags) && prot !== PROT_EXEC) return 0;
  if (prot === PROT_EXEC) return VM_PKEY_EXEC_ONLY;
  return vmaFlags & VM_PKEY_EXEC_ONLY;
}

/**
 * The key bits of a VMA imported from a maps text (which does not show keys): on a PKU machine a
 * `--x` mapping made by mmap/mprotect/the ELF loader carries the execute-only key; special
 * mappings (install_special_mapping) never get one.
 */
export function importPkeyFlags(pkeys: boolean, vmaFlags: number, special: boolean): number {
  return pkeys && !special && (vmaFlags & VM_ACCESS_FLAGS) === VM_EXEC ? VM_PKEY_EXEC_ONLY : 0;
}
