// Named scenarios of page-table lifetime (src/mm/pages/table-regions.ts): a table outlives the
// pages it mapped until an unmap leaves no VMA in its region, MADV_DONTNEED empties the whole
// region, or mremap moves it whole. Every checkpoint compares VmPTE (memory-compare.ts), so the
// tables themselves are checked against the kernel, besides what they decide: whether a read
// past the end of a file maps the file's last page, and whether a fault maps a huge page.

import type { Op } from './script.js';
import {
  anon,
  check,
  file,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  mremap,
  munmap,
  P,
  probes,
  R,
  RW,
  S,
  type Scenario,
} from './script-builders.js';

const M2 = 0x200000;
const MADV_DONTNEED = 4;
const MADV_HUGEPAGE = 14;
const MADV_NOHUGEPAGE = 15;
const MOVE_KEEP = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
/** MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN. */
const GROWSDOWN_FIXED = 0x132;

function touch(addr: number, pages: number, write: boolean): Op {
  return { op: 'touch', addr, len: pages * P, write };
}

function madvise(addr: number, len: number, advice: number): Op {
  return { op: 'madvise', addr, len, advice };
}

/** Anonymous memory that never gets huge pages, whatever the host's THP mode. */
function smallAnon(addr: number, pages: number): Op[] {
  return [anon(addr, pages, RW), madvise(addr, pages * P, MADV_NOHUGEPAGE)];
}

export const TABLE_SCENARIOS: Scenario[] = [
  {
    // A read past the end of a file (SIGBUS) whose fault-around window holds only the file's last
    // page maps it only where the 2 MiB region already has a PTE table: filemap_map_pages skips
    // the PMD step, table install included, for the last folio. A window with two pages of the
    // file installs the table and maps both. (Random differential seed 3031 found the first.)
    name: 'page-table-past-eof',
    ops: [
      ...probes,
      file(S + 4 * M2, 2, R, 1, 15),
      touch(S + 4 * M2 + P, 1, false),
      check,
      file(S + 6 * M2, 3, R, 1, 14),
      touch(S + 6 * M2 + 2 * P, 1, false),
      check,
      anon(S + 4 * M2 + 100 * P, 1, RW),
      touch(S + 4 * M2 + 100 * P, 1, true),
      touch(S + 4 * M2 + P, 1, false),
      check,
    ],
  },
  {
    // Tables outlive their pages: MADV_DONTNEED of part of a region keeps its table, of a whole
    // region frees it (CONFIG_PT_RECLAIM); munmap frees a region's table once no VMA is left in
    // it; mremap with MREMAP_DONTUNMAP leaves the source its table unless the move takes the
    // table whole (a 2 MiB-aligned region, also after realigning an unaligned start with nothing
    // below it); a fork child gets the tables of the VMAs it copies, empty ones too.
    name: 'page-tables-outlive-pages',
    ops: [
      ...probes,
      ...smallAnon(S + 10 * M2, 8),
      touch(S + 10 * M2, 8, true),
      madvise(S + 10 * M2, 8 * P, MADV_DONTNEED),
      check,
      munmap(S + 10 * M2, 4),
      check,
      munmap(S + 10 * M2 + 4 * P, 4),
      check,
      ...smallAnon(S + 12 * M2, 1024),
      touch(S + 12 * M2, 1, true),
      touch(S + 13 * M2 + 3 * P, 1, true),
      madvise(S + 12 * M2, M2, MADV_DONTNEED),
      check,
      ...smallAnon(S + 16 * M2 + 16 * P, 4),
      touch(S + 16 * M2 + 16 * P, 4, true),
      mremap(S + 16 * M2 + 16 * P, 4, 4, MOVE_KEEP, S + 18 * M2 + 32 * P),
      check,
      ...smallAnon(S + 20 * M2, 512),
      touch(S + 20 * M2 + 7 * P, 1, true),
      mremap(S + 20 * M2, 512, 512, MOVE_KEEP, S + 24 * M2),
      check,
      ...smallAnon(S + 28 * M2 + 16 * P, 496),
      touch(S + 28 * M2 + 20 * P, 1, true),
      mremap(S + 28 * M2 + 16 * P, 496, 496, MOVE_KEEP, S + 30 * M2 + 16 * P),
      check,
      { op: 'forkchild' },
      check,
    ],
  },
  {
    // A fault below a VM_GROWSDOWN VMA that expand_downwards() refuses only after
    // anon_vma_prepare() (more than RLIMIT_STACK below it) is SIGSEGV but leaves the VMA an
    // anon_vma: a fork child then copies its page tables (a bare one here, from an unmapped
    // neighbour) and will not merge a new growsdown mapping below it; refused before that (in
    // an accessible neighbour's guard gap), nothing changes. (Random differential seed 10034,
    // through a fork child's VmPTE.)
    name: 'growsdown-refused-growth-anon-vma',
    ops: [
      ...probes,
      anon(S + 64 * M2, 5, RW, GROWSDOWN_FIXED),
      anon(S + 64 * M2 + 64 * P, 1, RW),
      touch(S + 64 * M2 + 64 * P, 1, true),
      munmap(S + 64 * M2 + 64 * P, 1),
      touch(S + 56 * M2, 1, false),
      anon(S + 80 * M2, 5, RW, GROWSDOWN_FIXED),
      anon(S + 80 * M2 - 64 * P, 1, RW),
      touch(S + 80 * M2 - 32 * P, 1, false),
      check,
      { op: 'forkchild' },
      anon(S + 64 * M2 - 8 * P, 8, RW, GROWSDOWN_FIXED),
      anon(S + 80 * M2 - 8 * P, 8, RW, GROWSDOWN_FIXED),
      check,
    ],
  },
];

/** 2 MiB-aligned and clear of the THP scenarios' ranges. */
const H = S + 48 * M2;

/** Run by thp.test.ts with the THP scenarios (the host must really give huge pages). */
export const TABLE_THP_SCENARIOS: Scenario[] = [
  {
    // pmd_none() decides a huge-page fault: a block whose pages were all zapped in two halves
    // (each MADV_DONTNEED splits or empties less than the region) keeps its PTE table, so the
    // next fault there maps a small page; one zapped whole (zap_huge_pmd) has none left, so
    // the next fault maps a huge page again.
    name: 'thp-table-kept-keeps-faults-small',
    ops: [
      ...probes,
      anon(H, 2 * 512, RW),
      madvise(H, 2 * M2, MADV_HUGEPAGE),
      touch(H, 1, true),
      touch(H + M2, 1, true),
      check,
      madvise(H, 256 * P, MADV_DONTNEED),
      madvise(H + 256 * P, 256 * P, MADV_DONTNEED),
      madvise(H + M2, M2, MADV_DONTNEED),
      check,
      touch(H + 5 * P, 1, true),
      touch(H + M2 + 5 * P, 1, true),
      check,
    ],
  },
];
