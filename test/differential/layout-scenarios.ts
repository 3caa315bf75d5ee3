// Scenarios built from the helper's own layout (its header): they need start_brk, the special
// mappings' addresses, the initial maps text or vm.max_map_count of the host.

import { FD_NONE, type Op } from './script.js';
import {
  ANON_PRIVATE,
  anon,
  check,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  mprotect,
  mremap,
  munmap,
  P,
  probes,
  R,
  RW,
  S,
  type Scenario,
} from './script-builders.js';
import { U64_HALF, U64_MINUS_HALF_PAGE, U64_MINUS_PAGE } from './uapi.js';

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
      b(U64_MINUS_HALF_PAGE), // PAGE_ALIGN wraps to 0: the unsigned growth is ~2^64, refused
      b(U64_MINUS_PAGE),
      b(U64_HALF),
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
      { op: 'fork' }, // the child's maps: the moved [vdso], the hole, all copied as they are
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
