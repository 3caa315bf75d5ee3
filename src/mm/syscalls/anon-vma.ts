/**
 * Whether a VMA has an anon_vma, i.e. whether private pages were ever written in it, and which.
 *
 * The simulation models memory that is never touched, except where the kernel itself writes it
 * at mmap() time: MAP_POPULATE and MAP_LOCKED (and mprotect making a VM_LOCKED private mapping
 * writable) fault the range in, and for a private writable mapping those are write faults that
 * give the VMA an anon_vma (do_anonymous_page / do_cow_fault -> anon_vma_prepare). That changes
 * what the host shows (6.18.44, MAP_POPULATE):
 *   - mprotect() to read-only keeps VM_ACCOUNT (only a VMA without anon_vma gives it back);
 *   - mremap() keeps the moved VMA's pgoff (copy_vma resets it only without anon_vma), so it
 *     does not merge with anonymous neighbours at the destination;
 *   - two VMAs with different anon_vmas never merge, and a new range between them merges with
 *     one side only; split parts share their anon_vma; merges hand it on (dup_anon_vma);
 *   - fork gives each copied VMA an anon_vma of its own (so VMAs that shared one in the parent
 *     do not in the child), none for VM_WIPEONFORK; in the child such an inherited anon_vma
 *     (vma_is_fork_child) does not merge with a VMA that has none; mremap(MREMAP_DONTUNMAP) of a
 *     whole VMA unlinks it from the old one.
 *
 * The VMA record has no anon_vma field, so the state lives in flag bits that 6.18 x86 never sets
 * on simulated memory and that merge comparisons skip (ANON_VMA_BITS): VM_MAYBE_GUARD = "has
 * one", VM_UFFD_WP = "inherited through fork", and a 3-bit identity in VM_UFFD_MISSING,
 * VM_SOFTDIRTY and VM_MERGEABLE. A new anon_vma reuses a compatible neighbour's, as
 * find_mergeable_anon_vma() does, and otherwise takes an identity that the nearest anon_vmas on
 * both sides (three each way) do not have: two anon_vmas created apart are told apart unless they
 * were further apart than that when the second was made and later meet (then the simulation may
 * take them for one). A real anon_vma field in the record would remove that limit.
 */
import type { MmStruct } from '../mm-struct.js';
import {
  PAGE_SIZE,
  VM_ACCESS_FLAGS,
  VM_IGNORE_MERGE,
  VM_MAYBE_GUARD,
  VM_MERGEABLE,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_UFFD_MISSING,
  VM_UFFD_WP,
  VM_WRITE,
} from '../vm-flags.js';

export const VM_ANON_VMA = VM_MAYBE_GUARD;
/** The VMA's anon_vma came from fork (anon_vma_fork): only with VM_ANON_VMA. */
export const VM_ANON_VMA_FORKED = VM_UFFD_WP;
const ID_BITS = [VM_UFFD_MISSING, VM_SOFTDIRTY, VM_MERGEABLE] as const;
const ID_MASK = (VM_UFFD_MISSING | VM_SOFTDIRTY | VM_MERGEABLE) >>> 0;
/** Bits that describe the anon_vma, not the mapping: flag comparisons for merges ignore them. */
export const ANON_VMA_BITS = (VM_ANON_VMA | VM_ANON_VMA_FORKED | ID_MASK) >>> 0;

export function hasAnonVma(mm: MmStruct, id: number): boolean {
  return (mm.vmas.flags(id) & VM_ANON_VMA) !== 0;
}

/** The anon_vma state of a flags word (0 = none); equal values mean the same anon_vma. */
export function anonVmaOf(flags: number): number {
  return flags & VM_ANON_VMA ? (flags & (VM_ANON_VMA | ID_MASK)) >>> 0 : 0;
}

/** vma_is_fork_child(): an anon_vma inherited through fork. */
export function isForkChildFlags(flags: number): boolean {
  return (flags & (VM_ANON_VMA | VM_ANON_VMA_FORKED)) === (VM_ANON_VMA | VM_ANON_VMA_FORKED);
}

function idBits(n: number): number {
  let bits = 0;
  for (let i = 0; i < ID_BITS.length; i++) if (n & (1 << i)) bits |= ID_BITS[i];
  return bits >>> 0;
}

/**
 * anon_vma_fork(): the child's copy of a VMA with an anon_vma gets a new anon_vma of its own
 * (chained to the parent's, hence a fork child), so two VMAs that were separate in the parent
 * never share one in the child. `ordinal` numbers the child's VMAs with an anon_vma in address
 * order; consecutive ones get different identities. Returns the child's flags.
 */
export function forkAnonVmaFlags(parentFlags: number, ordinal: number): number {
  if (!(parentFlags & VM_ANON_VMA)) return parentFlags;
  const ident = (ordinal % 7) + 1;
  return ((parentFlags & ~ANON_VMA_BITS) | VM_ANON_VMA | VM_ANON_VMA_FORKED | idBits(ident)) >>> 0;
}

/** dup_anon_vma(): `dst` takes `src`'s anon_vma if it has none. */
export function dupAnonVma(mm: MmStruct, dst: number, src: number): void {
  if (src === 0 || !hasAnonVma(mm, src) || hasAnonVma(mm, dst)) return;
  const anon = mm.vmas.flags(src) & ANON_VMA_BITS;
  mm.vmas.setFlags(dst, (mm.vmas.flags(dst) & ~ANON_VMA_BITS) | anon);
}

