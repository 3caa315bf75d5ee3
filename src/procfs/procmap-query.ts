/**
 * PROCMAP_QUERY (`ioctl(maps_fd, PROCMAP_QUERY, &struct procmap_query)`, Linux ≥ 6.11), as
 * `do_procmap_query()` in fs/proc/task_mmu.c does it, check for check (kernel.md §2):
 *   E2BIG (size > PAGE_SIZE) → EINVAL (size < 24) → E2BIG (non-zero bytes beyond the kernel's
 *   104-byte struct) → EINVAL (unknown flags; name or build-id size/addr set without the other)
 *   → ESRCH (no live mm) → setup (lock; EINTR) → ENOENT (no match) → ENAMETOOLONG (name buffer)
 *   → teardown → build id (none is not an error; ENAMETOOLONG if the buffer is too small).
 * A `size` below 104 zero-fills the missing tail exactly as `copy_struct_from_user` does, so e.g.
 * size 24 asks for no name even if the caller filled the name fields.
 *
 * Lock-agnostic: a `QueryTarget` supplies liveness, the lock setup/teardown and the VMA lookup
 * (`query_vma_find_by_addr`) for its strategy; `directQueryTarget` (vma-capture.ts) is the one for
 * a caller that already excludes writers.
 */
import { E2BIG, EINVAL, ENAMETOOLONG, ENOENT, ESRCH } from '../mm/errno.js';
import {
  PROCMAP_QUERY,
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
  PROCMAP_QUERY_FILE_BACKED_VMA,
  PROCMAP_QUERY_STRUCT_SIZE,
  PROCMAP_QUERY_VALID_FLAGS,
  PROCMAP_QUERY_VMA_EXECUTABLE,
  PROCMAP_QUERY_VMA_READABLE,
  PROCMAP_QUERY_VMA_SHARED,
  PROCMAP_QUERY_VMA_WRITABLE,
} from '../mm/vm-flags.js';
import { NAME_NONE, NAME_PATH, rawNameLength, writeName } from './vma-name.js';
import { VmaView } from './vma-view.js';

// The uapi constants live in src/mm/vm-flags.ts (include/uapi/linux/fs.h); named here as used.
export {
  PROCMAP_QUERY as PROCMAP_QUERY_IOCTL,
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
  PROCMAP_QUERY_FILE_BACKED_VMA,
  PROCMAP_QUERY_STRUCT_SIZE,
  PROCMAP_QUERY_VALID_FLAGS as PROCMAP_QUERY_VALID_FLAGS_MASK,
  PROCMAP_QUERY_VMA_EXECUTABLE,
  PROCMAP_QUERY_VMA_READABLE,
  PROCMAP_QUERY_VMA_SHARED,
  PROCMAP_QUERY_VMA_WRITABLE,
};
/** The four bits that select by permission (and come back in `vma_flags`). */
export const PROCMAP_QUERY_VMA_FLAGS =
  PROCMAP_QUERY_VMA_READABLE |
  PROCMAP_QUERY_VMA_WRITABLE |
  PROCMAP_QUERY_VMA_EXECUTABLE |
  PROCMAP_QUERY_VMA_SHARED;
/** offsetofend(struct procmap_query, query_addr). */
export const PROCMAP_QUERY_MIN_SIZE = 24;

const PAGE_SIZE = 4096;
const PATH_MAX = 4096;
const VM_READ = 0x1;
const VM_WRITE = 0x2;
const VM_EXEC = 0x4;
const VM_MAYSHARE = 0x80;

/** The input fields of `struct procmap_query` (what user space puts in before the ioctl). */
export interface ProcmapQueryArgs {
  /** `size`: sizeof the struct as the caller knows it. */
  size: number;
  queryFlags: number;
  queryAddr: number;
  /** Name buffer size in bytes (u32); 0 = no name wanted. */
  vmaNameSize: number;
  /** Name buffer address; only whether it is zero matters here. */
  vmaNameAddr: number;
  buildIdSize: number;
  buildIdAddr: number;
  /** size > 104 only: whether the caller's bytes beyond offset 104 contain a non-zero byte. */
  trailingNonZero?: boolean;
}

