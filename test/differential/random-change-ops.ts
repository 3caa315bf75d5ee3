// Random mprotect, mremap, brk, anon-name, madvise and touch calls of a differential script, a share of
// them invalid on purpose (unaligned, zero or overflowing lengths, beyond TASK_SIZE, bad
// prot/flag bits, names the kernel refuses, EFAULT...).

import { PAGE, type RandomPicks, SANDBOX_BASE, SANDBOX_PAGES, TASK_SIZE } from './random-layout.js';
import type { Op } from './script.js';
import {
  MADV_DOFORK,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  U64_HALF,
  U64_MINUS_HALF_PAGE,
  U64_MINUS_PAGE,
} from './uapi.js';

export function mprotectOp(p: RandomPicks): Op {
  const r = p.r;
  const { addr, len } = p.range(16);
  if (r.chance(0.12)) {
    switch (r.int(0, 5)) {
      case 0:
        return { op: 'mprotect', addr: addr + 4, len, prot: PROT_READ };
      case 1:
        return { op: 'mprotect', addr, len, prot: r.pick([0x10, 0x20, 0x80, PROT_GROWSUP]) };
      case 2:
        return { op: 'mprotect', addr, len, prot: PROT_GROWSDOWN | PROT_GROWSUP | PROT_READ };
      case 3:
        // From the sandbox only: a huge mprotect applies up to the first hole, and the window's
        // top VMA may touch [vvar].
        return {
          op: 'mprotect',
          addr: SANDBOX_BASE + p.pages(0, SANDBOX_PAGES - 1),
          len: r.pick([U64_MINUS_PAGE, U64_HALF]),
          prot: PROT_READ,
        };
      case 4:
        return { op: 'mprotect', addr, len: 0, prot: PROT_READ };
      default:
        return {
          op: 'mprotect',
          addr: r.pick([TASK_SIZE, 0x8000_0000_0000]),
          len: PAGE,
          prot: 0,
        };
    }
  }
  let prot = p.prot();
  if (r.chance(0.08)) prot |= PROT_GROWSDOWN;
  if (r.chance(0.05)) prot |= 0x8; // PROT_SEM: accepted and ignored on x86
  return { op: 'mprotect', addr, len: r.chance(0.1) ? len - 0x7ff : len, prot };
}

export function mremapOp(p: RandomPicks): Op {
  const r = p.r;
  const { addr, len: oldLen } = p.range(8);
  let newLen = p.pages(1, 12);
  const choice = r.next();
  let flags: number;
  if (choice < 0.3) flags = 0;
  else if (choice < 0.55) flags = MREMAP_MAYMOVE;
  else if (choice < 0.8) flags = MREMAP_MAYMOVE | MREMAP_FIXED;
  else if (choice < 0.9) flags = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
  else flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
  if (flags & MREMAP_DONTUNMAP) newLen = oldLen; // DONTUNMAP requires equal sizes
  let newAddr = flags & MREMAP_FIXED ? p.addr() : 0;
  // Never let a window destination reach [vvar]: MREMAP_FIXED unmaps what is there.
  if (newAddr > SANDBOX_BASE + SANDBOX_PAGES * PAGE && newAddr + newLen > p.layout.windowEnd) {
    newAddr = p.layout.windowEnd - newLen;
  }
  if (r.chance(0.12)) {
    switch (r.int(0, 7)) {
      case 0:
        flags = r.pick([8, MREMAP_FIXED, MREMAP_DONTUNMAP, 0x10]);
        break;
      case 1:
        return { op: 'mremap', addr: addr + 0x10, oldLen, newLen, flags, newAddr };
      case 2:
        newLen = 0;
        break;
      case 3:
        return { op: 'mremap', addr, oldLen: 0, newLen, flags: MREMAP_MAYMOVE, newAddr: 0 };
      case 4:
        flags = MREMAP_MAYMOVE | MREMAP_FIXED;
        newAddr = addr + PAGE; // overlaps the old range
        break;
      case 5:
        newLen = r.pick([U64_MINUS_PAGE, U64_HALF, TASK_SIZE]);
        break;
      case 6:
        flags = MREMAP_MAYMOVE | MREMAP_FIXED;
        newAddr = r.pick([TASK_SIZE, 0x8000_0000_0000, SANDBOX_BASE + 0x10]);
        break;
      default:
        flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
        newLen = oldLen + PAGE;
        break;
    }
  }
  return { op: 'mremap', addr, oldLen, newLen, flags, newAddr };
}

