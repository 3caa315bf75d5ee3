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
    // child although its PTE is old there), in an anonymous VMA or a private file one (a random
    // script found the second, session 16); munmap of young page-cache PTEs marks those folios
    // accessed, so a later private mapping's copies in a fork child show them Referenced.
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
      // The same through a private writable file mapping: populating it writes (FOLL_WRITE), so
      // its pages are anonymous copies, and the write after the fork reuses one of them.
      file(S + 70 * P, 3, RW, 1, 0, FILE_PRIVATE_FIXED | MAP_POPULATE),
      { op: 'fork' },
      touch(S + 41 * P, 1, true),
      touch(S + 71 * P, 1, true),
      file(S + 50 * P, 4, R, 0, 0),
      touch(S + 50 * P, 1, false),
      munmap(S + 50 * P, 4),
      file(S + 60 * P, 4, RW, 0, 0),
      touch(S + 60 * P, 1, true),
      touch(S + 61 * P, 1, false),
      { op: 'forkchild' },
      check,
    ],
  },
  {
    // MAP_POPULATE marks the page-cache folios it reads accessed (FOLL_TOUCH), not just its own
    // PTEs: another mapping of the same file pages, faulted in around a later read, shows them
    // Referenced in a fork child, whose PTEs start old (found by random differential seed 1015).
    // A second populate of the same pages activates the folios and clears the mark.
    name: 'touch-populate-marks-the-folio',
    ops: [
      ...probes,
      file(S, 3, R, 0, 6, FILE_PRIVATE_FIXED | MAP_POPULATE),
      // A written page gives the second mapping an anon_vma, so that fork copies its PTEs.
      file(S + 10 * P, 10, RW, 0, 6),
      touch(S + 19 * P, 1, true),
      touch(S + 14 * P, 1, false),
      file(S + 30 * P, 2, R, 1, 0, FILE_PRIVATE_FIXED | MAP_POPULATE),
      file(S + 40 * P, 2, R, 1, 0, FILE_PRIVATE_FIXED | MAP_POPULATE),
      file(S + 50 * P, 8, RW, 1, 0),
      touch(S + 57 * P, 1, true),
      touch(S + 51 * P, 1, false),
      { op: 'forkchild' },
      check,
    ],
  },
  {
    // PROCMAP_QUERY's build id is read through the page cache, as read() reads: the first query
    // of a file marks its first page accessed, the next ones do not (the file's read position
    // is still in that page); a populate after it is a second mark (active, not referenced).
    // Fork children's old PTEs show it (found by random differential seed 3009; the probes at S
    // and S + 3P run the build-id queries at every check).
    name: 'query-build-id-reads-first-page',
    ops: [
      ...probes,
      file(S, 2, R, 0, 0),
      file(S + 3 * P, 2, R, 1, 0),
      file(S + 10 * P, 4, RW, 0, 0),
      touch(S + 13 * P, 1, true),
      touch(S + 10 * P, 1, false),
      file(S + 20 * P, 4, RW, 1, 0),
      touch(S + 23 * P, 1, true),
      touch(S + 20 * P, 1, false),
      check,
      check,
      file(S + 30 * P, 1, R, 1, 0, FILE_PRIVATE_FIXED | MAP_POPULATE),
      { op: 'forkchild' },
      check,
    ],
  },
  {
    // A read past the end of a file is SIGBUS; before it, fault-around maps the window's pages
    // inside the file, also when that is the file's last page alone, once the 2 MiB region has a
    // page table (the anonymous page's fault made it). Without a table, the host maps nothing
    // for a single page (found by random differential seed 3031); the engine does not track page
    // tables and maps it (README, intended differences).
    name: 'touch-past-eof-window',
    ops: [
      ...probes,
      anon(S + 120 * P, 1, RW),
      touch(S + 120 * P, 1, true),
      file(S + 33 * P, 17, R, 2, 0),
      touch(S + 49 * P, 1, false),
      file(S + 66 * P, 17, R, 2, 0),
      touch(S + 82 * P, 1, false),
      file(S + 100 * P, 2, R, 1, 15),
      touch(S + 101 * P, 1, false),
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

const M2 = 0x200000;
/** 2 MiB-aligned, above the 128-page sandbox: room for PMD-mapped huge pages. */
const T = S + 8 * M2;
const MADV_DONTNEED = 4;
const MADV_HUGEPAGE = 14;
const MADV_NOHUGEPAGE = 15;

function madvise(addr: number, len: number, advice: number): Op {
  return { op: 'madvise', addr, len, advice };
}

/**
 * Transparent huge pages (run by thp.test.ts, which checks that the kernel really gave the huge
 * pages: THP allocation can fail on a fragmented host, and khugepaged may collapse pages in the
 * background). The engine is configured with the host's THP mode, so the script compares byte
 * for byte in every mode; in `madvise` (the reference host) only the advised VMAs get them.
 */
export const THP_SCENARIOS: Scenario[] = [
  {
    // MADV_HUGEPAGE splits the VMA (hg, THPeligible 1 where a 2 MiB block fits); one fault maps
    // a whole huge page (a read too on a host without a zero page; else the huge zero page);
    // mprotect of one page splits the VMA and the PMD (the pages stay, PTE-mapped), merging
    // back keeps it split; MADV_NOHUGEPAGE of one page does the same with nh; errno of bad calls.
    name: 'thp-madvise-fault-split',
    ops: [
      ...probes,
      anon(T, 4 * 512, RW),
      madvise(T + M2, 2 * M2, MADV_HUGEPAGE),
      madvise(T + 1, P, MADV_HUGEPAGE),
      madvise(T, P, 999),
      madvise(T + 4 * M2, P, MADV_HUGEPAGE),
      check,
      touch(T + M2, 1, false),
      touch(T + M2 + 3 * P, 1, true),
      touch(T + 2 * M2 + 7 * P, 1, true),
      touch(T + 2 * M2, 512, true),
      touch(T + 3 * M2, 4, true),
      check,
      mprotect(T + 2 * M2 + P, 1, R),
      check,
      mprotect(T + 2 * M2 + P, 1, RW),
      madvise(T + M2 + 2 * P, P, MADV_NOHUGEPAGE),
      check,
      anon(T + 8 * M2, 512, R),
      madvise(T + 8 * M2, M2, MADV_HUGEPAGE),
      touch(T + 8 * M2 + 5 * P, 2, false),
      check,
    ],
  },
  {
    // A fork child shares the huge pages (Pss halves, Shared_Dirty, reads cost no fault); its
    // write splits the PMD
    // and copies one page. MADV_DONTNEED of a page splits the PMD and drops the page; of a
    // whole huge page frees it (the next fault maps a PMD again); an aligned mremap keeps the
    // PMD, an unaligned one splits it; munmap of part of one splits it.
    name: 'thp-fork-dontneed-mremap',
    ops: [
      ...probes,
      anon(T, 3 * 512, RW),
      madvise(T, 3 * M2, MADV_HUGEPAGE),
      touch(T, 3 * 512, true),
      { op: 'forkchild' },
      // The child reads them first: a fork's copied PMDs start old, and which folios the
      // kernel's LRU has marked referenced by then is its own business (Referenced differs).
      touch(T, 3 * 512, false),
      check,
      touch(T + P, 1, true),
      check,
      madvise(T + M2 + P, P, MADV_DONTNEED),
      madvise(T + 2 * M2, M2, MADV_DONTNEED),
      touch(T + 2 * M2 + 9 * P, 1, true),
      check,
      mremap(T + 2 * M2, 512, 512, MREMAP_MAYMOVE | MREMAP_FIXED, T + 6 * M2),
      mremap(T + M2, 512, 512, MREMAP_MAYMOVE | MREMAP_FIXED, T + 9 * M2 + P),
      munmap(T + 5 * P, 1),
      check,
    ],
  },
];

const MADV_DONTFORK = 10;
const MADV_DOFORK = 11;

/** madvise advices that change VMA flags without huge pages (run with the other scenarios). */
export const MADVISE_SCENARIOS: Scenario[] = [
  {
    // MADV_DONTFORK splits off VM_DONTCOPY (VmFlags `dc`) and a fork child does not get those
    // pages (its maps, VmSize and VmPeak without them); MADV_DOFORK merges the pieces back; a
    // hole in the range is ENOMEM after the VMAs before it were advised.
    name: 'madvise-dontfork-dofork',
    ops: [
      ...probes,
      anon(S, 8, RW),
      touch(S, 8, true),
      madvise(S + 2 * P, 2 * P, MADV_DONTFORK),
      check,
      { op: 'fork' },
      madvise(S + 3 * P, P, MADV_DOFORK),
      check,
      madvise(S + 2 * P, P, MADV_DOFORK),
      anon(S + 10 * P, 2, RW),
      madvise(S + 6 * P, 6 * P, MADV_DONTFORK),
      check,
      { op: 'forkchild' },
      check,
      madvise(S, 12 * P, MADV_DOFORK),
      munmap(S, 2),
      check,
    ],
  },
];