/** The output fields, plus the name and build-id bytes the kernel would copy to the buffers. */
export class ProcmapQueryResult {
  vmaStart = 0;
  vmaEnd = 0;
  vmaFlags = 0;
  vmaPageSize = 0;
  vmaOffset = 0;
  inode = 0;
  devMajor = 0;
  devMinor = 0;
  /** Bytes written to the name buffer incl. the NUL; 0 = the VMA has no name (or none asked). */
  vmaNameSize = 0;
  /** Build-ID length; 0 = none (or none asked). */
  buildIdSize = 0;
  /** The raw name (no `\012` escaping, no NUL), valid when vmaNameSize > 0 and `nameCopied`. */
  name: Uint8Array = new Uint8Array(PATH_MAX);
  /**
   * For callers that cache names (QueryScratch.knownName): whether the name has a key naming its
   * text (a file path: `nameKey` = file serial × 2 + deleted), and whether its bytes were copied
   * into `name` (false: the caller said it knows that key's text).
   */
  nameKeyed = false;
  nameKey = 0;
  nameCopied = true;
  /** Build-ID bytes when buildIdSize > 0. */
  buildId: Uint8Array | null = null;

  /** The name as a string (UTF-8), or null when there is none. */
  nameString(): string | null {
    if (this.vmaNameSize === 0) return null;
    return decodedName(this.name, this.vmaNameSize - 1);
  }
}

/**
 * Names decoded lately, by a hash of their bytes (a batch of queries meets a handful of names;
 * decoding one costs ~300 ns, hashing and comparing its bytes far less). Per thread, bounded.
 */
const decodedNames = new Map<number, { bytes: Uint8Array; text: string }>();
const DECODED_NAMES_MAX = 1024;

function decodedName(name: Uint8Array, n: number): string {
  let h = n;
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + name[i]) | 0;
  const hit = decodedNames.get(h);
  if (hit !== undefined && hit.bytes.length === n) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = hit.bytes[i] === name[i];
    if (same) return hit.text;
  }
  const text = Buffer.from(name.buffer, name.byteOffset, n).toString('utf8');
  if (decodedNames.size >= DECODED_NAMES_MAX) decodedNames.clear();
  decodedNames.set(h, { bytes: name.slice(0, n), text });
  return text;
}

/** What a strategy provides to run one query against one address space. */
export interface QueryTarget {
  /** `mm && mmget_not_zero(mm)`: false once the process has exited. */
  alive(): boolean;
  /** `query_vma_setup()`: 0 or -errno (e.g. -EINTR from a killable lock). */
  setup(): number;
  /** `query_vma_find_by_addr()`: first VMA with vm_end > addr into `view`; 1, 0 (none), or -errno. */
  next(addr: number, view: VmaView): number;
  /** `query_vma_teardown()`: drop whatever setup/next took. */
  teardown(): void;
  /** The build ID of a file (read after teardown, as the kernel does), or null if it has none. */
  buildId(fileId: number): Uint8Array | null;
}

/** The kernel's view of the args after `copy_struct_from_user` of `size` bytes (little-endian). */
interface KernelArgs {
  flags: number;
  addr: number;
  nameSize: number;
  nameAddr: number;
  buildIdSize: number;
  buildIdAddr: number;
}

/** Keeps the low `bytes` bytes of a little-endian field (the part copied from user space). */
function lowBytes(v: number, bytes: number): number {
  if (bytes <= 0) return 0;
  if (bytes >= 8) return v;
  const mod = 2 ** (bytes * 8);
  return v % mod;
}

/**
 * Field offsets: query_flags 8, query_addr 16, vma_name_size 80 (u32), build_id_size 84 (u32),
 * vma_name_addr 88, build_id_addr 96.
 */
function kernelArgs(a: ProcmapQueryArgs, out: KernelArgs): void {
  const n = Math.min(a.size, PROCMAP_QUERY_STRUCT_SIZE);
  out.flags = a.queryFlags;
  out.addr = a.queryAddr;
  if (n === PROCMAP_QUERY_STRUCT_SIZE) {
    out.nameSize = a.vmaNameSize;
    out.buildIdSize = a.buildIdSize;
    out.nameAddr = a.vmaNameAddr;
    out.buildIdAddr = a.buildIdAddr;
    return;
  }
  out.nameSize = lowBytes(a.vmaNameSize, n - 80);
  out.buildIdSize = lowBytes(a.buildIdSize, n - 84);
  out.nameAddr = lowBytes(a.vmaNameAddr, n - 88);
  out.buildIdAddr = lowBytes(a.buildIdAddr, n - 96);
}

