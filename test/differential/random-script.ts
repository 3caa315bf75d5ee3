// Seeded random differential scripts.
//
// Most addresses fall in a small sandbox (SANDBOX_PAGES pages at SANDBOX_BASE, nothing else is
// there) so that merges and splits happen all the time; a quarter fall in a window just below
// [vvar], where the kernel's top-down placement puts no-hint mappings. The helper's own mappings
// (binary, bss, heap, stack, vdso) are only ever touched by brk. A tenth of the calls are invalid
// on purpose (unaligned, zero or overflowing lengths, beyond TASK_SIZE, bad prot/flag bits,
// EBADF, EACCES, EEXIST, EFAULT...).
//
// The stream is prefix-stable: generateScript(seed, n) is the first n ops of the same infinite
// sequence (plus probes up front and a final check), so `DIFF_OPS=n` reproduces any prefix.

import { Rng } from './rng.js';
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
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_WRITE,
  U64_HALF,
  U64_MINUS_HALF_PAGE,
  U64_MINUS_PAGE,
} from './uapi.js';

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

class Generator {
  constructor(
    private readonly r: Rng,
    private readonly layout: ScriptLayout,
  ) {}

  private pages(lo: number, hi: number): number {
    return this.r.int(lo, hi) * PAGE;
  }

  /** A page-aligned start: 3/4 in the sandbox, 1/4 in the top-down window. */
  private addr(): number {
    if (this.r.chance(0.75)) return SANDBOX_BASE + this.pages(0, SANDBOX_PAGES - 1);
    return this.layout.windowEnd - this.pages(1, WINDOW_PAGES);
  }

  /** A length in pages that keeps a window range below [vvar]. */
  private range(maxPages: number): { addr: number; len: number } {
    const addr = this.addr();
    let len = this.pages(1, maxPages);
    if (addr < this.layout.windowEnd && addr + len > this.layout.windowEnd) {
      len = this.layout.windowEnd - addr;
    }
    return { addr, len };
  }

  private prot(): number {
    return this.r.pick(PROTS);
  }

