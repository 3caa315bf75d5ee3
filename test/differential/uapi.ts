// Kernel uapi values the script generator uses (include/uapi/asm-generic/mman*.h, linux/mman.h).
// Written out here rather than imported from src/ so the test does not share the engine's numbers.

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_GROWSDOWN = 0x0100_0000;
export const PROT_GROWSUP = 0x0200_0000;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MADV_DONTNEED = 4;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;
/** 2^64 - 4096 and 2^63: overflowing lengths a double holds exactly. */
export const U64_MINUS_PAGE = 2 ** 64 - 0x1000;
export const U64_HALF = 2 ** 63;
/** 2^64 - 2048: unaligned, exact in a double; PAGE_ALIGN of it wraps to 0 (the brk overflow). */
export const U64_MINUS_HALF_PAGE = 2 ** 64 - 0x800;
