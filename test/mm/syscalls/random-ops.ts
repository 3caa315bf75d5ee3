// Random syscall operations inside a small window of the sandbox, shared by the property tests.
import fc from 'fast-check';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import {
  brk,
  mmap,
  mprotect,
  mremap,
  munmap,
  prctlSetVmaAnonName,
} from '../../../src/mm/syscalls/index.js';
import { PAGE as P, SANDBOX as S } from './helpers.js';

export const WINDOW_PAGES = 64;
const page = fc.integer({ min: 0, max: WINDOW_PAGES - 1 });
const pages = fc.constantFrom(0, 1, 1, 2, 3, 4, 8, 16);
const prot = fc.constantFrom(0, 1, 3, 3, 5, 7, 4);
const name = fc.constantFrom(null, 'a', 'b', 'a', 'heap', 'x[y');

export type Op =
  | { k: 'mmap'; at: number; n: number; prot: number; flags: number; file: number; off: number }
  | { k: 'munmap'; at: number; n: number }
  | { k: 'mprotect'; at: number; n: number; prot: number }
  | { k: 'mremap'; at: number; n: number; m: number; flags: number; to: number }
  | { k: 'brk'; n: number }
  | { k: 'name'; at: number; n: number; name: string | null };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant('mmap' as const),
    at: page,
    n: pages,
    prot,
    flags: fc.constantFrom(
      0x32,
      0x32,
      0x31,
      0x12,
      0x11,
      0x22,
      0x100022,
      0x4032,
      0x132,
      0x20032,
      0x8032, // MAP_POPULATE
      0x2032, // MAP_LOCKED
    ),
    file: fc.constantFrom(0, 1),
    off: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ k: fc.constant('munmap' as const), at: page, n: pages }),
  fc.record({ k: fc.constant('mprotect' as const), at: page, n: pages, prot }),
  fc.record({
    k: fc.constant('mremap' as const),
    at: page,
    n: pages,
    m: pages,
    flags: fc.constantFrom(0, 1, 3, 7, 5),
    to: page,
  }),
  fc.record({ k: fc.constant('brk' as const), n: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ k: fc.constant('name' as const), at: page, n: pages, name }),
);

export function apply(mm: MmStruct, files: number[], o: Op): number {
  switch (o.k) {
    case 'mmap': {
      const addr = S + o.at * P;
      if (o.flags & 0x20) return mmap(mm, addr, o.n * P, o.prot, o.flags);
      const file = { fileId: files[o.file], offset: o.off * P, writable: o.file === 0 };
      return mmap(mm, addr, o.n * P, o.prot, o.flags, file);
    }
    case 'munmap':
      return munmap(mm, S + o.at * P, o.n * P);
    case 'mprotect':
      return mprotect(mm, S + o.at * P, o.n * P, o.prot);
    case 'mremap':
      return mremap(mm, S + o.at * P, o.n * P, o.m * P, o.flags, S + o.to * P);
    case 'brk':
      return brk(mm, mm.startBrk + o.n * 0x800);
    case 'name':
      return prctlSetVmaAnonName(mm, S + o.at * P, o.n * P, o.name);
  }
}
