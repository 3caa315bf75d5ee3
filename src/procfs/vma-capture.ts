/**
 * The binding between the shared-memory store (src/mm) and the readers: `captureVma` copies one
 * VMA record into a `VmaView` exactly as `show_map_vma()` / `do_procmap_query()` read it, and the
 * *direct* walker/target use `MmStruct.findVma` with no locking of their own.
 *
 * Locking is the caller's: the direct walker/target are correct when the caller holds the mmap
 * read lock (the `mmap_lock` strategy: one lock window per chunk / per query) or otherwise
 * excludes writers (tests, single-threaded tools). Strategies that lock per VMA or speculate
 * build their own `MapsWalker`/`QueryTarget` around `findVma` + `captureVma` (+ validation).
 */
import {
  VMA_F64_ANON_NAME,
  VMA_F64_END,
  VMA_F64_START,
  VMA_I32_FILE,
  VMA_I32_FLAGS,
  VMA_I32_OPS,
} from '../mm/arena-layout.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { pagesBuildIdRead } from '../mm/pages/page-hooks.js';
import { OPS_NONE, SPECIAL_MAPPINGS } from '../mm/special-mappings.js';
import { VMA_W32, VMA_W64 } from '../mm/vma-table.js';
import type { ByteSink } from './byte-sink.js';
import type { MapsLineMemo } from './maps-line-memo.js';
import {
  LINE_WRITTEN,
  type MapsPosition,
  type MapsWalker,
  RUN_FULL,
  RUN_HANDED,
} from './maps-text.js';
import type { QueryTarget } from './procmap-query.js';
import {
  anonVmaNameKind,
  NAME_ANON,
  NAME_ANON_SHMEM,
  NAME_NONE,
  NAME_PATH,
  NAME_SPECIAL,
} from './vma-name.js';
import type { VmaView } from './vma-view.js';

/** captureVmaAs: the VMA's name op was found set, but gone (dummy ops) when "called". */
export const CAPTURE_NULL_DEREF = 1;

/** Points the view at anon-name storage of `handle`, or copies it (`copy`). Plain loads. */
function anonNameInto(mm: MmStruct, handle: number, view: VmaView, copy: boolean): void {
  const names = mm.anonNames;
  const off = names.nameOffset(handle);
  const len = names.nameLength(handle); // clamped to the slot, however torn
  if (!copy) {
    view.nameSrc = names.bytes;
    view.nameFrom = off;
    view.nameTo = off + len;
    return;
  }
  const src = names.bytes;
  const dst = view.ownName;
  for (let i = 0; i < len; i++) dst[i] = src[off + i];
  view.nameSrc = dst;
  view.nameFrom = 0;
  view.nameTo = len;
}

/**
 * Fills `view` from VMA record `id` of `mm`, choosing the name with get_vma_name()'s order
 * (vma-name.ts). Reads the record, the mm header (brk, start_brk, start_stack) and the global
 * tables with plain loads: the caller guarantees they are stable (a lock) or validates
 * afterwards.
 */
export function captureVma(mm: MmStruct, id: number, view: VmaView): void {
  const t = mm.vmas;
  const anon = t.f64[t.base64 + id * VMA_W64 + VMA_F64_ANON_NAME];
  const ops = t.i32[t.base32 + id * VMA_W32 + VMA_I32_OPS];
  captureVmaAs(mm, id, view, anon, ops, true, undefined);
}

/**
 * captureVma for a reader that holds no lock on the record (the lockless strategies): the
 * record's anon-name handle and ops are the values the caller already read (so its decision to
 * fall back and the capture agree); the special mapping's name op is checked and then "called"
 * in two separate reads like `vma->vm_ops->name(vma)` (`beforeNameCall` is a test point between
 * them); anon-name bytes may be left in the shared table (`copyName` false) for a caller that
 * formats straight from them. Everything read may be torn or stale: the caller validates (mm
 * sequence; `mm.anonNames.isLive(anon)` after its last use of the name bytes). Returns 0 or
 * CAPTURE_NULL_DEREF.
 */
export function captureVmaAs(
  mm: MmStruct,
  id: number,
  view: VmaView,
  anon: number,
  ops: number,
  copyName: boolean,
  beforeNameCall: ((mm: MmStruct, id: number) => void) | undefined,
): number {
  // Sized for V8's inliner: the common cases (a file with its path; an anonymous VMA with no
  // name op and no anon name) are here, the rest in functions of their own (at 550+ bytes of
  // bytecode this was never inlined), and the record's fields are read directly rather than
  // through VmaTable's accessors (each inlined accessor counts against the caller's budget,
  // which the per_vma lock path needs).
  const t = mm.vmas;
  const r64 = t.base64 + id * VMA_W64;
  const r32 = t.base32 + id * VMA_W32;
  view.id = id;
  const start = t.f64[r64 + VMA_F64_START];
  const end = t.f64[r64 + VMA_F64_END];
  view.start = start;
  view.end = end;
  view.flags = t.u32[r32 + VMA_I32_FLAGS];
  view.deleted = false;
  const file = t.i32[r32 + VMA_I32_FILE];
  if (file !== 0) {
    captureFile(mm, id, file, view, anon, copyName);
    return 0;
  }
  view.hasFile = false;
  view.fileId = 0;
  view.fileSerial = 0;
  view.pgoff = 0;
  view.devMajor = 0;
  view.devMinor = 0;
  view.inode = 0;
  if (ops === OPS_NONE && anon === 0) {
    view.nameKind = anonVmaNameKind(mm, start, end);
    return 0;
  }
  const r = captureOtherName(mm, view, ops, beforeNameCall);
  if (r === 0 && anon !== 0 && view.nameKind === NAME_NONE) {
    view.nameKind = NAME_ANON;
    anonNameInto(mm, anon, view, copyName);
  }
  return r;
}