  mmap(): Op {
    const r = this.r;
    const file = r.chance(0.35);
    let flags = r.chance(0.3) ? MAP_SHARED : MAP_PRIVATE;
    let fd = FD_NONE;
    let off = 0;
    if (file) {
      fd = r.int(0, FILE_COUNT - 1);
      off = this.pages(0, FILE_PAGES + 2);
    } else {
      flags |= MAP_ANONYMOUS;
      if (r.chance(0.1)) flags |= MAP_GROWSDOWN;
    }
    if (r.chance(0.15)) flags |= MAP_NORESERVE;
    // MAP_POPULATE faults the pages in: a private writable mapping then has an anon_vma, which
    // changes what it may merge with (different anon_vmas never merge) and how mremap moves it.
    if (r.chance(0.08)) flags |= MAP_POPULATE;
    if (r.chance(0.03)) flags |= r.pick([MAP_DENYWRITE, MAP_EXECUTABLE]);
    let prot = this.prot();
    // A shared writable mapping of the O_RDONLY file is EACCES; keep it to an occasional case.
    if (fd === FILE_RDONLY && flags & MAP_SHARED && prot & PROT_WRITE && r.chance(0.7)) {
      prot &= ~PROT_WRITE;
    }
    const { addr, len } = this.range(12);
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
      if (where < 0.1) hint = this.layout.mmapBase + this.pages(0, 4096);
      else if (where < 0.2) hint = this.layout.stackStart - this.pages(1, 300);
      return { op: 'mmap', addr: hint, len, prot, flags, fd, off };
    }
    // No hint: top-down from mmap_base; now and then a PMD-sized anonymous one (THP alignment).
    const bigLen = !file && r.chance(0.1) ? 0x200000 : this.pages(1, 8);
    return { op: 'mmap', addr: 0, len: bigLen, prot, flags, fd, off };
  }

  badMmap(): Op {
    const r = this.r;
    const { addr, len } = this.range(4);
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

  munmap(): Op {
    const r = this.r;
    if (r.chance(0.12)) {
      const { addr, len } = this.range(4);
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
    const { addr, len } = this.range(16);
    // An unaligned length is rounded up by the kernel; exercise that too.
    return { op: 'munmap', addr, len: r.chance(0.1) ? len - 0x321 : len };
  }

  mprotect(): Op {
    const r = this.r;
    const { addr, len } = this.range(16);
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
            addr: SANDBOX_BASE + this.pages(0, SANDBOX_PAGES - 1),
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
    let prot = this.prot();
    if (r.chance(0.08)) prot |= PROT_GROWSDOWN;
    if (r.chance(0.05)) prot |= 0x8; // PROT_SEM: accepted and ignored on x86
    return { op: 'mprotect', addr, len: r.chance(0.1) ? len - 0x7ff : len, prot };
  }

  mremap(): Op {
    const r = this.r;
    const { addr, len: oldLen } = this.range(8);
    let newLen = this.pages(1, 12);
    const choice = r.next();
    let flags: number;
    if (choice < 0.3) flags = 0;
    else if (choice < 0.55) flags = MREMAP_MAYMOVE;
    else if (choice < 0.8) flags = MREMAP_MAYMOVE | MREMAP_FIXED;
    else if (choice < 0.9) flags = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
    else flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
    if (flags & MREMAP_DONTUNMAP) newLen = oldLen; // DONTUNMAP requires equal sizes
    let newAddr = flags & MREMAP_FIXED ? this.addr() : 0;
    // Never let a window destination reach [vvar]: MREMAP_FIXED unmaps what is there.
    if (newAddr > SANDBOX_BASE + SANDBOX_PAGES * PAGE && newAddr + newLen > this.layout.windowEnd) {
      newAddr = this.layout.windowEnd - newLen;
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

  brk(): Op {
    const r = this.r;
    const l = this.layout;
    switch (r.int(0, 7)) {
      case 0:
        return { op: 'brk', addr: 0 };
      case 1:
        return { op: 'brk', addr: l.startBrk + this.pages(0, 8) };
      case 2:
        return { op: 'brk', addr: l.startBrk - this.pages(1, 4) }; // below start_brk: refused
      case 3:
        return { op: 'brk', addr: l.brk + this.pages(0, 40) + r.int(1, 0xfff) };
      case 4:
        // Past TASK_SIZE, and near 2^64 where PAGE_ALIGN wraps to 0: all refused.
        return {
          op: 'brk',
          addr: r.pick([TASK_SIZE, U64_HALF, U64_MINUS_PAGE, U64_MINUS_HALF_PAGE]),
        };
      default:
        return { op: 'brk', addr: l.brk + this.pages(0, 48) };
    }
  }

  anon(): Op {
    const r = this.r;
    const { addr, len } = this.range(10);
    const names = ['buf', 'a', 'arena 1', 'x'.repeat(79), null, 'buf', 'JIT code'];
    if (r.chance(0.15)) {
      const bad = r.pick([
        'has[bracket',
        'dollar$',
        'back\\slash',
        'tick`',
        'x'.repeat(80),
        'tab\t',
      ]);
      return { op: 'anon', addr, len, name: bad };
    }
    if (r.chance(0.05)) return { op: 'anon', addr: addr + 1, len, name: 'a' };
    return { op: 'anon', addr, len, name: r.pick(names) };
  }

  /**
   * A read or write of one page (at an offset, sometimes of length 0): a page fault, nothing,
   * or EFAULT (no VMA, no permission, past the end of the file). One page, because a real
   * program touching several pages stops at the first one it may not access, while the engine's
   * touch answers EFAULT for the whole range before touching any (README: touched memory).
   */
  private touch(): Op {
    const r = this.r;
    const off = r.chance(0.3) ? r.int(0, PAGE - 1) : 0;
    const len = r.chance(0.05) ? 0 : r.int(1, PAGE - off);
    return { op: 'touch', addr: this.addr() + off, len, write: r.chance(0.5) };
  }

  /** Ops already decided (a mapping made just so that the next op has a VMA to work on). */
  private readonly pending: Op[] = [];

  /** Half the mremaps get a fresh mapping of exactly the old range first, so fewer are EFAULT. */
  private mremapOnFreshVma(): Op {
    const m = this.mremap();
    if (m.op === 'mremap' && m.oldLen > 0 && m.oldLen <= 16 * PAGE && this.r.chance(0.5)) {
      const fileBacked = this.r.chance(0.3);
      const flags = (this.r.chance(0.25) ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED;
      this.pending.push(m);
      return {
        op: 'mmap',
        addr: m.addr,
        len: m.oldLen,
        prot: this.prot(),
        flags: fileBacked ? flags : flags | MAP_ANONYMOUS,
        fd: fileBacked ? this.r.int(0, FILE_RDONLY - 1) : FD_NONE,
        off: fileBacked ? this.pages(0, FILE_PAGES) : 0,
      };
    }
    return m;
  }

  op(index: number): Op {
    const r = this.r;
    if (index % CHECK_EVERY === CHECK_EVERY - 1) return { op: 'check' };
    const queued = this.pending.shift();
    if (queued) return queued;
    if (r.chance(0.003)) return { op: 'unlink', file: r.int(0, FILE_COUNT - 1) };
    if (r.chance(0.01)) return { op: 'fork' };
    if (r.chance(0.002)) return { op: 'forkchild' }; // the rest of the script runs in a child
    if (this.layout.touch !== false && r.chance(0.15)) return this.touch();
    const x = r.next();
    if (x < 0.3) return r.chance(0.12) ? this.badMmap() : this.mmap();
    if (x < 0.48) return this.munmap();
    if (x < 0.66) return this.mprotect();
    if (x < 0.84) return this.mremapOnFreshVma();
    if (x < 0.92) return this.brk();
    if (this.layout.anonNames) return this.anon();
    return this.mmap();
  }
}

/** The probes, then `ops` generated ops (checkpoints every CHECK_EVERY included), then a check. */
export function generateScript(seed: number, ops: number, layout: ScriptLayout): Op[] {
  const gen = new Generator(new Rng(seed), layout);
  const out: Op[] = probeAddresses(layout).map((addr) => ({ op: 'probe', addr }));
  for (let i = 0; i < ops; i++) out.push(gen.op(i));
  if (out[out.length - 1]!.op !== 'check') out.push({ op: 'check' });
  return out;
}
