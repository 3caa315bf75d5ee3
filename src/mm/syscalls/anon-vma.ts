/**
 * Whether a VMA has an anon_vma, i.e. whether private pages were ever written in it.
 *
 * The simulation models memory that is never touched, except where the kernel itself writes it
 * at mmap() time: MAP_POPULATE and MAP_LOCKED (and mprotect making a VM_LOCKED private mapping
 * writable) fault the range in, and for a private writable mapping those are write faults that
 * give the VMA an anon_vma (do_anonymous_page / do_cow_fault -> anon_vma_prepare). That changes
 * three things, all observed on the 6.18.44 host with MAP_POPULATE:
 *   - mprotect() to read-only keeps VM_ACCOUNT (only a VMA without anon_vma gives it back);
 *   - mremap() keeps the moved VMA's pgoff (copy_vma resets it only without anon_vma), so it
 *     does not merge with anonymous neighbours at the destination;
 *   - merges propagate it: the surviving VMA takes the anon_vma of what it absorbs
 *     (dup_anon_vma), split parts share it, fork copies it (not for VM_WIPEONFORK), and
 *     mremap(MREMAP_DONTUNMAP) of a whole VMA unlinks it from the old one.
 *
 * Kept in a flag bit that 6.18 does not use and that merges ignore: VM_MAYBE_GUARD (a later mm
 * tree flag, listed in VM_IGNORE_MERGE). Limitation: all anon_vmas are taken as compatible
 * (is_mergeable_anon_vma() compares their identity, and rejects fork children's); on the host,
 * adjacent VMAs written separately usually share one anyway (find_mergeable_anon_vma).
 */
import type { MmStruct } from '../mm-struct.js';
import { VM_MAYBE_GUARD, VM_SHARED, VM_WRITE } from '../vm-flags.js';

export const VM_ANON_VMA = VM_MAYBE_GUARD;

export function hasAnonVma(mm: MmStruct, id: number): boolean {
  return (mm.vmas.flags(id) & VM_ANON_VMA) !== 0;
}

/** dup_anon_vma(): `dst` takes `src`'s anon_vma if it has none. */
export function dupAnonVma(mm: MmStruct, dst: number, src: number): void {
  if (src === 0 || !hasAnonVma(mm, src) || hasAnonVma(mm, dst)) return;
  mm.vmas.setFlags(dst, mm.vmas.flags(dst) | VM_ANON_VMA);
}

/**
 * populate_vma_page_range() over VMA `id`: write faults (and so an anon_vma) for private writable
 * mappings; read faults map the zero page or page cache and leave none.
 */
export function populateVma(mm: MmStruct, id: number): void {
  const f = mm.vmas.flags(id);
  if ((f & (VM_WRITE | VM_SHARED)) === VM_WRITE) mm.vmas.setFlags(id, f | VM_ANON_VMA);
}
