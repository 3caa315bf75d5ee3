// TEMPORARY stand-ins for src/mm/import-maps.ts and src/procfs/vma-capture.ts while those modules
// are being written (so the differential test can run against the syscalls already). Minimal on
// purpose: enough for the helper's layout (file, anon, [heap], [stack], [vvar]/[vvar_vclock]/
// [vdso], [vsyscall]). Delete when the real modules land.

import {
  KIND_GATE,
  KIND_PATH,
  KIND_SPECIAL,
  KIND_STACK,
  parseMaps,
} from '../../src/mm/maps-parse.js';
import { type MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { SPECIAL_MAPPINGS } from '../../src/mm/special-mappings.js';
import { vmaMarkAttached } from '../../src/mm/syscalls/vma-lock-hooks.js';
import {
  VM_ACCOUNT,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from '../../src/mm/vm-flags.js';
import type { MapsWalker } from '../../src/procfs/maps-text.js';
import type { QueryTarget } from '../../src/procfs/procmap-query.js';
import {
  isInitialHeap,
  isInitialStack,
  NAME_HEAP,
  NAME_NONE,
  NAME_PATH,
  NAME_SPECIAL,
  NAME_STACK,
} from '../../src/procfs/vma-name.js';
import type { VmaView } from '../../src/procfs/vma-view.js';

const PAGE = 4096;
const EMPTY = new Uint8Array(0);

export function importMapsShim(text: string, opts: { globals: MmGlobals }): MmStruct {
  const mm = MmStruct.create({ globals: opts.globals });
  let count = 0;
  for (const l of parseMaps(text)) {
    if (l.kind === KIND_GATE) continue;
    const id = mm.allocVma();
    let flags = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (l.read) flags |= VM_READ;
    if (l.write) flags |= VM_WRITE;
    if (l.exec) flags |= VM_EXEC;
    if (l.shared) flags |= VM_SHARED | VM_MAYSHARE;
    let pgoff = l.start / PAGE;
    let file = 0;
    let ops = 0;
    if (l.kind === KIND_PATH) {
      file = mm.files.intern({
        path: l.name,
        devMajor: l.devMajor,
        devMinor: l.devMinor,
        inode: l.inode,
      });
      pgoff = l.offset / PAGE;
    } else if (l.kind === KIND_SPECIAL) {
      const sm = SPECIAL_MAPPINGS.find((s) => s.name === l.name);
      if (!sm) throw new Error(`shim: unknown special ${l.name}`);
      ops = sm.ops;
      flags = sm.vmFlags;
    } else if (l.kind === KIND_STACK) {
      flags |= VM_GROWSDOWN | VM_ACCOUNT;
    } else if (l.write && !l.shared) {
      flags |= VM_ACCOUNT;
    }
    mm.vmas.setRange(id, l.start, l.end, pgoff);
    mm.vmas.setFlags(id, flags);
    mm.vmas.setFile(id, file);
    mm.vmas.setOps(id, ops);
    vmaMarkAttached(mm, id);
    mm.indexStore(id);
    count++;
  }
  mm.mapCount = count;
  return mm;
}

function capture(mm: MmStruct, id: number, view: VmaView): void {
  const v = mm.vmas;
  view.id = id;
  view.start = v.start(id);
  view.end = v.end(id);
  view.flags = v.flags(id);
  const file = v.file(id);
  view.hasFile = file !== 0;
  view.fileId = file;
  view.pgoff = file ? v.pgoff(id) : 0;
  view.devMajor = file ? mm.files.devMajor(file) : 0;
  view.devMinor = file ? mm.files.devMinor(file) : 0;
  view.inode = file ? mm.files.inode(file) : 0;
  view.deleted = file ? mm.files.deleted(file) : false;
  view.nameSrc = EMPTY;
  view.nameFrom = 0;
  view.nameTo = 0;
  if (v.anonName(id) !== 0) throw new Error('shim: anon names not supported');
  const special = SPECIAL_MAPPINGS[v.ops(id)]?.nameBytes ?? null;
  if (file) {
    view.nameKind = NAME_PATH;
    view.nameSrc = mm.files.bytes;
    view.nameFrom = mm.files.pathOffset(file);
    view.nameTo = view.nameFrom + mm.files.pathLength(file);
  } else if (special) {
    view.nameKind = NAME_SPECIAL;
    view.nameSrc = special;
    view.nameTo = special.length;
  } else if (isInitialHeap(view.start, view.end, mm.startBrk, mm.brk)) {
    view.nameKind = NAME_HEAP;
  } else if (isInitialStack(view.start, view.end, mm.startStack)) {
    view.nameKind = NAME_STACK;
  } else {
    view.nameKind = NAME_NONE;
  }
}

export function directMapsWalkerShim(mm: MmStruct): MapsWalker {
  return {
    hasGate: true,
    next(from: number, view: VmaView): number {
      const id = mm.findVma(from);
      if (id === 0) return 0;
      capture(mm, id, view);
      return 1;
    },
  };
}

export function directQueryTargetShim(mm: MmStruct): QueryTarget {
  return {
    alive: () => true,
    setup: () => 0,
    next(addr: number, view: VmaView): number {
      const id = mm.findVma(addr);
      if (id === 0) return 0;
      capture(mm, id, view);
      return 1;
    },
    teardown: () => {},
    buildId: (fileId: number) => mm.files.buildId(fileId),
  };
}
