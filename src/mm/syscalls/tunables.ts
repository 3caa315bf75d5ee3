/**
 * Host tunables and build options the syscalls depend on, fixed to the values of the reference
 * host (Linux 6.18.44 x86-64, 4-level paging, running as root). Each one names where the kernel
 * takes it from; changing one here changes the simulated kernel, not a detail of this code.
 */
import { PAGE_SIZE, pageAlign, TASK_SIZE } from '../vm-flags.js';

/** /proc/sys/vm/mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR=4096). */
export const MMAP_MIN_ADDR = 4096;

/** mm/mmap.c stack_guard_gap = 256 pages (no `stack_guard_gap=` boot option). */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;

/** PMD_SIZE on x86-64: the THP size the anonymous-mapping alignment rule uses. */
export const PMD_SIZE = 0x200000;

/**
 * arch/x86 TASK_UNMAPPED_BASE = PAGE_ALIGN(TASK_SIZE_LOW / 3): the base of the legacy bottom-up
 * allocator, used only when the top-down search fails. The kernel adds the mmap randomisation
 * to it (mm->mmap_legacy_base); the simulation has no per-mm legacy base, so it uses the
 * unrandomised value.
 */
export const TASK_UNMAPPED_BASE = pageAlign(Math.floor(TASK_SIZE / 3));

/**
 * CONFIG_TRANSPARENT_HUGEPAGE=y: __get_unmapped_area() aligns anonymous private mappings whose
 * length is a multiple of PMD_SIZE (no hint) and regular files' mappings (ext4's
 * thp_get_unmapped_area) to PMD boundaries. Anonymous shared memory uses shmem's allocator,
 * which with shmem_enabled=never (the host setting) does not align.
 */
export const THP_ENABLED = true;

/**
 * The caller is root (CAP_SYS_RAWIO, CAP_IPC_LOCK): security_mmap_addr() lets MAP_FIXED map
 * below mmap_min_addr, and mlock limits never refuse MAP_LOCKED. This is how the reference host
 * runs the differential test.
 */
export const CAPABLE = true;

/**
 * /proc/sys/vm/overcommit_memory = 0 (heuristic): MAP_NORESERVE is honoured (VM_NORESERVE) and
 * accounting never refuses a mapping in the simulation.
 */
export const OVERCOMMIT_NEVER = false;

/** CONFIG_MEM_SOFT_DIRTY is not set on the host: VM_SOFTDIRTY is never set on new VMAs. */
export const SOFT_DIRTY = false;
