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
//   unfaulted-anon mremap moves, brk, the stack guard gap, top-down placement, unlink.

import { PAGE, SANDBOX_BASE } from './random-script.js';
import { FD_NONE, type Op } from './script.js';

const S = SANDBOX_BASE;
const P = PAGE;
const R = 0x1;
const RW = 0x3;
const NONE = 0x0;
const ANON_FIXED = 0x32; // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
const SHARED_ANON_FIXED = 0x31; // MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED
const FILE_PRIVATE_FIXED = 0x12;
const FILE_SHARED_FIXED = 0x11;
const ANON_PRIVATE = 0x22;
const MAP_GROWSDOWN = 0x100;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MREMAP_DONTUNMAP = 4;

function anon(addr: number, pages: number, prot: number, flags = ANON_FIXED): Op {
  return { op: 'mmap', addr, len: pages * P, prot, flags, fd: FD_NONE, off: 0 };
}
function file(
  addr: number,
  pages: number,
  prot: number,
  fd: number,
  offPages: number,
  flags = FILE_PRIVATE_FIXED,
): Op {
  return { op: 'mmap', addr, len: pages * P, prot, flags, fd, off: offPages * P };
}
function mprotect(addr: number, pages: number, prot: number): Op {
  return { op: 'mprotect', addr, len: pages * P, prot };
}
function munmap(addr: number, pages: number): Op {
  return { op: 'munmap', addr, len: pages * P };
}
function mremap(addr: number, oldPages: number, newPages: number, flags: number, newAddr = 0): Op {
  return { op: 'mremap', addr, oldLen: oldPages * P, newLen: newPages * P, flags, newAddr };
}
const check: Op = { op: 'check' };
const probes: Op[] = [S, S + 3 * P, S + 7 * P, S + 20 * P].map((addr) => ({ op: 'probe', addr }));

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

export interface Scenario {
  name: string;
  ops: Op[];
  /** Uses PR_SET_VMA_ANON_NAME: skipped on hosts without CONFIG_ANON_VMA_NAME. */
  needsAnonNames?: boolean;
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
    // On CPUs with protection keys (x86 PKU/OSPKE, as this host has), a PROT_EXEC-only mapping
    // gets the mm's execute-only pkey (do_mmap, arch_override_mprotect_pkey); any other prot, even
    // PROT_EXEC|PROT_SEM, moves it back to pkey 0. VMAs with different pkeys print the same in
    // maps but never merge.
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
];

/** brk scenarios need the helper's start_brk, so they are built from the oracle header. */
export function brkScenario(startBrk: number, brk: number): Scenario {
  const b = (addr: number): Op => ({ op: 'brk', addr });
  return {
    name: 'brk-grow-shrink',
    ops: [
      ...probes,
      b(0),
      b(brk + 3 * P),
      b(brk + 5 * P + 0x10), // unaligned: rounded up
      check,
      b(brk + P), // shrink
      b(startBrk - P), // below start_brk: refused, returns the current break
      check,
      b(startBrk), // heap gone entirely
      check,
      b(startBrk + 2 * P), // a new heap; does not merge with the bss below start_brk
      check,
      anon(startBrk + 6 * P, 1, RW), // a mapping in the way
      b(startBrk + 8 * P), // refused: would overlap it (stack guard / mapping check)
      munmap(startBrk + 6 * P, 1),
      b(brk),
      check,
    ],
  };
}

/**
 * The special mappings right below mmap_base: [vvar] (4 pages), [vvar_vclock] (2), [vdso] (2).
 * The helper never calls into the vDSO (raw syscalls only), so changing them is harmless to it.
 */
