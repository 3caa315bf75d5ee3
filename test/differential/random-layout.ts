// The layout random differential scripts run in, and the random picks of addresses, ranges
// and protections in it.
//
// Most addresses fall in a small sandbox (SANDBOX_PAGES pages at SANDBOX_BASE, nothing else is
// there) so that merges and splits happen all the time; a quarter fall in a window just below
// [vvar], where the kernel's top-down placement puts no-hint mappings. The helper's own mappings
// (binary, bss, heap, stack, vdso) are only ever touched by brk.

import type { Rng } from './rng.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from './uapi.js';

export const PAGE = 0x1000;
export const SANDBOX_BASE = 0x1000_0000_0000;
export const SANDBOX_PAGES = 128;
/** Pages of the top-down window below [vvar]. */
export const WINDOW_PAGES = 256;
export const TASK_SIZE = 0x7fff_ffff_f000;
/** Ops between checkpoints. */
export const CHECK_EVERY = 20;

/** What the generator needs to know about the helper's layout (from the oracle header). */
export interface ScriptLayout {
  startBrk: number;
  /** brk(0) at start. */
  brk: number;
  /** Start of [vvar]: the top-down window ends here. */
  windowEnd: number;
  /** Whether anon-name ops may be generated (the host has CONFIG_ANON_VMA_NAME). */
  anonNames: boolean;
  /** Start of [stack]: hints just below it meet the stack guard gap. */
  stackStart: number;
  /** mmap_base (the end of [vdso]): hints between it and the stack are honoured when free. */
  mmapBase: number;
  /** Whether touch ops (single-page reads and writes) are generated: yes unless false. */
  touch?: boolean;
}

/** The probe addresses every checkpoint queries (plus the full walks). */
export function probeAddresses(layout: ScriptLayout): number[] {
  return [
    SANDBOX_BASE,
    SANDBOX_BASE + 5 * PAGE + 0x123,
    layout.windowEnd - PAGE,
    SANDBOX_BASE + 17 * PAGE,
    SANDBOX_BASE + 64 * PAGE,
    SANDBOX_BASE + (SANDBOX_PAGES - 1) * PAGE,
    SANDBOX_BASE - PAGE,
    layout.windowEnd - 40 * PAGE,
    layout.startBrk,
    0,
    TASK_SIZE - 1,
    TASK_SIZE,
    0xffff_ffff_ff60_0000,
  ];
}

const PROTS = [
  PROT_READ,
  PROT_READ | PROT_WRITE,
  PROT_READ | PROT_WRITE,
  0,
  PROT_READ | PROT_EXEC,
  PROT_WRITE,
  PROT_READ | PROT_WRITE | PROT_EXEC,
  PROT_EXEC,
];

/** Random picks (addresses, ranges, protections) in a script's layout. */
export class RandomPicks {
  constructor(
    readonly r: Rng,
    readonly layout: ScriptLayout,
  ) {}

  pages(lo: number, hi: number): number {
    return this.r.int(lo, hi) * PAGE;
  }

  /** A page-aligned start: 3/4 in the sandbox, 1/4 in the top-down window. */
  addr(): number {
    if (this.r.chance(0.75)) return SANDBOX_BASE + this.pages(0, SANDBOX_PAGES - 1);
    return this.layout.windowEnd - this.pages(1, WINDOW_PAGES);
  }

  /** A length in pages that keeps a window range below [vvar]. */
  range(maxPages: number): { addr: number; len: number } {
    const addr = this.addr();
    let len = this.pages(1, maxPages);
    if (addr < this.layout.windowEnd && addr + len > this.layout.windowEnd) {
      len = this.layout.windowEnd - addr;
    }
    return { addr, len };
  }

  prot(): number {
    return this.r.pick(PROTS);
  }
}