/** captureVmaAs of a file-backed VMA (`file`): the file's fields, then its path or anon name. */
function captureFile(
  mm: MmStruct,
  id: number,
  file: number,
  view: VmaView,
  anon: number,
  copyName: boolean,
): void {
  const files = mm.files;
  view.hasFile = true;
  view.fileId = file;
  view.pgoff = mm.vmas.pgoff(id);
  files.readPrinted(file, view);
  if (anon !== 0) {
    view.deleted = false;
    view.nameKind = NAME_ANON_SHMEM;
    anonNameInto(mm, anon, view, copyName);
    return;
  }
  view.nameKind = NAME_PATH;
  view.nameSrc = files.bytes;
}

/**
 * get_vma_name() of an anonymous VMA with a special mapping's ops (or an anon name, which the
 * caller adds when this finds no other name): the name op, then [heap] / [stack]. Returns 0 or
 * CAPTURE_NULL_DEREF.
 */
function captureOtherName(
  mm: MmStruct,
  view: VmaView,
  ops: number,
  beforeNameCall: ((mm: MmStruct, id: number) => void) | undefined,
): number {
  if (ops !== OPS_NONE && (SPECIAL_MAPPINGS[ops]?.nameBytes ?? null) !== null) {
    // `if (vma->vm_ops && vma->vm_ops->name)` passed; the call re-reads vm_ops.
    beforeNameCall?.(mm, view.id);
    const called = SPECIAL_MAPPINGS[mm.vmas.ops(view.id)]?.nameBytes ?? null;
    if (called === null) {
      view.nameKind = NAME_NONE; // the kernel would have jumped to NULL here
      return CAPTURE_NULL_DEREF;
    }
    view.nameKind = NAME_SPECIAL;
    view.nameSrc = called;
    view.nameFrom = 0;
    view.nameTo = called.length;
    return 0;
  }
  view.nameKind = anonVmaNameKind(mm, view.start, view.end);
  return 0;
}

/** Whether the view's name came from anon-name storage (so its slot must be checked). */
export function usesAnonName(view: VmaView): boolean {
  return view.nameKind === NAME_ANON || view.nameKind === NAME_ANON_SHMEM;
}

/**
 * A walker with no locking of its own (the caller holds the mmap read lock or excludes writers
 * for the whole chunk, so the memo may stamp the lines it matches). Within a chunk it iterates
 * with an index cursor (vma_next: O(1) per VMA) instead of a root-to-leaf lookup per line; the
 * cursor is dropped at every chunk start.
 */
export function directMapsWalker(mm: MmStruct): MapsWalker {
  const cursor = mm.index.cursor();
  // End of the VMA the cursor is on (-1: no valid cursor).
  let cursorEnd = -1;
  // The VMA `copyRun` found last, for `next` to show (0: there was none; -1: unset).
  let handed = -1;
  const find = {
    /** vma_next: the first VMA with vm_end > from (0: none). */
    next(from: number): number {
      const found = from === cursorEnd ? cursor.next() : cursor.seek(from);
      if (!found) {
        cursorEnd = -1;
        return 0;
      }
      cursorEnd = cursor.end;
      return cursor.id;
    },
  };
  return {
    // x86-64 always has the vsyscall gate VMA; the store has no per-mm "no gate" flag (yet).
    hasGate: true,
    beginChunk() {
      cursorEnd = -1;
      handed = -1;
    },
    next(from: number, view: VmaView, sink: ByteSink, lines: MapsLineMemo | null): number {
      let id = handed;
      if (id < 0) id = find.next(from);
      else handed = -1;
      if (id === 0) return 0;
      if (lines?.writeIfUnchanged(sink, mm, id, view, true)) return LINE_WRITTEN;
      captureVma(mm, id, view);
      return 1;
    },
    copyRun(pos: MapsPosition, sink: ByteSink, lines: MapsLineMemo, end: number, first: boolean) {
      const r = lines.copyRun(find, mm, pos, sink, end, first);
      if (r === RUN_FULL) return RUN_FULL;
      handed = r;
      return RUN_HANDED;
    },
  };
}

/**
 * PROCMAP_QUERY's build id of file `fileId` (null: none), read as the kernel reads it: through
 * the page cache, which marks the file's first page accessed (pagesBuildIdRead). The caller
 * still protects the VMA that maps the file.
 */
export function queryBuildId(mm: MmStruct, fileId: number): Uint8Array | null {
  pagesBuildIdRead(mm, fileId);
  return mm.files.buildId(fileId);
}

/**
 * A query target with no locking of its own. `alive` is `mmget_not_zero` (default: the mm is
 * alive while the caller has it).
 */
export function directQueryTarget(mm: MmStruct, alive: () => boolean = () => true): QueryTarget {
  return {
    alive,
    setup: () => 0,
    next(addr: number, view: VmaView): number {
      const id = mm.findVma(addr);
      if (id === 0) return 0;
      captureVma(mm, id, view);
      return 1;
    },
    teardown() {},
    buildId: (fileId: number) => queryBuildId(mm, fileId),
  };
}
