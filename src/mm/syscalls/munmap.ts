/**
 * munmap(2), Linux 6.18: mm/vma.c __vm_munmap() -> do_vmi_munmap(..., unlock = true) (see
 * vma-munmap.ts for the check order and the lock downgrade). Unmapping a range that holds no VMA
 * succeeds and changes nothing.
 */
import type { MmStruct } from '../mm-struct.js';
import { doMunmap } from './vma-munmap.js';

/** munmap(addr, len): 0 or -errno. */
export function munmap(mm: MmStruct, addr: number, len: number): number {
  return doMunmap(mm, addr, len, true);
}
