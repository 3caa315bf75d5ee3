/**
 * Kernel constants with their Linux x86-64 values: VMA flags (include/linux/mm.h, bit numbers
 * from the `VMA_*_BIT` enum), prot and mmap flags (include/uapi/asm-generic/mman-common.h,
 * linux/mman.h, x86 asm/mman.h), mremap flags, page geometry, TASK_SIZE and PROCMAP_QUERY bits
 * (include/uapi/linux/fs.h).
 *
 * VM_* values fit in 32 bits here (bits 0..31); the kernel's high bits (pkeys, VM_SEALED,
 * VM_DROPPABLE, VM_UFFD_MINOR...) are not simulated. Bit 31 (VM_MERGEABLE) makes the value
 * exceed int32: VMA records keep flags as uint32 and `VmaTable.flags()` returns a non-negative
 * number.
 */

// ---- page geometry and limits -------------------------------------------------------------
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_MASK = -PAGE_SIZE; // only meaningful on int32 values; use pageAlignDown for addresses
/** x86-64 with 4-level paging: user addresses are below this (arch/x86/include/asm/page_64_types.h). */
export const TASK_SIZE = 0x7ffffffff000;
/** include/linux/mm.h DEFAULT_MAX_MAP_COUNT = USHRT_MAX - MAPCOUNT_ELF_CORE_MARGIN. */
export const DEFAULT_MAX_MAP_COUNT = 65_530;
/** include/uapi/linux/limits.h, includes the terminating NUL. */
export const PATH_MAX = 4096;
/** include/linux/mm_types.h ANON_VMA_NAME_MAX_LEN, includes the terminating NUL. */
export const ANON_VMA_NAME_MAX_LEN = 80;
/** include/linux/build_id.h BUILD_ID_SIZE_MAX. */
export const BUILD_ID_SIZE_MAX = 20;

/** Round an address down to a page boundary (exact for any address below 2^53). */
export function pageAlignDown(addr: number): number {
  return addr - (addr % PAGE_SIZE);
}
/** Round a length/address up to a page boundary (PAGE_ALIGN). */
export function pageAlign(addr: number): number {
  const r = addr % PAGE_SIZE;
  return r === 0 ? addr : addr + (PAGE_SIZE - r);
}
export function isPageAligned(addr: number): boolean {
  return addr % PAGE_SIZE === 0;
}

// ---- VM_* (vm_area_struct.vm_flags) --------------------------------------------------------
export const VM_NONE = 0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_UFFD_MISSING = 0x200;
export const VM_PFNMAP = 0x400;
/** New in the mm tree after 6.18 (madvise guard regions); kept for completeness. */
export const VM_MAYBE_GUARD = 0x800;
export const VM_UFFD_WP = 0x1000;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_SYNC = 0x800000;
export const VM_ARCH_1 = 0x1000000;
export const VM_WIPEONFORK = 0x2000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_SOFTDIRTY = 0x8000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;
export const VM_MERGEABLE = 0x80000000;
/** x86-64 has no upward-growing stacks. */
export const VM_GROWSUP = VM_NONE;
export const VM_STACK = VM_GROWSDOWN;

/** Common combinations from include/linux/mm.h. */
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
/** VMAs whose page tables fork copies with or without an anon_vma (uffd-wp: not modelled). */
export const VM_COPY_ON_FORK = VM_PFNMAP | VM_MIXEDMAP;
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
/** Flags that are "sticky" on merge and ignored when comparing flags for a merge. */
export const VM_STICKY = VM_SOFTDIRTY | VM_MAYBE_GUARD;
export const VM_IGNORE_MERGE = VM_STICKY;
/** VM_DATA_FLAGS_NON_EXEC: x86-64's VM_DATA_DEFAULT_FLAGS without READ_IMPLIES_EXEC. */
export const VM_DATA_DEFAULT_FLAGS = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
export const VM_STACK_DEFAULT_FLAGS = VM_DATA_DEFAULT_FLAGS;
export const VM_STACK_FLAGS = VM_STACK | VM_STACK_DEFAULT_FLAGS | VM_ACCOUNT;

/** Unsigned 32-bit view of a flags word (bit 31 must not make the number negative). */
export function vmFlags(n: number): number {
  return n >>> 0;
}

// ---- PROT_* -------------------------------------------------------------------------------
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_SEM = 0x8;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

/** calc_vm_prot_bits() without arch bits: PROT_READ/WRITE/EXEC map 1:1 onto VM_READ/WRITE/EXEC. */
export function vmFlagsFromProt(prot: number): number {
  return prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
}

// ---- MAP_* (x86-64) ----------------------------------------------------------------------
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
/** MAP_DROPPABLE shares the MAP_TYPE nibble (6.11+). */
export const MAP_DROPPABLE = 0x08;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** x86 only: place the mapping in the low 2 GiB. */
export const MAP_32BIT = 0x40;
/** x86 only (6.7+): MAP_32BIT's opposite, only honoured for shadow stacks. */
export const MAP_ABOVE4G = 0x80;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_UNINITIALIZED = 0x4000000;
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_MASK = 0x3f;
export const MAP_HUGE_2MB = 21 << MAP_HUGE_SHIFT;
export const MAP_HUGE_1GB = 30 << MAP_HUGE_SHIFT;
/**
 * include/linux/mman.h LEGACY_MAP_MASK: the flags MAP_SHARED_VALIDATE accepts without
 * EOPNOTSUPP (besides MAP_SYNC and MAP_DROPPABLE handling done by the syscall).
 */
export const LEGACY_MAP_MASK =
  MAP_SHARED |
  MAP_PRIVATE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  MAP_DENYWRITE |
  MAP_EXECUTABLE |
  MAP_UNINITIALIZED |
  MAP_GROWSDOWN |
  MAP_LOCKED |
  MAP_NORESERVE |
  MAP_POPULATE |
  MAP_NONBLOCK |
  MAP_STACK |
  MAP_HUGETLB |
  MAP_32BIT |
  MAP_ABOVE4G |
  MAP_HUGE_2MB |
  MAP_HUGE_1GB;

// ---- mremap ------------------------------------------------------------------------------
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

// ---- prctl PR_SET_VMA ------------------------------------------------------------------------
export const PR_SET_VMA = 0x53564d41;
export const PR_SET_VMA_ANON_NAME = 0;

// ---- PROCMAP_QUERY (include/uapi/linux/fs.h) ------------------------------------------------
/** _IOWR('f', 17, struct procmap_query), sizeof = 104. */
export const PROCMAP_QUERY = 0xc0686611;
export const PROCMAP_QUERY_STRUCT_SIZE = 104;
export const PROCMAP_QUERY_VMA_READABLE = 0x01;
export const PROCMAP_QUERY_VMA_WRITABLE = 0x02;
export const PROCMAP_QUERY_VMA_EXECUTABLE = 0x04;
export const PROCMAP_QUERY_VMA_SHARED = 0x08;
export const PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10;
export const PROCMAP_QUERY_FILE_BACKED_VMA = 0x20;
/** All valid query_flags bits; anything else is EINVAL. */
export const PROCMAP_QUERY_VALID_FLAGS = 0x3f;
