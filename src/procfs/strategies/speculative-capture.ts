/**
 * `captureVma` for a reader that holds no lock on the record (the lockless strategies): the same
 * get_vma_name() order (vma-capture.ts), but the record's anon-name handle and ops are the values
 * the caller already read (so the decision to fall back and the capture agree), the special
 * mapping's name op is checked and then "called" in two separate reads like
 * `vma->vm_ops->name(vma)`, and anon-name bytes may be left in the shared table (by reference)
 * for a caller that formats straight from it. Everything read may be torn or stale: the caller
 * validates afterwards (mm sequence, and the anon-name slot's generation for use-after-free).
 */
import type { MmStruct } from '../../mm/mm-struct.js';
import { OPS_NONE, SPECIAL_MAPPINGS } from '../../mm/special-mappings.js';
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
} from '../vma-name.js';
import type { VmaView } from '../vma-view.js';
import type { ReaderContext } from './reader-context.js';

/** The VMA's name op was found set, but gone (dummy ops) when called: Jann Horn's race. */
export const SPEC_NULL_DEREF = 1;

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
 * Fills `view` from record `id` using the already-read `anon` handle and `ops` value. Returns 0
 * or SPEC_NULL_DEREF. Whether an anon name was read from freed storage is for the caller to
 * check after its last use of the bytes (`mm.anonNames.isLive(anon)`).
 */
export function captureSpeculative(
  ctx: ReaderContext,
  mm: MmStruct,
  id: number,
  view: VmaView,
  anon: number,
  ops: number,
  copyName: boolean,
): number {
  const t = mm.vmas;
  view.id = id;
  const start = t.start(id);
  const end = t.end(id);
  view.start = start;
  view.end = end;
  view.flags = t.flags(id);
  view.deleted = false;
  const file = t.file(id);
  if (file !== 0) {
    const files = mm.files; // append-only: safe to read at any time
    view.hasFile = true;
    view.fileId = file;
    view.pgoff = t.pgoff(id);
    view.devMajor = files.devMajor(file);
    view.devMinor = files.devMinor(file);
    view.inode = files.inode(file);
    if (anon !== 0) {
      view.nameKind = NAME_ANON_SHMEM;
      anonNameInto(mm, anon, view, copyName);
    } else {
      view.nameKind = NAME_PATH;
      const off = files.pathOffset(file);
      view.nameSrc = files.bytes;
      view.nameFrom = off;
      view.nameTo = off + files.pathLength(file);
      view.deleted = files.deleted(file);
    }
    return 0;
  }
  view.hasFile = false;
  view.fileId = 0;
  view.pgoff = 0;
  view.devMajor = 0;
  view.devMinor = 0;
  view.inode = 0;
  if (ops !== OPS_NONE && (SPECIAL_MAPPINGS[ops]?.nameBytes ?? null) !== null) {
    // `if (vma->vm_ops && vma->vm_ops->name)` passed; the call re-reads vm_ops.
    ctx.hooks?.beforeNameCall?.(mm, id);
    const called = SPECIAL_MAPPINGS[t.ops(id)]?.nameBytes ?? null;
    if (called === null) {
      view.nameKind = NAME_NONE; // the kernel would have jumped to NULL here
      return SPEC_NULL_DEREF;
    }
    view.nameKind = NAME_SPECIAL;
    view.nameSrc = called;
    view.nameFrom = 0;
    view.nameTo = called.length;
  } else if (isInitialHeap(start, end, mm.startBrk, mm.brk)) {
    view.nameKind = NAME_HEAP;
  } else if (isInitialStack(start, end, mm.startStack)) {
    view.nameKind = NAME_STACK;
  } else if (anon !== 0) {
    view.nameKind = NAME_ANON;
    anonNameInto(mm, anon, view, copyName);
  } else {
    view.nameKind = NAME_NONE;
  }
  return 0;
}

/** Whether the view's name came from anon-name storage (so its slot must be checked). */
export function usesAnonName(view: VmaView): boolean {
  return view.nameKind === NAME_ANON || view.nameKind === NAME_ANON_SHMEM;
}