/**
 * Steps 2–6 of `do_procmap_query()` (everything before the mm is touched). Returns 0 or -errno;
 * fills `k` with the fields the kernel will use.
 */
function checkArgs(a: ProcmapQueryArgs, k: KernelArgs): number {
  if (a.size > PAGE_SIZE) return -E2BIG;
  if (a.size < PROCMAP_QUERY_MIN_SIZE) return -EINVAL;
  if (a.size > PROCMAP_QUERY_STRUCT_SIZE && a.trailingNonZero) return -E2BIG;
  kernelArgs(a, k);
  if (k.flags < 0 || !Number.isInteger(k.flags) || k.flags > PROCMAP_QUERY_VALID_FLAGS) {
    return -EINVAL;
  }
  if ((k.nameSize !== 0) !== (k.nameAddr !== 0)) return -EINVAL;
  if ((k.buildIdSize !== 0) !== (k.buildIdAddr !== 0)) return -EINVAL;
  return 0;
}

/** PROCMAP_QUERY_VMA_* filter bits → the VM_* bits they require. */
function requiredVmFlags(flags: number): number {
  let perm = 0;
  if (flags & PROCMAP_QUERY_VMA_READABLE) perm |= VM_READ;
  if (flags & PROCMAP_QUERY_VMA_WRITABLE) perm |= VM_WRITE;
  if (flags & PROCMAP_QUERY_VMA_EXECUTABLE) perm |= VM_EXEC;
  if (flags & PROCMAP_QUERY_VMA_SHARED) perm |= VM_MAYSHARE;
  return perm;
}

/**
 * `query_matching_vma()`: returns 1 with the match in `view`, or -errno (ENOENT, or what the
 * lookup returned).
 */
export function queryMatchingVma(
  target: Pick<QueryTarget, 'next'>,
  addr: number,
  flags: number,
  view: VmaView,
): number {
  const perm = requiredVmFlags(flags);
  const coveringOrNext = (flags & PROCMAP_QUERY_COVERING_OR_NEXT_VMA) !== 0;
  const fileBacked = (flags & PROCMAP_QUERY_FILE_BACKED_VMA) !== 0;
  for (;;) {
    const r = target.next(addr, view);
    if (r < 0) return r;
    if (r === 0) return -ENOENT;
    const matches = !(fileBacked && !view.hasFile) && (view.flags & perm) === perm;
    if (matches && (coveringOrNext || view.start <= addr)) return 1;
    // skip_vma: keep iterating only when the caller accepts the next VMA.
    if (!coveringOrNext) return -ENOENT;
    addr = view.end;
  }
}

/** Fills the result's VMA fields from the matched view (everything but name and build id). */
function fillVmaFields(v: VmaView, out: ProcmapQueryResult): void {
  out.vmaStart = v.start;
  out.vmaEnd = v.end;
  let f = 0;
  if (v.flags & VM_READ) f |= PROCMAP_QUERY_VMA_READABLE;
  if (v.flags & VM_WRITE) f |= PROCMAP_QUERY_VMA_WRITABLE;
  if (v.flags & VM_EXEC) f |= PROCMAP_QUERY_VMA_EXECUTABLE;
  if (v.flags & VM_MAYSHARE) f |= PROCMAP_QUERY_VMA_SHARED;
  out.vmaFlags = f;
  out.vmaPageSize = PAGE_SIZE; // vma_kernel_pagesize(): no hugetlb VMAs in the simulation
  if (v.hasFile) {
    out.vmaOffset = v.pgoff * PAGE_SIZE;
    out.devMajor = v.devMajor;
    out.devMinor = v.devMinor;
    out.inode = v.inode;
  } else {
    out.vmaOffset = 0;
    out.devMajor = 0;
    out.devMinor = 0;
    out.inode = 0;
  }
}

/**
 * The name part: `name_sz` = name length + 1 (NUL) must fit in min(PATH_MAX, vma_name_size),
 * else ENAMETOOLONG (d_path's failure for a path; the snprintf check for other names).
 */
