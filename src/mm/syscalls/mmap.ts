/**
 * mmap(2), Linux 6.18 x86-64.
 *
 * Mirrors: arch/x86/kernel/sys_x86_64.c sys_mmap, mm/mmap.c ksys_mmap_pgoff() and do_mmap(),
 * mm/vma.c mmap_region() / __mmap_region() (__mmap_setup, merge, __mmap_new_vma,
 * __mmap_complete).
 *
 * Order of checks (each returns -errno with nothing changed unless noted):
 *   1. offset not page aligned                                   EINVAL   (sys_mmap)
 *   2. no MAP_ANONYMOUS and no file                              EBADF    (ksys_mmap_pgoff)
 *   3. MAP_HUGETLB (the host has no usable huge page pool)       EINVAL
 *   4. len == 0                                                  EINVAL   (do_mmap)
 *   5. PAGE_ALIGN(len) wraps to 0                                ENOMEM
 *   6. pgoff + pages overflows                                   EOVERFLOW
 *   7. map_count > max_map_count                                 ENOMEM
 *   8. get_unmapped_area(): len > TASK_SIZE, no room, FIXED end beyond TASK_SIZE  ENOMEM;
 *      FIXED address not page aligned                            EINVAL
 *   9. MAP_FIXED_NOREPLACE and any VMA in the range              EEXIST
 *  10. file: offset + len beyond the maximum file size           EOVERFLOW
 *      MAP_SHARED drops non-legacy flags; MAP_SHARED_VALIDATE with unknown flags EOPNOTSUPP;
 *      shared PROT_WRITE on a file not open for writing          EACCES;
 *      MAP_GROWSDOWN on a file                                   EINVAL;  other map types EINVAL
 *    anonymous: MAP_SHARED with MAP_GROWSDOWN EINVAL; MAP_DROPPABLE with MAP_LOCKED, MAP_HUGETLB
 *      or MAP_GROWSDOWN EINVAL; map types other than SHARED/PRIVATE/DROPPABLE EINVAL
 *  11. mmap_region(): unmap what the range overlaps (splits at the edges; may fail with ENOMEM at
 *      max_map_count or EINVAL on a special mapping, leaving a completed first split in place,
 *      as Linux does), VM_ACCOUNT for private writable mappings without VM_NORESERVE, then merge
 *      with the neighbours or insert a new VMA.
 *
 * Unknown prot bits and unknown MAP_* bits are ignored, as on Linux (mmap validates neither).
 */

import { EACCES, EBADF, EEXIST, EINVAL, ENOMEM, EOPNOTSUPP, EOVERFLOW } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { accessWithoutFault, handlePageFault } from '../pages/page-fault.js';
import { pagesShmemCreated } from '../pages/page-hooks.js';
import { markPageAccessed, tableHead } from '../pages/page-table.js';
import {
  LEGACY_MAP_MASK,
  MAP_ANONYMOUS,
  MAP_DROPPABLE,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGETLB,
  MAP_LOCKED,
  MAP_NONBLOCK,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_STACK,
  MAP_SYNC,
  MAP_TYPE,
  PAGE_SIZE,
  PROT_WRITE,
  VM_ACCESS_FLAGS,
  VM_ACCOUNT,
  VM_DONTDUMP,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NOHUGEPAGE,
  VM_NORESERVE,
  VM_SHARED,
  VM_SYNC,
  VM_WIPEONFORK,
  VM_WRITE,
  vmFlagsFromProt,
} from '../vm-flags.js';
import { IndexFullError } from '../vma-index.js';
import { populateVma } from './anon-vma.js';
import { indexErase, indexStore } from './index-ops.js';
import { mmapPkeyFlags, VM_PKEY_EXEC_ONLY } from './pkey.js';
import { MMAP_MIN_ADDR, OVERCOMMIT_NEVER, THP_ENABLED } from './tunables.js';
import { offsetInPage, pageAlign64 } from './u64.js';
import {
  AREA_ANON,
  AREA_REGULAR_FILE,
  AREA_SHMEM,
  type FoundGap,
  foundGap,
  getUnmappedArea,
} from './unmapped-area.js';
import { vmaMarkAttached, vmaStartWrite } from './vma-lock-hooks.js';
import { vmaMergeNewRange, vmg } from './vma-merge.js';
import { completeMunmapVmas, gatherMunmapVmas, MunmapState } from './vma-munmap.js';

