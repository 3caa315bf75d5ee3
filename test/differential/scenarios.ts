// Hand-written differential scripts: the merge/split patterns people reason about by name.
//
// - proc-maps-race-*: the modify/restore pairs of the kernel selftest
//   tools/testing/selftests/proc/proc-maps-race.c (split, resize, remap), on 3-page VMAs of
//   alternating protection (so neighbours do not merge), each step checkpointed.
// - lorenzo-*: the ten merge/split shapes Lorenzo Stoakes listed for the per-VMA maps series
//   (lkml 2025-06-13, "Re: [PATCH v4 0/7] use per-vma locks for /proc/pid/maps reads"):
//   changes to an existing VMA that merge both / left full / left partial / right full / right
//   partial, a new VMA that merges both / left / right, and splits by mprotect and by munmap.
// - the rest: mprotect over a hole (partial application + ENOMEM), file offset contiguity,
//   unfaulted-anon mremap moves, the stack guard gap, top-down placement, unlink, pkeys.
//   (Scenarios that need the helper's layout are in layout-scenarios.ts.)

import type { Op } from './script.js';
import {
  ANON_FIXED,
  ANON_PRIVATE,
  anon,
  check,
  FILE_PRIVATE_FIXED,
  FILE_SHARED_FIXED,
  file,
  MAP_GROWSDOWN,
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

export type { Scenario } from './script-builders.js';

/** Six 3-page VMAs at S, alternating RW / R (the selftest's "prevent merging" layout). */
function raceLayout(): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < 6; i++) ops.push(anon(S + i * 3 * P, 3, i % 2 === 0 ? RW : R));
  ops.push(check);
  return ops;
}

