// Random mmap and munmap calls of a differential script: valid ones (placement, file or
// anonymous, flags) and, a share of the time, invalid ones (unaligned, zero or overflowing
// lengths, beyond TASK_SIZE, bad flag bits, EBADF, EACCES, EEXIST...).

import { PAGE, type RandomPicks, SANDBOX_BASE, TASK_SIZE } from './random-layout.js';
import { FD_CLOSED, FD_NONE, FILE_COUNT, FILE_PAGES, FILE_RDONLY, type Op } from './script.js';
import {
  MAP_ANONYMOUS,
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_SYNC,
  PROT_GROWSDOWN,
  PROT_READ,
  PROT_WRITE,
  U64_HALF,
  U64_MINUS_PAGE,
} from './uapi.js';

export function mmapOp(p: RandomPicks): Op {
  const r = p.r;
  const file = r.chance(0.35);
  let flags = r.chance(0.3) ? MAP_SHARED : MAP_PRIVATE;
  let fd = FD_NONE;
  let off = 0;
  if (file) {
    fd = r.int(0, FILE_COUNT - 1);
    off = p.pages(0, FILE_PAGES + 2);
  } else {
    flags |= MAP_ANONYMOUS;
    if (r.chance(0.1)) flags |= MAP_GROWSDOWN;
  }
  if (r.chance(0.15)) flags |= MAP_NORESERVE;
  // MAP_POPULATE faults the pages in: a private writable mapping then has an anon_vma, which
  // changes what it may merge with (different anon_vmas never merge) and how mremap moves it.
  if (r.chance(0.08)) flags |= MAP_POPULATE;
  if (r.chance(0.03)) flags |= r.pick([MAP_DENYWRITE, MAP_EXECUTABLE]);
  let prot = p.prot();
  // A shared writable mapping of the O_RDONLY file is EACCES; keep it to an occasional case.
  if (fd === FILE_RDONLY && flags & MAP_SHARED && prot & PROT_WRITE && r.chance(0.7)) {
    prot &= ~PROT_WRITE;
  }
  const { addr, len } = p.range(12);
  const placement = r.next();
  if (placement < 0.55) {
    return { op: 'mmap', addr, len, prot, flags: flags | MAP_FIXED, fd, off };
  }
  if (placement < 0.65) {
    return { op: 'mmap', addr, len, prot, flags: flags | MAP_FIXED_NOREPLACE, fd, off };
  }
  if (placement < 0.8) {
    // A hint: mostly in the sandbox/window; sometimes above mmap_base or right below the stack,
    // where the 1 MiB stack guard gap decides whether the hint is taken.
    const where = r.next();
    let hint = addr;
    if (where < 0.1) hint = p.layout.mmapBase + p.pages(0, 4096);
    else if (where < 0.2) hint = p.layout.stackStart - p.pages(1, 300);
    return { op: 'mmap', addr: hint, len, prot, flags, fd, off };
  }
  // No hint: top-down from mmap_base; now and then a PMD-sized anonymous one (THP alignment).
  const bigLen = !file && r.chance(0.1) ? 0x200000 : p.pages(1, 8);
  return { op: 'mmap', addr: 0, len: bigLen, prot, flags, fd, off };
}

export function badMmapOp(p: RandomPicks): Op {
  const r = p.r;
  const { addr, len } = p.range(4);
  const anonFixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
  const base = {
    op: 'mmap' as const,
    addr,
    len,
    prot: PROT_READ,
    flags: anonFixed,
    fd: FD_NONE,
    off: 0,
  };
  switch (r.int(0, 12)) {
    case 0:
      return { ...base, len: 0 };
    case 1:
      return { ...base, addr: addr + 0x10 };
    case 2:
      return { ...base, len: r.pick([U64_MINUS_PAGE, U64_HALF, TASK_SIZE + PAGE]) };
    case 3:
      return {
        ...base,
        addr: r.pick([TASK_SIZE, 0x8000_0000_0000, TASK_SIZE - PAGE]),
        len: 2 * PAGE,
      };
    case 4:
      return { ...base, flags: MAP_ANONYMOUS | MAP_FIXED };
    case 5:
      return { ...base, flags: MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED | MAP_SYNC };
    case 6: {
      // MAP_SHARED_VALIDATE on a file: fine alone, EOPNOTSUPP with MAP_SYNC (not a DAX file)
      const sync = r.chance(0.5) ? MAP_SYNC : 0;
      const flags = MAP_SHARED_VALIDATE | MAP_FIXED | sync;
      return { ...base, flags, fd: r.int(0, 2), prot: PROT_READ | PROT_WRITE };
    }
    case 7:
      return { ...base, flags: MAP_PRIVATE | MAP_FIXED, fd: r.pick([FD_NONE, FD_CLOSED]) };
    case 8:
      return { ...base, flags: MAP_PRIVATE | MAP_FIXED, fd: 0, off: r.pick([0x123, PAGE + 1]) };
    case 9:
      return {
        ...base,
        flags: MAP_SHARED | MAP_FIXED,
        fd: FILE_RDONLY,
        prot: PROT_READ | PROT_WRITE,
      };
    case 10:
      return {
        ...base,
        flags: MAP_PRIVATE | MAP_FIXED,
        fd: 1,
        off: r.pick([U64_MINUS_PAGE, 2 ** 52]),
      };
    case 11:
      return { ...base, prot: r.pick([0x8, 0x10, PROT_GROWSDOWN | PROT_READ, 0x40]) };
    default:
      return {
        ...base,
        flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
        addr: SANDBOX_BASE,
      };
  }
}

export function munmapOp(p: RandomPicks): Op {
  const r = p.r;
  if (r.chance(0.12)) {
    const { addr, len } = p.range(4);
    switch (r.int(0, 3)) {
      case 0:
        return { op: 'munmap', addr: addr + 0x800, len };
      case 1:
        return { op: 'munmap', addr, len: 0 };
      case 2:
        return { op: 'munmap', addr, len: r.pick([U64_MINUS_PAGE, U64_HALF, TASK_SIZE]) };
      default:
        return {
          op: 'munmap',
          addr: r.pick([TASK_SIZE, 0x8000_0000_0000, 0xffff_ffff_ff60_0000]),
          len: PAGE,
        };
    }
  }
  const { addr, len } = p.range(16);
  // An unaligned length is rounded up by the kernel; exercise that too.
  return { op: 'munmap', addr, len: r.chance(0.1) ? len - 0x321 : len };
}
