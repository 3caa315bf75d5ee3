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
import type { MmStruct } from '../mm/mm-struct.js';
import { SPECIAL_MAPPINGS } from '../mm/special-mappings.js';
import type { MapsWalker } from './maps-text.js';
import type { QueryTarget } from './procmap-query.js';
import {
  isInitialHeap,
  isInitialStack,
  NAME_ANON,
  NAME_ANON_SHMEM,
  NAME_HEAP,
  NAME_NONE,
  NAME_PATH,
  NAME_SPECIAL,
  NAME_STACK,
} from './vma-name.js';
import type { VmaView } from './vma-view.js';

/** Copies the anon name of `handle` into the view's own buffer (the storage may be freed later). */
function copyAnonName(mm: MmStruct, handle: number, view: VmaView): void {
  const names = mm.anonNames;
  const off = names.nameOffset(handle);
  const len = names.nameLength(handle);
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
 * tables with plain loads: the caller guarantees they are stable or validates afterwards.
 */
export function captureVma(mm: MmStruct, id: number, view: VmaView): void {
  const t = mm.vmas;
  view.id = id;
  const start = t.start(id);
  const end = t.end(id);
  view.start = start;
  view.end = end;
  view.flags = t.flags(id);
  view.deleted = false;
  const file = t.file(id);
  const anon = t.anonName(id);
  if (file !== 0) {
    const files = mm.files;
    view.hasFile = true;
    view.fileId = file;
    view.pgoff = t.pgoff(id);
    view.devMajor = files.devMajor(file);
    view.devMinor = files.devMinor(file);
    view.inode = files.inode(file);
    if (anon !== 0) {
      view.nameKind = NAME_ANON_SHMEM;
      copyAnonName(mm, anon, view);
    } else {
      view.nameKind = NAME_PATH;
      const off = files.pathOffset(file);
      view.nameSrc = files.bytes;
      view.nameFrom = off;
      view.nameTo = off + files.pathLength(file);
      view.deleted = files.deleted(file);
    }
    return;
  }
  view.hasFile = false;
  view.fileId = 0;
  view.pgoff = 0;
  view.devMajor = 0;
  view.devMinor = 0;
  view.inode = 0;
  const special = SPECIAL_MAPPINGS[t.ops(id)]?.nameBytes ?? null;
  if (special !== null) {
    view.nameKind = NAME_SPECIAL;
    view.nameSrc = special;
    view.nameFrom = 0;
    view.nameTo = special.length;
  } else if (isInitialHeap(start, end, mm.startBrk, mm.brk)) {
    view.nameKind = NAME_HEAP;
  } else if (isInitialStack(start, end, mm.startStack)) {
    view.nameKind = NAME_STACK;
  } else if (anon !== 0) {
    view.nameKind = NAME_ANON;
    copyAnonName(mm, anon, view);
  } else {
    view.nameKind = NAME_NONE;
  }
}

/**
 * A walker with no locking of its own (the caller holds the mmap read lock or excludes writers
 * for the whole chunk). Within a chunk it iterates with an index cursor (vma_next: O(1) per VMA)
 * instead of a root-to-leaf lookup per line; the cursor is dropped at every chunk start.
 */
export function directMapsWalker(mm: MmStruct): MapsWalker {
  const cursor = mm.index.cursor();
  // End of the VMA the cursor is on (-1: no valid cursor).
  let cursorEnd = -1;
  return {
    // x86-64 always has the vsyscall gate VMA; the store has no per-mm "no gate" flag (yet).
    hasGate: true,
    beginChunk() {
      cursorEnd = -1;
    },
    next(from: number, view: VmaView): number {
      const found = from === cursorEnd ? cursor.next() : cursor.seek(from);
      if (!found) {
        cursorEnd = -1;
        return 0;
      }
      cursorEnd = cursor.end;
      captureVma(mm, cursor.id, view);
      return 1;
    },
  };
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
    buildId: (fileId: number) => mm.files.buildId(fileId),
  };
}
