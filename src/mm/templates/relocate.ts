/**
 * Relocates a real maps layout the way x86-64 ASLR places a fresh process, deterministically from
 * a seed. The layout keeps its shape (every VMA, its size, perms, file, offset, the gaps inside a
 * region); each region moves as a whole:
 *   - fixed (end ≤ 32 GiB: non-PIE executables at 0x400000, a JVM's zero-based compressed-oops
 *     heap and CDS archive): not moved, as the kernel honours those addresses;
 *   - hinted (32 GiB .. 0x500000000000: V8's randomly hinted heap pages): moved together by a
 *     random multiple of 256 KiB;
 *   - the PIE executable (0x5000_0000_0000 .. 0x6000_0000_0000): ELF_ET_DYN_BASE
 *     (0x555555554000) + random pages below 2^28 (mmap_rnd_bits = 28);
 *   - the heap: right after the region before it + random 0..32 MiB (brk randomisation);
 *   - the mmap area (libraries, vdso, anonymous maps, thread stacks): its top at mmap_base =
 *     TASK_SIZE - (16 GiB stack randomisation + 8 MiB stack + 1 MiB guard) - random pages < 2^28;
 *   - the stack: its top at STACK_TOP - random pages < 2^22 (16 GiB);
 *   - the `[vsyscall]` gate: fixed.
 */
import {
  KIND_ANON,
  KIND_GATE,
  KIND_HEAP,
  KIND_STACK,
  type MapsLine,
  parseMaps,
} from '../maps-parse.js';
import { PAGE_SIZE, TASK_SIZE } from '../vm-flags.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const FIXED_LIMIT = 32 * GiB;
const HINTED_LIMIT = 0x5000_0000_0000;
const EXE_LIMIT = 0x6000_0000_0000;
const ELF_ET_DYN_BASE = 0x5555_5555_4000;
const MMAP_RND_PAGES = 2 ** 28;
const STACK_RND_PAGES = 2 ** 22;
const MMAP_GAP = 16 * GiB + 8 * MiB + MiB;
const BRK_RND = 32 * MiB;

/** mulberry32: a small, fast, seedable PRNG (deterministic templates). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGION_FIXED = 0;
const REGION_HINTED = 1;
const REGION_EXE = 2;
const REGION_HEAP = 3;
const REGION_MMAP = 4;
const REGION_STACK = 5;
const REGION_GATE = 6;

function regionOf(l: MapsLine): number {
  if (l.kind === KIND_GATE) return REGION_GATE;
  if (l.kind === KIND_HEAP) return REGION_HEAP;
  if (l.kind === KIND_STACK) return REGION_STACK;
  if (l.end <= FIXED_LIMIT) return REGION_FIXED;
  if (l.end <= HINTED_LIMIT) return REGION_HINTED;
  if (l.end <= EXE_LIMIT) return REGION_EXE;
  return REGION_MMAP;
}

/** Random whole pages in [0, n) pages, as bytes. */
function randomPages(rnd: () => number, n: number): number {
  return Math.floor(rnd() * n) * PAGE_SIZE;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** The name exactly as printed (escapes and " (deleted)" included), or ''. */
function printedName(rawLine: string): string {
  const m = /^\S+ \S+ \S+ \S+ \S+ *(.*)$/.exec(rawLine);
  return m?.[1] ?? '';
}

function formatLine(l: MapsLine, start: number, end: number, name: string): string {
  const perms = `${l.read ? 'r' : '-'}${l.write ? 'w' : '-'}${l.exec ? 'x' : '-'}${l.shared ? 's' : 'p'}`;
  const prefix = `${hex(start, 8)}-${hex(end, 8)} ${perms} ${hex(l.offset, 8)} ${hex(l.devMajor, 2)}:${hex(l.devMinor, 2)} ${l.inode} `;
  return name === '' ? prefix : `${prefix.padEnd(72)} ${name}`;
}

/** The relocated layout as maps text (same lines, new addresses). */
export function relocateLayout(text: string, seed: number): string {
  const rnd = seededRandom(seed);
  const lines = parseMaps(text);
  const raw = text.split('\n');
  const region = lines.map(regionOf);
  const span = (r: number): [number, number] | null => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    lines.forEach((l, i) => {
      if (region[i] !== r) return;
      lo = Math.min(lo, l.start);
      hi = Math.max(hi, l.end);
    });
    return hi === 0 ? null : [lo, hi];
  };
  const delta = new Array<number>(7).fill(0);

  const hinted = span(REGION_HINTED);
  if (hinted) {
    const step = 0x40000;
    const lo = Math.ceil((FIXED_LIMIT - hinted[0]) / step);
    const hi = Math.floor((HINTED_LIMIT - hinted[1]) / step);
    delta[REGION_HINTED] = (lo + Math.floor(rnd() * (hi - lo + 1))) * step;
  }
  const exe = span(REGION_EXE);
  if (exe) delta[REGION_EXE] = ELF_ET_DYN_BASE + randomPages(rnd, MMAP_RND_PAGES) - exe[0];

  const stack = span(REGION_STACK);
  let stackBottom = TASK_SIZE;
  if (stack) {
    const top = TASK_SIZE - randomPages(rnd, STACK_RND_PAGES);
    delta[REGION_STACK] = top - stack[1];
    stackBottom = stack[0] + delta[REGION_STACK];
  }
  const mmap = span(REGION_MMAP);
  if (mmap) {
    const base = TASK_SIZE - MMAP_GAP - randomPages(rnd, MMAP_RND_PAGES);
    delta[REGION_MMAP] = Math.min(base, stackBottom - 128 * MiB) - mmap[1];
  }
  const heap = span(REGION_HEAP);
  if (heap) {
    // brk starts after whatever precedes the heap (the executable's bss), plus 0..32 MiB.
    const before = lines.findIndex((l) => l.kind === KIND_HEAP) - 1;
    const prevEnd = before >= 0 ? lines[before].end + delta[region[before]] : heap[0];
    delta[REGION_HEAP] = prevEnd + randomPages(rnd, BRK_RND / PAGE_SIZE) - heap[0];
  }

  const out = lines.map((l, i) => {
    const d = delta[region[i]];
    const name = l.kind === KIND_ANON ? '' : printedName(raw[l.lineNo - 1]);
    return formatLine(l, l.start + d, l.end + d, name);
  });
  return `${out.join('\n')}\n`;
}
