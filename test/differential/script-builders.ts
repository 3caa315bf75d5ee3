// Small builders for hand-written scripts: page-counted ops over the sandbox, and the Scenario
// shape the scenario tests run.

import { PAGE, SANDBOX_BASE } from './random-script.js';
import { FD_NONE, type Op } from './script.js';

export const S = SANDBOX_BASE;
export const P = PAGE;
export const R = 0x1;
export const RW = 0x3;
export const NONE = 0x0;
export const ANON_FIXED = 0x32; // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
export const SHARED_ANON_FIXED = 0x31; // MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED
export const FILE_PRIVATE_FIXED = 0x12;
export const FILE_SHARED_FIXED = 0x11;
export const ANON_PRIVATE = 0x22;
export const MAP_GROWSDOWN = 0x100;
export const MAP_POPULATE = 0x8000;
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

export interface Scenario {
  name: string;
  ops: Op[];
  /** Uses PR_SET_VMA_ANON_NAME: run without those ops on hosts without CONFIG_ANON_VMA_NAME. */
  needsAnonNames?: boolean;
}

export function anon(addr: number, pages: number, prot: number, flags = ANON_FIXED): Op {
  return { op: 'mmap', addr, len: pages * P, prot, flags, fd: FD_NONE, off: 0 };
}
export function file(
  addr: number,
  pages: number,
  prot: number,
  fd: number,
  offPages: number,
  flags = FILE_PRIVATE_FIXED,
): Op {
  return { op: 'mmap', addr, len: pages * P, prot, flags, fd, off: offPages * P };
}
export function mprotect(addr: number, pages: number, prot: number): Op {
  return { op: 'mprotect', addr, len: pages * P, prot };
}
export function munmap(addr: number, pages: number): Op {
  return { op: 'munmap', addr, len: pages * P };
}
export function mremap(
  addr: number,
  oldPages: number,
  newPages: number,
  flags: number,
  newAddr = 0,
): Op {
  return { op: 'mremap', addr, oldLen: oldPages * P, newLen: newPages * P, flags, newAddr };
}
export const check: Op = { op: 'check' };
/** The probe addresses of the hand-written scenarios. */
export const probes: Op[] = [S, S + 3 * P, S + 7 * P, S + 20 * P].map((addr) => ({
  op: 'probe',
  addr,
}));
