// Named scenarios with touched memory (the anon_vma merge cases of issue 12 and the page states
// of /work reference "touched memory"): smaps, smaps_rollup and status are compared at every
// checkpoint (memory-compare.ts), besides the maps text and PROCMAP_QUERY answers.

import type { Op } from './script.js';
import {
  ANON_FIXED,
  anon,
  check,
  FILE_PRIVATE_FIXED,
  FILE_SHARED_FIXED,
  file,
  MAP_POPULATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  mprotect,
  mremap,
  munmap,
  NONE,
  P,
  probes,
  R,
  RW,
  S,
  type Scenario,
  SHARED_ANON_FIXED,
} from './script-builders.js';

const W = 0x2; // PROT_WRITE alone
const X = 0x4; // PROT_EXEC alone

function touch(addr: number, pages: number, write: boolean): Op {
  return { op: 'touch', addr, len: pages * P, write };
}

export const TOUCH_SCENARIOS: Scenario[] = [
  {
    // The first write fault gives a private VMA an anon_vma (a read fault does not): a new
    // mapping next to a written VMA extends it; a read-only-faulted one merges three ways;
    // two VMAs written apart keep apart, and the hole between them merges with one side only.
    name: 'touch-faulted-next-to-unfaulted',
    ops: [
      ...probes,
      anon(S, 2, RW),
      touch(S, 1, true),
      anon(S + 2 * P, 2, RW),
      check,
      anon(S + 10 * P, 2, RW),
      touch(S + 10 * P, 2, false),
      anon(S + 14 * P, 2, RW),
      anon(S + 12 * P, 2, RW),
      check,
      anon(S + 20 * P, 2, RW),
      anon(S + 24 * P, 2, RW),
      touch(S + 20 * P, 1, true),
      touch(S + 25 * P, 1, true),
      anon(S + 22 * P, 2, RW),
      check,
      // Written next to a written neighbour that differs in prot: one anon_vma, merged once
      // the prots agree; rw- -> r-- -> rw- merges back, the write after it costs no fault.
      anon(S + 30 * P, 2, RW),
      touch(S + 30 * P, 2, true),
      mprotect(S + 31 * P, 1, R),
      mprotect(S + 31 * P, 1, RW),
      touch(S + 31 * P, 1, true),
      check,
    ],
  },
  {
    // A written VMA moved by mremap keeps its pgoff: it merges with neither a compatible
    // neighbour at its new place nor one moved next to it; its pages move with it (a shrinking
    // move keeps the first ones), DONTUNMAP leaves the old VMA empty.
    name: 'touch-mremap-faulted',
    ops: [
      ...probes,
      anon(S, 4, RW),
      touch(S, 4, true),
      mremap(S, 4, 4, MREMAP_MAYMOVE | MREMAP_FIXED, S + 40 * P),
      anon(S + 44 * P, 2, RW),
      anon(S + 36 * P, 4, RW),
      check,
      mremap(S + 40 * P, 4, 2, MREMAP_MAYMOVE | MREMAP_FIXED, S + 60 * P),
      check,
      anon(S + 70 * P, 3, RW),
      touch(S + 70 * P, 3, true),
      mremap(S + 70 * P, 3, 3, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, S + 80 * P),
      mremap(S + 80 * P, 3, 5, 0),
      check,
    ],
  },
  {
    // Fork then write: after fork the written pages are shared with the child (Shared_Dirty,
    // Pss halved in both); a write in the child copies one page (Private_Dirty); the parent's
    // pages are its own again once the child is gone.
    name: 'touch-fork-then-write',
    ops: [
      ...probes,
      anon(S, 4, RW),
      touch(S, 4, true),
      file(S + 10 * P, 4, R, 0, 0),
      touch(S + 10 * P, 1, false),
      { op: 'fork' },
      check,
      { op: 'forkchild' },
      check,
      touch(S + P, 1, true),
      touch(S + 10 * P, 2, false),
      anon(S + 4 * P, 2, RW),
      check,
    ],
  },
  {
    // Page cache and shmem: fault-around of a read in a file VMA (cut at the VMA end), a private
    // write copies (Anonymous), a shared file page read then written (two faults), shmem read
    // allocates and a write to it costs no fault, a duplicate of a shmem mapping (mremap with
    // old_size 0) sees the pages written through the original, SIGBUS past the end of the file.
    name: 'touch-file-and-shmem-pages',
    ops: [
      ...probes,
      file(S, 8, R, 0, 4),
      touch(S + 5 * P, 1, false),
      file(S + 20 * P, 4, RW, 1, 0),
      touch(S + 20 * P, 1, false),
      touch(S + 21 * P, 1, true),
      file(S + 30 * P, 4, RW, 2, 0, FILE_SHARED_FIXED),
      touch(S + 30 * P, 1, false),
      touch(S + 30 * P, 1, true),
      touch(S + 32 * P, 1, true),
      check,
      anon(S + 40 * P, 4, RW, SHARED_ANON_FIXED),
      touch(S + 40 * P, 1, false),
      touch(S + 40 * P, 1, true),
      touch(S + 41 * P, 2, true),
      mremap(S + 40 * P, 0, 4, MREMAP_MAYMOVE | MREMAP_FIXED, S + 50 * P),
      touch(S + 51 * P, 1, false),
      check,
      munmap(S + 40 * P, 4),
      file(S + 60 * P, 4, RW, 0, 14, FILE_PRIVATE_FIXED),
      touch(S + 61 * P, 1, false),
      touch(S + 62 * P, 1, false),
      touch(S + 63 * P, 1, true),
      check,
    ],
  },
  {
    // Page state that outlives a mapping or a fault (found by the random scripts): a read past
    // the end of the file is SIGBUS, but do_fault_around has mapped the window's in-file pages
    // first; a page-cache page written through a shared mapping stays dirty after the munmap
    // (a later private mapping shows it Private_Dirty); a populated page written after the fork
    // child is gone is reused (the same folio, still marked accessed: Referenced in the next
    // child although its PTE is old there).
    name: 'touch-page-cache-state',
    ops: [
      ...probes,
      file(S, 10, RW, 1, 7),
      touch(S + 9 * P, 1, false),
      file(S + 20 * P, 4, RW, 2, 4, FILE_SHARED_FIXED),
      touch(S + 21 * P, 1, true),
      munmap(S + 20 * P, 4),
      file(S + 30 * P, 4, R, 2, 4),
      touch(S + 30 * P, 1, false),
      check,
      anon(S + 40 * P, 4, RW, ANON_FIXED | MAP_POPULATE),
      { op: 'fork' },
      touch(S + 41 * P, 1, true),
      { op: 'forkchild' },
      check,
    ],
  },
  {
    // EFAULT: no VMA, a write without PROT_WRITE, PROT_NONE; x86 without protection keys lets a
    // read through -w- and --x. Length 0 touches nothing, even in a hole; an unaligned range
    // touches every page it covers. mprotect/munmap keep or drop the pages.
    name: 'touch-access-rules',
    ops: [
      ...probes,
      touch(S + 100 * P, 1, false),
      anon(S, 2, R),
      touch(S, 1, true),
      anon(S + 4 * P, 2, NONE),
      touch(S + 4 * P, 1, false),
      anon(S + 8 * P, 2, W),
      touch(S + 8 * P, 1, false),
      anon(S + 12 * P, 2, X),
      touch(S + 12 * P, 1, false),
      { op: 'touch', addr: S + 100 * P, len: 0, write: true },
      anon(S + 20 * P, 4, RW),
      { op: 'touch', addr: S + 20 * P + 0x800, len: 0x1000, write: true },
      check,
      mprotect(S + 20 * P, 1, NONE),
      munmap(S + 22 * P, 1),
      check,
    ],
  },
];