/** One modify/restore cycle per VMA, checkpointed after each half. */
function raceCycles(
  modify: (addr: number, prot: number, next: number) => Op,
  restore: (addr: number, prot: number) => Op,
): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < 5; i++) {
    const addr = S + i * 3 * P;
    const prot = i % 2 === 0 ? RW : R;
    ops.push(modify(addr, prot, addr + 3 * P), check, restore(addr, prot), check);
  }
  return ops;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'proc-maps-race-split',
    ops: [
      ...probes,
      ...raceLayout(),
      ...raceCycles(
        (a) => anon(a, 1, NONE),
        (a, prot) => anon(a, 1, prot),
      ),
    ],
  },
  {
    name: 'proc-maps-race-resize',
    ops: [
      ...probes,
      ...raceLayout(),
      ...raceCycles(
        (a) => mremap(a, 3, 1, 0),
        (a) => mremap(a, 1, 3, 0),
      ),
    ],
  },
  {
    name: 'proc-maps-race-remap',
    ops: [
      ...probes,
      ...raceLayout(),
      ...raceCycles(
        (a, _p, next) =>
          mremap(next + 2 * P, 1, 1, MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP, a + P),
        (a, prot) => mprotect(a + P, 1, prot),
      ),
    ],
  },
  {
    name: 'lorenzo-1-existing-merge-both',
    ops: [
      ...probes,
      anon(S, 2, RW),
      anon(S + 2 * P, 2, R),
      anon(S + 4 * P, 2, RW),
      check,
      mprotect(S + 2 * P, 2, RW),
      check,
    ],
  },
  {
    name: 'lorenzo-2-existing-merge-left-full',
    ops: [
      ...probes,
      anon(S, 2, RW),
      anon(S + 2 * P, 2, R),
      anon(S + 4 * P, 2, NONE),
      check,
      mprotect(S + 2 * P, 2, RW),
      check,
    ],
  },
  {
    name: 'lorenzo-3-existing-merge-left-partial',
    ops: [
      ...probes,
      anon(S, 2, RW),
      anon(S + 2 * P, 4, R),
      check,
      mprotect(S + 2 * P, 1, RW),
      check,
    ],
  },
  {
    name: 'lorenzo-4-existing-merge-right-full',
    ops: [
      ...probes,
      anon(S, 2, NONE),
      anon(S + 2 * P, 2, R),
      anon(S + 4 * P, 2, RW),
      check,
      mprotect(S + 2 * P, 2, RW),
      check,
    ],
  },
  {
    name: 'lorenzo-5-existing-merge-right-partial',
    ops: [
      ...probes,
      anon(S + 2 * P, 4, R),
      anon(S + 6 * P, 2, RW),
      check,
      mprotect(S + 5 * P, 1, RW),
      check,
    ],
  },
  {
    name: 'lorenzo-6-new-merge-both',
    ops: [...probes, anon(S, 2, RW), anon(S + 4 * P, 2, RW), check, anon(S + 2 * P, 2, RW), check],
  },
  {
    name: 'lorenzo-7-new-merge-left',
    ops: [...probes, anon(S, 2, RW), anon(S + 5 * P, 2, RW), check, anon(S + 2 * P, 2, RW), check],
  },
  {
    name: 'lorenzo-8-new-merge-right',
    ops: [...probes, anon(S, 2, RW), anon(S + 5 * P, 2, RW), check, anon(S + 3 * P, 2, RW), check],
  },
  {
    name: 'lorenzo-9-split-by-mprotect',
    ops: [
      ...probes,
      anon(S, 8, RW),
      check,
      mprotect(S + 3 * P, 2, R),
      check,
      mprotect(S + 3 * P, 2, RW),
      check,
    ],
  },
  {
    name: 'lorenzo-10-split-by-munmap',
    ops: [
      ...probes,
      anon(S, 8, RW),
      check,
      munmap(S + 3 * P, 2),
      check,
      anon(S + 3 * P, 2, RW),
      check,
    ],
  },
  {
    name: 'mprotect-over-a-hole',
    ops: [
      ...probes,
      anon(S, 2, RW),
      anon(S + 3 * P, 2, RW),
      check,
      mprotect(S, 5, R), // applies to [S, S+2P), then ENOMEM at the hole
      check,
      mprotect(S + P, 4, RW), // starts in a VMA, hole after it: partial again
      check,
    ],
  },
  {
    name: 'file-offset-contiguity',
    ops: [
      ...probes,
      file(S, 2, R, 0, 0),
      file(S + 2 * P, 2, R, 0, 2), // contiguous offset: merges
      file(S + 4 * P, 2, R, 0, 5), // gap in the offset: no merge
      file(S + 6 * P, 2, R, 1, 7), // another file: no merge
      file(S + 8 * P, 2, R, 1, 9), // contiguous again with the previous one
      check,
      file(S + 12 * P, 2, R, 2, 0, FILE_SHARED_FIXED),
      file(S + 14 * P, 2, R, 2, 2, FILE_PRIVATE_FIXED), // shared vs private: no merge
      file(S + 16 * P, 2, 0x3, 3, 0, FILE_SHARED_FIXED), // O_RDONLY file, shared + PROT_WRITE: EACCES
      file(S + 16 * P, 2, R, 3, 0, FILE_SHARED_FIXED),
      mprotect(S + 16 * P, 2, RW), // EACCES: no VM_MAYWRITE
      check,
      mprotect(S + P, 2, RW), // split across the merged file VMA
      check,
    ],
  },
  {
    name: 'shared-anon-never-merges',
    ops: [
      ...probes,
      anon(S, 2, RW, SHARED_ANON_FIXED),
      anon(S + 2 * P, 2, RW, SHARED_ANON_FIXED),
      check,
      mremap(S, 2, 4, MREMAP_MAYMOVE),
      check,
      {
        op: 'mremap',
        addr: S + 2 * P,
        oldLen: 0,
        newLen: 2 * P,
        flags: MREMAP_MAYMOVE,
        newAddr: 0,
      },
      { op: 'fork' }, // shared memory stays shared: the child shows the same shmem files
      check,
    ],
  },
  {
    name: 'unfaulted-anon-mremap-move-merges',
    ops: [
      ...probes,
      anon(S, 2, RW),
      anon(S + 10 * P, 2, RW),
      check,
      mremap(S + 10 * P, 2, 2, MREMAP_MAYMOVE | MREMAP_FIXED, S + 2 * P), // pgoff follows the address
      check,
      mremap(S, 4, 6, 0), // grows in place
      check,
      anon(S + 6 * P, 1, R),
      mremap(S, 6, 8, 0), // blocked: ENOMEM
      mremap(S, 6, 8, MREMAP_MAYMOVE), // moves (top-down)
      check,
      mremap(S + 6 * P, 1, 1, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0),
      check,
    ],
  },
  {
    name: 'stack-guard-gap-and-top-down',
    ops: [
      ...probes,
      anon(S + 100 * P, 4, RW, ANON_FIXED | MAP_GROWSDOWN),
      anon(S + 90 * P, 2, RW, ANON_PRIVATE), // hint inside the 1 MiB guard gap: placed top-down
      anon(S + 10 * P, 2, RW, ANON_PRIVATE), // hint below the gap: honoured
      anon(0, 3, RW, ANON_PRIVATE),
      anon(0, 3, RW, ANON_PRIVATE), // right below the previous one: merges
      anon(0, 2, R, ANON_PRIVATE),
      check,
      mprotect(S + 100 * P, 1, 0x01000000 | R), // PROT_GROWSDOWN: extends to the VMA start
      check,
    ],
  },
  {
    name: 'unlink-deleted',
    ops: [
      ...probes,
      file(S, 2, R, 1, 0),
      { op: 'unlink', file: 1 },
      file(S + 2 * P, 2, R, 1, 2), // merges with the first: same (now deleted) file
      { op: 'unlink', file: 1 }, // ENOENT
      check,
    ],
  },
  {
    // On CPUs with protection keys (x86 PKU/OSPKE), a PROT_EXEC-only mapping gets the mm's
    // execute-only pkey (do_mmap, arch_override_mprotect_pkey); any other prot, even
    // PROT_EXEC|PROT_SEM, moves it back to pkey 0. VMAs with different pkeys print the same in
    // maps but never merge. Without PKU every VMA has key 0 and nothing splits. The engine runs
    // with the host's capability (host-capabilities.ts); test/mm/syscalls/pkey.test.ts covers
    // the other one.
    name: 'exec-only-pkey',
    ops: [
      ...probes,
      anon(S, 12, 0x4),
      check,
      mprotect(S + 5 * P, 2, 0x4 | 0x8), // same VM_EXEC, but pkey 0: splits in three
      check,
      mprotect(S + 5 * P, 2, 0x4), // exec-only again: merges back
      check,
      file(S + 20 * P, 4, 0x5, 0, 0),
      mprotect(S + 22 * P, 2, 0x4),
      check,
    ],
  },
  {
    // MAP_POPULATE writes private writable memory: each such VMA gets its own anon_vma. A VMA
    // without one merges with either neighbour, but two different anon_vmas never merge, so
    // filling the hole between two populated VMAs merges with one side only.
    name: 'populated-anon-vma',
    ops: [
      ...probes,
      anon(S, 2, RW, ANON_FIXED | MAP_POPULATE),
      anon(S + 4 * P, 2, RW, ANON_FIXED | MAP_POPULATE),
      anon(S + 2 * P, 2, RW),
      check,
      // The same anon_vma on both sides (one populated VMA, its middle unmapped): merges all three.
      anon(S + 8 * P, 6, RW, ANON_FIXED | MAP_POPULATE),
      munmap(S + 10 * P, 2),
      anon(S + 10 * P, 2, RW),
      check,
      anon(S + 16 * P, 2, RW, ANON_FIXED | MAP_POPULATE),
      anon(S + 18 * P, 2, RW, ANON_FIXED | MAP_POPULATE), // merged at mmap time, then populated
      mprotect(S + 16 * P, 4, R), // VM_ACCOUNT stays: the memory was written
      mprotect(S + 17 * P, 1, RW),
      mprotect(S + 17 * P, 1, R),
      mremap(S + 16 * P, 4, 4, MREMAP_MAYMOVE | MREMAP_FIXED, S + 32 * P), // keeps its pgoff
      anon(S + 36 * P, 2, R),
      anon(S + 30 * P, 2, R),
      check,
      anon(S + 48 * P, 2, R, ANON_FIXED | MAP_POPULATE), // read-only: the zero page, no anon_vma
      anon(S + 50 * P, 2, R),
      file(S + 60 * P, 2, RW, 0, 0, FILE_PRIVATE_FIXED | MAP_POPULATE), // COW: an anon_vma
      file(S + 62 * P, 2, RW, 0, 2),
      file(S + 66 * P, 2, RW, 1, 0, FILE_SHARED_FIXED | MAP_POPULATE), // shared: none
      file(S + 68 * P, 2, RW, 1, 2, FILE_SHARED_FIXED),
      check,
    ],
  },
  {
    // In a fork child the inherited copy of a written VMA links to its parent's anon_vma too
    // (vma_had_uncowed_parents): a new neighbour does not merge with it, while the child's own
    // populated VMAs merge as usual. The script carries on in the child ('forkchild').
    name: 'fork-child-merges',
    ops: [
      ...probes,
      anon(S, 2, RW, ANON_FIXED | MAP_POPULATE),
      anon(S + 4 * P, 2, RW),
      { op: 'forkchild' },
      anon(S + 2 * P, 2, RW),
      check,
      anon(S + 8 * P, 2, RW, ANON_FIXED | MAP_POPULATE),
      anon(S + 10 * P, 2, RW),
      mprotect(S, 1, R),
      mprotect(S, 1, RW),
      check,
    ],
  },
  {
    name: 'anon-names',
    needsAnonNames: true,
    ops: [
      ...probes,
      anon(S, 6, RW),
      { op: 'anon', addr: S + P, len: 2 * P, name: 'buf' },
      { op: 'anon', addr: S + 3 * P, len: 2 * P, name: 'buf' },
      check,
      { op: 'anon', addr: S, len: 6 * P, name: null },
      check,
    ],
  },
  {
    // prctl(PR_SET_VMA_ANON_NAME) over anonymous, file, anonymous VMAs: the walk names the first
    // (splitting it), then answers EBADF at the file VMA; the one after it keeps no name. A
    // shared anonymous VMA in the range does not stop the walk. (README: "anon_name".)
    name: 'anon-name-partial-ebadf',
    needsAnonNames: true,
    ops: [
      ...probes,
      anon(S, 3, RW),
      file(S + 3 * P, 2, R, 1, 0),
      anon(S + 5 * P, 2, RW),
      { op: 'anon', addr: S + P, len: 6 * P, name: 'part' },
      check,
      anon(S + 10 * P, 2, RW, SHARED_ANON_FIXED),
      anon(S + 12 * P, 2, RW),
      { op: 'anon', addr: S + 10 * P, len: 4 * P, name: 'shm' },
      check,
    ],
  },
];