/**
 * anon_vma_compatible() + reusable_anon_vma(): `other`, adjacent to `id`, could share its
 * anon_vma with `id` (same file, flags equal but for access bits, contiguous pgoff) and its
 * anon_vma is not a fork child's.
 */
function reusableAnonVma(mm: MmStruct, a: number, b: number, other: number): boolean {
  const v = mm.vmas;
  if (v.end(a) !== v.start(b) || v.file(a) !== v.file(b)) return false;
  const ignore = VM_ACCESS_FLAGS | VM_IGNORE_MERGE | ANON_VMA_BITS;
  if (((v.flags(a) ^ v.flags(b)) & ~ignore) !== 0) return false;
  if (v.pgoff(b) !== v.pgoff(a) + (v.start(b) - v.start(a)) / PAGE_SIZE) return false;
  const f = v.flags(other);
  return (f & VM_ANON_VMA) !== 0 && !isForkChildFlags(f);
}

/**
 * populate_vma_page_range() over VMA `id`: write faults (and so an anon_vma) for private writable
 * mappings; read faults map the zero page or page cache and leave none, except on a machine
 * without the zero page (`mm.noZeroPage`), where a read fault on private anonymous memory that
 * populate may touch (any of r/w/x: FOLL_FORCE) allocates a page. anon_vma_prepare() first looks
 * for a neighbour's anon_vma to reuse (next, then prev).
 */
export function populateVma(mm: MmStruct, id: number): void {
  const v = mm.vmas;
  const f = v.flags(id);
  if (f & (VM_SHARED | VM_ANON_VMA)) return;
  const written = (f & VM_WRITE) !== 0;
  const readAllocates = mm.noZeroPage && v.file(id) === 0 && (f & VM_ACCESS_FLAGS) !== 0;
  if (!written && !readAllocates) return;
  anonVmaPrepare(mm, id);
}

/**
 * anon_vma_prepare(): give VMA `id` an anon_vma if it has none, reusing a compatible
 * neighbour's (next, then prev) as find_mergeable_anon_vma() does. Callers: mmap write lock, or
 * (a page fault) the mmap read lock plus the page lock, as the kernel holds mmap_lock for read
 * and mm->page_table_lock.
 */
export function anonVmaPrepare(mm: MmStruct, id: number): void {
  const v = mm.vmas;
  const f = v.flags(id);
  if (f & VM_ANON_VMA) return;
  const next = mm.findVma(v.end(id));
  if (next !== 0 && reusableAnonVma(mm, id, next, next)) {
    v.setFlags(id, (f & ~ANON_VMA_BITS) | (v.flags(next) & (VM_ANON_VMA | ID_MASK)));
    return;
  }
  const prev = mm.findVmaPrev(v.start(id));
  if (prev !== 0 && reusableAnonVma(mm, prev, id, prev)) {
    v.setFlags(id, (f & ~ANON_VMA_BITS) | (v.flags(prev) & (VM_ANON_VMA | ID_MASK)));
    return;
  }
  v.setFlags(id, (f & ~ANON_VMA_BITS) | VM_ANON_VMA | idBits(freshIdentity(mm, id)));
}

/** How far freshIdentity() looks on each side: VMAs visited, anon_vmas collected. */
const IDENTITY_SCAN_VMAS = 8;
const IDENTITY_SCAN_HOLDERS = 3;

/**
 * The identity (1..7) of a new anon_vma for VMA `id`: one that none of the nearest anon_vmas on
 * either side has (up to three each way, within eight VMAs), since those are the VMAs that later
 * merges are likely to compare it with (a neighbour, or one that becomes a neighbour when the VMAs
 * between merge away). Six excluded values at most, so one of the seven is always free.
 */
function freshIdentity(mm: MmStruct, id: number): number {
  const v = mm.vmas;
  let used = 0;
  const note = (other: number): boolean => {
    const a = anonVmaOf(v.flags(other));
    if (a === 0) return false;
    used |= 1 << identityOf(a);
    return true;
  };
  let holders = 0;
  let o = mm.findVmaPrev(v.start(id));
  for (let n = 0; o !== 0 && n < IDENTITY_SCAN_VMAS && holders < IDENTITY_SCAN_HOLDERS; n++) {
    if (note(o)) holders++;
    o = mm.findVmaPrev(v.start(o));
  }
  holders = 0;
  o = mm.findVma(v.end(id));
  for (let n = 0; o !== 0 && n < IDENTITY_SCAN_VMAS && holders < IDENTITY_SCAN_HOLDERS; n++) {
    if (note(o)) holders++;
    o = mm.findVma(v.end(o));
  }
  for (let ident = 1; ident <= 7; ident++) if (!(used & (1 << ident))) return ident;
  return 1; // unreachable: at most six identities are excluded
}

/** The 3-bit identity of an anon_vma state (anonVmaOf), 1..7. */
function identityOf(state: number): number {
  let n = 0;
  for (let i = 0; i < ID_BITS.length; i++) if (state & ID_BITS[i]) n |= 1 << i;
  return n;
}