/** What mmap() maps when it is not anonymous: an open file. */
export interface FileMapping {
  /** FileTable id of the file. */
  fileId: number;
  /** Byte offset into the file (the mmap offset argument). */
  offset: number;
  /** The file was opened for writing (FMODE_WRITE, O_RDWR); it is always open for reading. */
  writable: boolean;
}

/** MAX_LFS_FILESIZE + 1 on 64-bit (LLONG_MAX + 1, exact as a double). */
const MAX_LFS_FILESIZE_PLUS_1 = 2 ** 63;

/** VM_DROPPABLE is a high VMA flag the 32-bit flag words cannot hold; its companions mark it. */
const DROPPABLE_FLAGS = VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP;

/** The mmap_region() unmap of the range a mapping replaces (one per thread). */
const replaced = new MunmapState();

/**
 * mmap(addr, len, prot, flags, fd, offset). With MAP_ANONYMOUS, `file` is ignored except that
 * its `offset` is checked as the offset argument (pass none for offset 0). Returns the address
 * of the mapping or -errno.
 */
export function mmap(
  mm: MmStruct,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  file?: FileMapping,
): number {
  const off = file?.offset ?? 0;
  if (offsetInPage(off)) return -EINVAL;
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  if (!anonymous && file === undefined) return -EBADF;
  if (flags & MAP_HUGETLB) return -EINVAL;
  return doMmap(mm, anonymous ? undefined : file, addr, len, prot, flags, off / PAGE_SIZE);
}

/** do_mmap(): `pgoff` in pages. */
function doMmap(
  mm: MmStruct,
  file: FileMapping | undefined,
  addrIn: number,
  lenIn: number,
  prot: number,
  flagsIn: number,
  pgoffIn: number,
): number {
  let addr = addrIn;
  let flags = flagsIn;
  let pgoff = pgoffIn;
  if (lenIn === 0) return -EINVAL;
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
  if (!(flags & MAP_FIXED)) addr = roundHintToMin(addr);
  const len = pageAlign64(lenIn);
  if (len === 0) return -ENOMEM;
  // The pgoff + pages overflow check (EOVERFLOW) cannot trigger with 64-bit pgoff: an offset
  // below 2^64 is below 2^52 pages.
  if (mm.mapCount > mm.maxMapCount) return -ENOMEM;

  let vmFlags =
    vmFlagsFromProt(prot) |
    mmapPkeyFlags(mm.pkeys, prot) |
    calcVmFlagBits(flags) |
    VM_MAYREAD |
    VM_MAYWRITE |
    VM_MAYEXEC;
  const kind =
    file === undefined ? AREA_ANON : mm.files.isShmem(file.fileId) ? AREA_SHMEM : AREA_REGULAR_FILE;
  foundGap.valid = false;
  addr = getUnmappedArea(mm, kind, addr, len, pgoff, flags);
  if (addr < 0) return addr;
  if (flags & MAP_FIXED_NOREPLACE) {
    const vma = mm.findVma(addr);
    if (vma !== 0 && mm.vmas.start(vma) < addr + len) return -EEXIST;
  }
  // MAP_LOCKED / mlock limits: the caller is capable (tunables.CAPABLE); never refused.

  if (file !== undefined) {
    // file_mmap_ok(): pgoff <= (MAX_LFS_FILESIZE - len) >> PAGE_SHIFT.
    if (pgoff > (MAX_LFS_FILESIZE_PLUS_1 - len) / PAGE_SIZE - 1) return -EOVERFLOW;
    const type = flags & MAP_TYPE;
    // The kernel's switch falls through MAP_SHARED -> MAP_SHARED_VALIDATE -> MAP_PRIVATE.
    if (type === MAP_SHARED || type === MAP_SHARED_VALIDATE) {
      // Unsupported flags are silently ignored with MAP_SHARED (backward compatibility).
      if (type === MAP_SHARED) flags &= LEGACY_MAP_MASK;
      // ext4 (a regular file here) sets FOP_MMAP_SYNC, so MAP_SYNC passes this check and is
      // refused later by ext4's mmap_prepare (no DAX); shmem does not accept it here.
      const mask = kind === AREA_REGULAR_FILE ? LEGACY_MAP_MASK | MAP_SYNC : LEGACY_MAP_MASK;
      if (flags & ~mask) return -EOPNOTSUPP;
      if (prot & PROT_WRITE && !file.writable) return -EACCES;
      vmFlags |= VM_SHARED | VM_MAYSHARE;
      if (!file.writable) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
    } else if (type !== MAP_PRIVATE) {
      return -EINVAL;
    }
    if (vmFlags & VM_GROWSDOWN) return -EINVAL;
  } else {
    const type = flags & MAP_TYPE;
    if (type === MAP_SHARED) {
      if (vmFlags & VM_GROWSDOWN) return -EINVAL;
      pgoff = 0;
      vmFlags |= VM_SHARED | VM_MAYSHARE;
    } else if (type === MAP_DROPPABLE || type === MAP_PRIVATE) {
      if (type === MAP_DROPPABLE) {
        if (flags & (MAP_LOCKED | MAP_HUGETLB)) return -EINVAL;
        if (vmFlags & VM_GROWSDOWN) return -EINVAL;
        vmFlags |= DROPPABLE_FLAGS;
      }
      // Set pgoff according to addr for anon_vma.
      pgoff = addr / PAGE_SIZE;
    } else {
      return -EINVAL;
    }
  }
  if (flags & MAP_NORESERVE && !OVERCOMMIT_NEVER) vmFlags |= VM_NORESERVE;
  const fileId = file === undefined ? 0 : file.fileId;
  const res = mmapRegion(mm, fileId, addr, len, vmFlags >>> 0, pgoff, foundGap);
  // mm_populate() after MAP_LOCKED or MAP_POPULATE (not with MAP_NONBLOCK) writes private
  // writable memory in: the VMA gets an anon_vma (anon-vma.ts).
  if (
    res >= 0 &&
    (vmFlags & VM_LOCKED || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE)
  ) {
    populateVma(mm, mm.vmaLookup(res));
    populatePages(mm, res, len);
  }
  return res;
}