export function specialMappingsScenario(vvarStart: number): Scenario {
  const vvar = vvarStart;
  const vclock = vvar + 4 * P;
  const vdso = vclock + 2 * P;
  return {
    name: 'special-mappings',
    ops: [
      { op: 'probe', addr: vvar },
      { op: 'probe', addr: vdso },
      mprotect(vvar, 1, RW), // no VM_MAYWRITE: EACCES
      mprotect(vdso, 2, RW), // the vDSO has VM_MAYWRITE (for ptrace/COW): allowed
      check,
      mremap(vvar, 4, 5, 0), // VM_DONTEXPAND|VM_PFNMAP: cannot grow (EFAULT)
      mremap(vdso, 2, 3, MREMAP_MAYMOVE), // VM_DONTEXPAND: EFAULT
      mremap(vdso, 2, 2, MREMAP_MAYMOVE | MREMAP_FIXED, S), // the vDSO may move
      check,
      munmap(vclock, 2),
      anon(vclock, 2, RW), // a normal mapping between [vvar] and the gap the vDSO left
      check,
      { op: 'mmap', addr: 0, len: 3 * P, prot: RW, flags: ANON_PRIVATE, fd: FD_NONE, off: 0 },
      check,
    ],
  };
}

/**
 * Maps text whose first lines add up to exactly `target` bytes (e.g. 4096): seq_file counts a
 * line that ends exactly at the end of its page-sized buffer as an overflow, so a 4096-byte read
 * stops one line earlier (the `chunks4096` line of every checkpoint compares the read sizes).
 * Built from the helper's own layout: an unnamed anonymous line is 2 * digits + 25 bytes, so
 * 12-digit (sandbox) and 11-digit (at 2^40) addresses give 49- and 47-byte lines (coprime: any
 * length above 2,207 bytes is a mix of them), and alternating protections keep them apart.
 */
export function chunkBoundaryScenario(initialMaps: string, target: number): Scenario {
  const lines = initialMaps.split('\n').filter((l) => l !== '');
  const low = 0x100_0000_0000; // 2^40: 11 hex digits
  const before = lines
    .filter((l) => Number.parseInt(l.split('-')[0]!, 16) < low)
    .reduce((n, l) => n + l.length + 1, 0);
  const rest = target - before;
  let n47 = -1;
  let n49 = -1;
  for (let a = 0; a <= 200 && n49 < 0; a++) {
    const r = rest - 47 * a;
    if (r >= 0 && r % 49 === 0 && r / 49 <= 120) {
      n47 = a;
      n49 = r / 49;
    }
  }
  if (n49 < 0) throw new Error(`chunkBoundaryScenario: no line mix for ${rest} bytes`);
  const ops: Op[] = [...probes];
  for (let i = 0; i < n47; i++) ops.push(anon(low + i * P, 1, i % 2 ? R : RW));
  for (let i = 0; i < n49; i++) ops.push(anon(S + i * P, 1, i % 2 ? R : RW));
  ops.push(check);
  return { name: `chunk-boundary-${target}`, ops };
}

/**
 * vm.max_map_count: fill the address space with unmergeable one-page VMAs until mmap says ENOMEM.
 * do_mmap refuses only when map_count > max (so the count can reach max + 1), while a split
 * (mprotect or munmap inside a VMA) needs map_count < max. Then everything is unmapped again and
 * checkpointed (a checkpoint at 65k VMAs would be tens of MB of transcript).
 */
export function maxMapCountScenario(initialMaps: string, maxMapCount: number): Scenario {
  const initial = initialMaps.split('\n').filter((l) => l !== '' && !l.endsWith(' [vsyscall]'));
  const base = 0x100_0000_0000; // 2^40, clear of everything else
  const ops: Op[] = [...probes];
  ops.push(anon(base, 3, RW)); // one three-page VMA to split later
  const fill = maxMapCount - initial.length + 2; // the last one is beyond the limit
  for (let i = 1; i <= fill; i++) ops.push(anon(base + (i + 3) * P, 1, i % 2 ? R : RW));
  const end = base + (fill + 4) * P;
  ops.push(
    mprotect(base + P, 1, R), // needs two more VMAs: ENOMEM
    munmap(base + P, 1), // a split: ENOMEM at the limit
    munmap(base + 4 * P, 1), // a whole VMA
    munmap(base + 6 * P, 1),
    munmap(base + 8 * P, 1),
    munmap(base + P, 1), // now the split fits
    anon(base + 4 * P, 1, RW), // back into a freed slot
    munmap(base, end - base),
    check,
  );
  return { name: 'max-map-count', ops };
}