function fillName(
  v: VmaView,
  nameBufSize: number,
  out: ProcmapQueryResult,
  knownName: ((key: number) => boolean) | null,
): number {
  if (v.nameKind === NAME_NONE) {
    out.vmaNameSize = 0;
    return 0;
  }
  const bufSize = Math.min(PATH_MAX, nameBufSize);
  const len = rawNameLength(v.nameKind, v.nameTo - v.nameFrom, v.deleted);
  if (len + 1 > bufSize) return -ENAMETOOLONG;
  out.vmaNameSize = len + 1;
  // A path's text is fixed for its file serial (and deleted flag), read here under the lock.
  out.nameKeyed = v.nameKind === NAME_PATH;
  out.nameKey = v.fileSerial * 2 + (v.deleted ? 1 : 0);
  out.nameCopied = !(out.nameKeyed && knownName?.(out.nameKey));
  if (out.nameCopied) {
    writeName(out.name, 0, v.nameKind, v.nameSrc, v.nameFrom, v.nameTo, v.deleted, false);
  }
  return 0;
}

/** Scratch state of one querying thread (no allocation per query). */
export class QueryScratch {
  readonly view = new VmaView();
  readonly k: KernelArgs = {
    flags: 0,
    addr: 0,
    nameSize: 0,
    nameAddr: 0,
    buildIdSize: 0,
    buildIdAddr: 0,
  };
  /**
   * Set by a caller that caches names by key (ProcmapQueryResult.nameKey): a name whose key this
   * says is known is not copied into the result (its length is still checked).
   */
  knownName: ((key: number) => boolean) | null = null;
}

const defaultScratch = new QueryScratch();

/**
 * One PROCMAP_QUERY. Returns 0 (answer in `out`) or -errno. `out` fields are meaningful only on
 * success. A result struct shorter than 104 bytes (size < 104) is the caller's to truncate.
 */
export function procmapQuery(
  args: ProcmapQueryArgs,
  target: QueryTarget,
  out: ProcmapQueryResult,
  scratch: QueryScratch = defaultScratch,
): number {
  const k = scratch.k;
  const view = scratch.view;
  let err = checkArgs(args, k);
  if (err) return err;
  if (!target.alive()) return -ESRCH;
  err = target.setup();
  if (err) return err;
  err = queryMatchingVma(target, k.addr, k.flags, view);
  if (err < 0) {
    target.teardown();
    return err;
  }
  fillVmaFields(view, out);
  out.vmaNameSize = 0;
  if (k.nameSize !== 0) {
    err = fillName(view, k.nameSize, out, scratch.knownName);
    if (err) {
      target.teardown();
      return err;
    }
  }
  const fileId = view.hasFile ? view.fileId : 0;
  // The kernel pins vm_file, drops the VMA/mmap lock, then parses the build id and copies out.
  // Here the build id is read before the drop: the file entry may be reclaimed (and its slot
  // reused) once no lock or RCU section protects the VMA that referenced it.
  const id = k.buildIdSize !== 0 && fileId !== 0 ? target.buildId(fileId) : null;
  target.teardown();
  out.buildIdSize = 0;
  out.buildId = null;
  if (k.buildIdSize !== 0) {
    if (id !== null && id.length > 0) {
      if (k.buildIdSize < id.length) return -ENAMETOOLONG;
      out.buildIdSize = id.length;
      out.buildId = id;
    }
  }
  return 0;
}

/** Args for the common case (a 104-byte struct, buffers given when wanted). */
export function queryArgs(
  addr: number,
  flags: number,
  wantName: boolean,
  wantBuildId: boolean,
): ProcmapQueryArgs {
  const a: ProcmapQueryArgs = {
    size: PROCMAP_QUERY_STRUCT_SIZE,
    queryFlags: 0,
    queryAddr: 0,
    vmaNameSize: 0,
    vmaNameAddr: 0,
    buildIdSize: 0,
    buildIdAddr: 0,
    trailingNonZero: false,
  };
  return setQueryArgs(a, addr, flags, wantName, wantBuildId);
}

/** `queryArgs` into an existing args object (a batch reuses one); returns it. */
export function setQueryArgs(
  a: ProcmapQueryArgs,
  addr: number,
  flags: number,
  wantName: boolean,
  wantBuildId: boolean,
): ProcmapQueryArgs {
  a.size = PROCMAP_QUERY_STRUCT_SIZE;
  a.queryFlags = flags;
  a.queryAddr = addr;
  a.vmaNameSize = wantName ? PATH_MAX : 0;
  a.vmaNameAddr = wantName ? 1 : 0;
  a.buildIdSize = wantBuildId ? 20 : 0;
  a.buildIdAddr = wantBuildId ? 1 : 0;
  a.trailingNonZero = false;
  return a;
}