/**
 * The page faults of mm_populate() (populate_vma_page_range through GUP): a write fault per page
 * of a private writable mapping (to break COW), a read fault elsewhere (FOLL_FORCE: `-w-`/`--x`
 * too), nothing in a PROT_NONE or execute-only-key VMA; pages already mapped are skipped and a
 * page past the end of the file ends it (the error is not mmap's).
 */
function populatePages(mm: MmStruct, start: number, len: number): void {
  const end = start + len;
  for (let a = start; a < end; a += PAGE_SIZE) {
    const id = mm.vmaLookup(a);
    if (id === 0) return;
    const f = mm.vmas.flags(id);
    if (
      (f & VM_ACCESS_FLAGS) === 0 ||
      ((f & VM_ACCESS_FLAGS) === VM_EXEC && (f & VM_PKEY_EXEC_ONLY) !== 0)
    )
      return;
    const write = (f & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    const vp = a / PAGE_SIZE;
    if (!accessWithoutFault(mm, vp, write) && handlePageFault(mm, id, vp, write) < 0) return;
    markAccessed(mm, vp);
  }
}

/** follow_page(FOLL_TOUCH) -> folio_mark_accessed() on the page GUP returns. */
function markAccessed(mm: MmStruct, vp: number): void {
  const pool = mm.pages;
  pool.lock();
  try {
    const head = tableHead(mm, false);
    if (head !== 0) markPageAccessed(mm, head, vp);
  } finally {
    pool.unlock();
  }
}

/** round_hint_to_min(): a hint below mmap_min_addr moves up to it. */
function roundHintToMin(hint: number): number {
  const h = hint - (hint % PAGE_SIZE);
  if (h !== 0 && h < MMAP_MIN_ADDR) return MMAP_MIN_ADDR;
  return h;
}

/** calc_vm_flag_bits() (MAP_STACK means VM_NOHUGEPAGE with CONFIG_TRANSPARENT_HUGEPAGE). */
function calcVmFlagBits(flags: number): number {
  let f = 0;
  if (flags & MAP_GROWSDOWN) f |= VM_GROWSDOWN;
  if (flags & MAP_LOCKED) f |= VM_LOCKED;
  if (flags & MAP_SYNC) f |= VM_SYNC;
  if (flags & MAP_STACK && THP_ENABLED) f |= VM_NOHUGEPAGE;
  return f;
}

/** accountable_mapping(): private writable memory without VM_NORESERVE is charged. */
export function accountableMapping(vmFlags: number): boolean {
  return (vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE;
}

/**
 * mmap_region(): map [addr, addr + len) with `vmFlags`, `fileId` (0: anonymous; with VM_SHARED:
 * a fresh shmem file) and `pgoff`, replacing whatever was there. Returns addr or -errno. `gap`:
 * the free gap get_unmapped_area() just found, whose neighbours need no second lookup.
 */
export function mmapRegion(
  mm: MmStruct,
  fileId: number,
  addr: number,
  len: number,
  vmFlagsIn: number,
  pgoff: number,
  gap?: FoundGap,
): number {
  const end = addr + len;
  let vmFlags = vmFlagsIn;
  // __mmap_setup(): gather (and split around) whatever the range overlaps.
  const st = replaced.reset(addr, end);
  if (gap?.holds(mm, addr, end)) {
    // The search found [addr, end) free: nothing to gather, and the neighbours are known.
    st.prev = gap.prev;
    st.next = gap.next;
  } else {
    const first = mm.findVma(addr);
    if (first !== 0 && mm.vmas.start(first) < end) {
      const err = gatherMunmapVmas(mm, first, st);
      if (err < 0) {
        st.count = 0;
        return err;
      }
    } else {
      st.prev = mm.findVmaPrev(addr);
      st.next = first;
    }
  }
  if (accountableMapping(vmFlags)) vmFlags = (vmFlags | VM_ACCOUNT) >>> 0;
  // call_mmap_prepare(): ext4_file_mmap_prepare() refuses synchronous mappings of non-DAX files.
  // The overlapped VMAs are already closed then: Linux leaves a gap where they were.
  if (fileId !== 0 && vmFlags & VM_SYNC && !mm.files.isShmem(fileId)) {
    abortMunmap(mm, st);
    return -EOPNOTSUPP;
  }

  // Attempt to merge with adjacent VMAs...
  let vma = 0;
  if (st.prev !== 0 || st.next !== 0) {
    const g = vmg.init(mm, addr, end, vmFlags, fileId, pgoff, 0);
    g.prev = st.prev;
    g.next = st.next;
    vma = vmaMergeNewRange(g);
  }
  // ...but if we can't, allocate a new VMA.
  if (vma === 0) {
    vma = mmapNewVma(mm, fileId, addr, end, vmFlags, pgoff);
    if (vma < 0) {
      abortMunmap(mm, st);
      return vma;
    }
  }
  // __mmap_complete(): the replaced VMAs are gone from the index (overwritten): free them.
  completeMunmapVmas(mm, st);
  return addr;
}

/**
 * vms_abort_munmap_vmas() after the replaced VMAs were closed (vms_clean_up_area): the old
 * failure method of leaving a gap where the MAP_FIXED mapping failed.
 */
function abortMunmap(mm: MmStruct, st: MunmapState): void {
  if (st.count === 0) return;
  indexErase(mm, st.start, st.end);
  completeMunmapVmas(mm, st);
}

/** __mmap_new_vma(): a new record for the range; shared anonymous memory gets a shmem file. */
function mmapNewVma(
  mm: MmStruct,
  fileId: number,
  addr: number,
  end: number,
  vmFlags: number,
  pgoff: number,
): number {
  if (fileId !== 0 || (vmFlags & VM_SHARED) === 0) {
    return mmapNewRecord(mm, fileId, addr, end, vmFlags, pgoff);
  }
  const shmem = mm.createShmemFile(); // shmem_zero_setup()
  if (shmem < 0) return shmem;
  pagesShmemCreated(mm, shmem, end - addr); // the object's size: SIGBUS past it
  const id = mmapNewRecord(mm, shmem, addr, end, vmFlags, pgoff);
  mm.putFile(shmem); // the VMA holds its own reference (or none: then the file goes)
  return id;
}

/** The record of mmapNewVma, holding its own reference on `file`. */
function mmapNewRecord(
  mm: MmStruct,
  file: number,
  addr: number,
  end: number,
  vmFlags: number,
  pgoff: number,
): number {
  const id = mm.allocVma();
  if (id === 0) return -ENOMEM;
  const v = mm.vmas;
  v.setRange(id, addr, end, pgoff);
  v.setFlags(id, vmFlags);
  mm.setVmaFile(id, file);
  // Lock the VMA since it is modified after insertion into the tree (__mmap_new_vma).
  vmaStartWrite(mm, id);
  vmaMarkAttached(mm, id);
  try {
    indexStore(mm, addr, end, id);
  } catch (e) {
    if (!(e instanceof IndexFullError)) throw e;
    mm.discardVma(id);
    return -ENOMEM;
  }
  mm.mapCount = mm.mapCount + 1;
  return id;
}