export function brkOp(p: RandomPicks): Op {
  const r = p.r;
  const l = p.layout;
  switch (r.int(0, 7)) {
    case 0:
      return { op: 'brk', addr: 0 };
    case 1:
      return { op: 'brk', addr: l.startBrk + p.pages(0, 8) };
    case 2:
      return { op: 'brk', addr: l.startBrk - p.pages(1, 4) }; // below start_brk: refused
    case 3:
      return { op: 'brk', addr: l.brk + p.pages(0, 40) + r.int(1, 0xfff) };
    case 4:
      // Past TASK_SIZE, and near 2^64 where PAGE_ALIGN wraps to 0: all refused.
      return {
        op: 'brk',
        addr: r.pick([TASK_SIZE, U64_HALF, U64_MINUS_PAGE, U64_MINUS_HALF_PAGE]),
      };
    default:
      return { op: 'brk', addr: l.brk + p.pages(0, 48) };
  }
}

export function anonOp(p: RandomPicks): Op {
  const r = p.r;
  const { addr, len } = p.range(10);
  const names = ['buf', 'a', 'arena 1', 'x'.repeat(79), null, 'buf', 'JIT code'];
  if (r.chance(0.15)) {
    const bad = r.pick(['has[bracket', 'dollar$', 'back\\slash', 'tick`', 'x'.repeat(80), 'tab\t']);
    return { op: 'anon', addr, len, name: bad };
  }
  if (r.chance(0.05)) return { op: 'anon', addr: addr + 1, len, name: 'a' };
  return { op: 'anon', addr, len, name: r.pick(names) };
}

/**
 * madvise with an advice the engine models (flag changes that split and merge like mprotect,
 * DONTNEED zapping pages), over a range that may span holes (ENOMEM after advising the VMAs
 * before the hole); a share invalid on purpose: unaligned, an advice no kernel knows, a wrapping
 * length, length 0.
 */
export function madviseOp(p: RandomPicks): Op {
  const r = p.r;
  const { addr, len } = p.range(16);
  if (r.chance(0.1)) {
    switch (r.int(0, 3)) {
      case 0:
        return { op: 'madvise', addr: addr + 4, len, advice: MADV_DONTNEED };
      case 1:
        return { op: 'madvise', addr, len, advice: r.pick([99, 0x7fff]) };
      case 2:
        return { op: 'madvise', addr, len: 0, advice: MADV_HUGEPAGE };
      default:
        return { op: 'madvise', addr, len: U64_MINUS_PAGE, advice: MADV_DONTFORK };
    }
  }
  const advice = r.pick([
    MADV_DONTNEED,
    MADV_DONTNEED,
    MADV_HUGEPAGE,
    MADV_NOHUGEPAGE,
    MADV_DONTFORK,
    MADV_DOFORK,
  ]);
  return { op: 'madvise', addr, len: r.chance(0.1) ? len - 0x7ff : len, advice };
}

/**
 * A read or write of one page (at an offset, sometimes of length 0): a page fault, nothing,
 * or EFAULT (no VMA, no permission, past the end of the file). One page, because a real
 * program touching several pages stops at the first one it may not access, while the engine's
 * touch answers EFAULT for the whole range before touching any (README: touched memory).
 */
export function touchOp(p: RandomPicks): Op {
  const r = p.r;
  const off = r.chance(0.3) ? r.int(0, PAGE - 1) : 0;
  const len = r.chance(0.05) ? 0 : r.int(1, PAGE - off);
  return { op: 'touch', addr: p.addr() + off, len, write: r.chance(0.5) };
}
