// Test helpers for the syscall tests: a fresh address space and a compact, independent dump of
// its VMAs (start-end, rwxp/s, VM_ACCOUNT, pgoff, file, anon name) to compare against.

import { MmGlobals, MmStruct } from '../../../src/mm/mm-struct.js';
import type { ThpMode } from '../../../src/mm/pages/thp.js';
import { VM_ACCOUNT, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from '../../../src/mm/vm-flags.js';

/** x86-64 TASK_SIZE minus 128 MiB: mmap_base of a process without randomisation. */
export const MMAP_BASE = 0x7fff_ffff_f000 - 128 * 1024 * 1024;
/** A sandbox far from mmap_base where tests place MAP_FIXED mappings. */
export const SANDBOX = 0x1000_0000_0000;
export const PAGE = 4096;

/**
 * A fresh address space; its own global tables unless `globals` is given (cheaper in loops);
 * `machine`: the simulated machine's capabilities (default: no protection keys, a zero page).
 */
export function newMm(
  maxVmas = 1024,
  globals?: MmGlobals,
  machine: { pkeys?: boolean; noZeroPage?: boolean; thp?: ThpMode } = {},
): MmStruct {
  const mm = MmStruct.create({
    ...machine,
    maxVmas,
    globals:
      globals ?? MmGlobals.create({ maxFiles: 1024, fileHeapBytes: 1 << 16, anonNameSlots: 1024 }),
  });
  mm.mmapBase = MMAP_BASE;
  return mm;
}

export function hex(n: number): string {
  return n.toString(16);
}

/** One VMA as "start-end rw-p[ ac] pgoff [file] [name]" with addresses relative to `base`. */
export function describe(mm: MmStruct, id: number, base = SANDBOX): string {
  const v = mm.vmas;
  const f = v.flags(id);
  const perms =
    (f & VM_READ ? 'r' : '-') +
    (f & VM_WRITE ? 'w' : '-') +
    (f & VM_EXEC ? 'x' : '-') +
    (f & VM_MAYSHARE ? 's' : 'p');
  let s = `${hex(v.start(id) - base)}-${hex(v.end(id) - base)} ${perms}`;
  if (f & VM_ACCOUNT) s += ' ac';
  const file = v.file(id);
  if (file !== 0) s += ` pg=${hex(v.pgoff(id))} f=${mm.files.path(file)}`;
  const name = v.anonName(id);
  if (name !== 0) s += ` [${mm.anonNames.get(name)}]`;
  return s;
}

/** All VMAs in address order, described; also checks map_count and index/record agreement. */
export function layout(mm: MmStruct, base = SANDBOX): string[] {
  const out: string[] = [];
  let count = 0;
  let prevEnd = 0;
  mm.index.forEach(0, (start, end, id) => {
    if (start < prevEnd || start >= end) {
      throw new Error(`index entry [${hex(start)}, ${hex(end)}) overlaps or is empty`);
    }
    prevEnd = end;
    if (mm.vmas.start(id) !== start || mm.vmas.end(id) !== end) {
      throw new Error(`index [${hex(start)}, ${hex(end)}) disagrees with VMA ${id}`);
    }
    count++;
    out.push(describe(mm, id, base));
    return true;
  });
  if (count !== mm.mapCount) throw new Error(`map_count ${mm.mapCount} but ${count} VMAs`);
  return out;
}
