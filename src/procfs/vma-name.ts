/**
 * The name a VMA shows in /proc/PID/maps and PROCMAP_QUERY, chosen exactly as Linux 6.18's
 * `get_vma_name()` (fs/proc/task_mmu.c) does, first match wins:
 *   1. a file: its anon name (anon shmem named by prctl) as `[anon_shmem:NAME]`, else the path
 *      (d_path: ` (deleted)` appended when unlinked);
 *   2. `vm_ops->name()` (special mappings: `[vdso]`, `[vvar]`, `[vvar_vclock]`, ...);
 *   3. `arch_vma_name()` (NULL on x86-64), 4. no mm → `[vdso]` (never for a process VMA);
 *   5. the initial heap: `vm_start < brk && vm_end > start_brk` (strict, current mm.h);
 *   6. the initial stack: `vm_start <= start_stack && vm_end >= start_stack`;
 *   7. an anon name → `[anon:NAME]`;  8. no name.
 * This module is pure: it decides the kind and writes the bytes; `vma-view.ts` reads the store.
 */
import { asciiBytes, writeBytes } from './hex.js';

export const NAME_NONE = 0;
/** A file path (d_path); may be followed by ` (deleted)`. */
export const NAME_PATH = 1;
/** `[anon_shmem:NAME]`: a file VMA (anon shmem) with an anon name. */
export const NAME_ANON_SHMEM = 2;
/** A literal name from the VMA's special-mapping ops (`[vdso]`, `[vvar]`, ...). */
export const NAME_SPECIAL = 3;
export const NAME_HEAP = 4;
export const NAME_STACK = 5;
/** `[anon:NAME]`: an anonymous VMA with an anon name. */
export const NAME_ANON = 6;

export const HEAP_NAME = asciiBytes('[heap]');
export const STACK_NAME = asciiBytes('[stack]');
export const ANON_PREFIX = asciiBytes('[anon:');
export const ANON_SHMEM_PREFIX = asciiBytes('[anon_shmem:');
export const DELETED_SUFFIX = asciiBytes(' (deleted)');
const CLOSE_BRACKET = 0x5d;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/** `vma_is_initial_heap()` of current mainline (strict comparisons). */
export function isInitialHeap(start: number, end: number, startBrk: number, brk: number): boolean {
  return start < brk && end > startBrk;
}

/** `vma_is_initial_stack()`. */
export function isInitialStack(start: number, end: number, startStack: number): boolean {
  return start <= startStack && end >= startStack;
}

/** The mm header fields the [heap] and [stack] names depend on (MmStruct has them). */
export interface HeapStackBounds {
  readonly startBrk: number;
  readonly brk: number;
  readonly startStack: number;
}

/**
 * get_vma_name() of an anonymous VMA with no name op and no anon name: NAME_HEAP, NAME_STACK or
 * NAME_NONE.
 */
export function anonVmaNameKind(mm: HeapStackBounds, start: number, end: number): number {
  if (isInitialHeap(start, end, mm.startBrk, mm.brk)) return NAME_HEAP;
  if (isInitialStack(start, end, mm.startStack)) return NAME_STACK;
  return NAME_NONE;
}

/**
 * Chooses the name kind with `get_vma_name()`'s order. `hasSpecialName` = the VMA's ops have a
 * `name()` that returns non-NULL.
 */
export function selectNameKind(
  hasFile: boolean,
  hasAnonName: boolean,
  hasSpecialName: boolean,
  start: number,
  end: number,
  startBrk: number,
  brk: number,
  startStack: number,
): number {
  if (hasFile) return hasAnonName ? NAME_ANON_SHMEM : NAME_PATH;
  if (hasSpecialName) return NAME_SPECIAL;
  if (isInitialHeap(start, end, startBrk, brk)) return NAME_HEAP;
  if (isInitialStack(start, end, startStack)) return NAME_STACK;
  if (hasAnonName) return NAME_ANON;
  return NAME_NONE;
}

/**
 * Upper bound of the bytes `writeName` emits for a body of `bodyLen` bytes (a `\n` in a path
 * becomes 4 bytes).
 */
export function nameUpperBound(bodyLen: number): number {
  return bodyLen * 4 + 16;
}

/**
 * Writes the name of kind `kind` whose body is `src[from, to)` (the path, the anon name, or the
 * literal name). `escapeNewline` is the maps rule (`seq_path(..., "\n")` → octal `\012`);
 * PROCMAP_QUERY passes false (d_path output is raw). Returns the end position.
 */
export function writeName(
  buf: Uint8Array,
  pos: number,
  kind: number,
  src: Uint8Array,
  from: number,
  to: number,
  deleted: boolean,
  escapeNewline: boolean,
): number {
  let p = pos;
  switch (kind) {
    case NAME_PATH:
      if (escapeNewline) {
        for (let i = from; i < to; i++) {
          const c = src[i];
          if (c === NEWLINE) {
            // mangle_path(): '\\' then three octal digits of the byte.
            buf[p++] = BACKSLASH;
            buf[p++] = 0x30 + ((c >> 6) & 7);
            buf[p++] = 0x30 + ((c >> 3) & 7);
            buf[p++] = 0x30 + (c & 7);
          } else {
            buf[p++] = c;
          }
        }
      } else {
        p = writeBytes(buf, p, src, from, to);
      }
      if (deleted) p = writeBytes(buf, p, DELETED_SUFFIX, 0, DELETED_SUFFIX.length);
      return p;
    case NAME_ANON_SHMEM:
      p = writeBytes(buf, p, ANON_SHMEM_PREFIX, 0, ANON_SHMEM_PREFIX.length);
      p = writeBytes(buf, p, src, from, to);
      buf[p++] = CLOSE_BRACKET;
      return p;
    case NAME_ANON:
      p = writeBytes(buf, p, ANON_PREFIX, 0, ANON_PREFIX.length);
      p = writeBytes(buf, p, src, from, to);
      buf[p++] = CLOSE_BRACKET;
      return p;
    case NAME_HEAP:
      return writeBytes(buf, p, HEAP_NAME, 0, HEAP_NAME.length);
    case NAME_STACK:
      return writeBytes(buf, p, STACK_NAME, 0, STACK_NAME.length);
    case NAME_SPECIAL:
      return writeBytes(buf, p, src, from, to);
    default:
      return p;
  }
}

/** Exact number of bytes `writeName` would write (without escaping; for PROCMAP_QUERY). */
export function rawNameLength(kind: number, bodyLen: number, deleted: boolean): number {
  switch (kind) {
    case NAME_PATH:
      return bodyLen + (deleted ? DELETED_SUFFIX.length : 0);
    case NAME_ANON_SHMEM:
      return ANON_SHMEM_PREFIX.length + bodyLen + 1;
    case NAME_ANON:
      return ANON_PREFIX.length + bodyLen + 1;
    case NAME_HEAP:
      return HEAP_NAME.length;
    case NAME_STACK:
      return STACK_NAME.length;
    case NAME_SPECIAL:
      return bodyLen;
    default:
      return 0;
  }
}
