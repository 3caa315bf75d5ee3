/**
 * Builds a workload layout (definitions.ts) in a shared arena and computes its plan: the plain
 * data every reader and writer thread needs (target addresses, the hot VMA and its two
 * protections, the named VMAs, [vdso], the empty ranges the writers use). Built once on the main
 * thread before any other thread attaches (single-threaded syscalls, no locks needed yet).
 */
import type { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { OPS_VDSO } from '../../src/mm/special-mappings.js';
import { mmap, mprotect, munmap, prctlSetVmaAnonName } from '../../src/mm/syscalls/index.js';
import { buildTemplate } from '../../src/mm/templates/index.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VM_EXEC,
} from '../../src/mm/vm-flags.js';
import type { RcuDomain } from '../../src/sync/rcu.js';
import {
  ANON_NAMES,
  BATCH_ADDRESSES,
  BATCH_DISTINCT,
  COLD_RANGE_BYTES,
  LARGE_LAYOUT_VMAS,
  type LayoutName,
  NAMED_VMAS,
  xorshift,
} from './definitions.js';

const PAGE = 4096;

/** Everything the threads of one layout need besides the arena (structured-clone friendly). */
export interface WorkloadPlan {
  layout: LayoutName;
  vmas: number;
  /** [start, end) of every file-backed executable VMA (the point readers' targets). */
  text: Array<[number, number]>;
  /** The hot writer's VMA (one of `text`) and the two protections it flips between. */
  hot: { start: number; end: number; prots: [number, number] };
  /** query_batch's sorted addresses. */
  batch: number[];
  /** The cold writer's empty range. */
  coldStart: number;
  coldPages: number;
  /** The names writer's VMAs: NAMED_VMAS pages from `namedStart`. */
  namedStart: number;
  /** [vdso] and where the close writer moves it. */
  vdso: { start: number; len: number; away: number };
  /** The close writer's page (mapped, named and unmapped each round). */
  closePage: number;
}

/** Reserves `bytes` somewhere empty (give it back with munmap once all are reserved). */
function reserve(mm: MmStruct, bytes: number): number {
  const a = mmap(mm, 0, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
  if (a < 0) throw new Error(`no empty range of ${bytes} bytes`);
  return a;
}

/** The VMA covering `addr` as [start, end], or null. */
function covering(mm: MmStruct, addr: number): [number, number] | null {
  const id = mm.findVma(addr);
  if (id === 0 || mm.vmas.start(id) > addr) return null;
  return [mm.vmas.start(id), mm.vmas.end(id)];
}

/** A protection the text VMA can flip to and back without merging with a neighbour. */
function flipProt(mm: MmStruct, start: number, end: number): number {
  const before = mm.index.count;
  for (const p of [PROT_READ | PROT_WRITE | PROT_EXEC, PROT_NONE, PROT_READ]) {
    if (mprotect(mm, start, end - start, p) !== 0) continue;
    const c = covering(mm, start);
    const same = c !== null && c[0] === start && c[1] === end;
    if (mprotect(mm, start, end - start, PROT_READ | PROT_EXEC) !== 0) throw new Error('flip back');
    const back = covering(mm, start);
    if (same && back?.[0] === start && back[1] === end && mm.index.count === before) return p;
  }
  throw new Error('no protection flips the hot VMA without a merge');
}

/** Deterministic sorted batch: BATCH_ADDRESSES draws from BATCH_DISTINCT addresses in `text`. */
export function batchAddresses(text: ReadonlyArray<[number, number]>, seed: number): number[] {
  const next = xorshift(seed);
  const distinct: number[] = [];
  for (let i = 0; i < BATCH_DISTINCT; i++) {
    const [s, e] = text[next() % text.length];
    distinct.push(s + (next() % ((e - s) / PAGE)) * PAGE + (next() % PAGE));
  }
  const out: number[] = [];
  for (let i = 0; i < BATCH_ADDRESSES; i++) out.push(distinct[next() % distinct.length]);
  return out.sort((a, b) => a - b);
}

/** Builds `layout` in a new arena (RCU-deferred frees through `rcu`) and its plan. */
export function buildWorkload(
  layout: LayoutName,
  globals: MmGlobals,
  rcu: RcuDomain,
): { mm: MmStruct; plan: WorkloadPlan } {
  const mm = buildTemplate(layout === 'jvm' ? 'jvm' : 'node', {
    globals,
    seed: 3,
    grace: rcu,
    maxVmas: 65_530,
  });
  if (layout === 'vmas10k') {
    // Alternating protection so that neighbours never merge (kbench, proc-maps-race).
    const room = reserve(mm, LARGE_LAYOUT_VMAS * 2 * PAGE);
    munmap(mm, room, LARGE_LAYOUT_VMAS * 2 * PAGE);
    for (let i = 0; mm.index.count < LARGE_LAYOUT_VMAS - NAMED_VMAS; i++) {
      const prot = PROT_READ | (i % 2 ? 0 : PROT_WRITE);
      const r = mmap(
        mm,
        room + i * 2 * PAGE,
        2 * PAGE,
        prot,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
      );
      if (r < 0) throw new Error(`vmas10k: mmap ${r}`);
    }
  }
  const namedStart = mmap(
    mm,
    0,
    NAMED_VMAS * PAGE,
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS,
  );
  if (namedStart < 0) throw new Error('named VMAs');
  for (let i = 1; i < NAMED_VMAS; i += 2) mprotect(mm, namedStart + i * PAGE, PAGE, PROT_READ);
  if (prctlSetVmaAnonName(mm, namedStart, NAMED_VMAS * PAGE, ANON_NAMES[0]) !== 0) {
    throw new Error('anon name');
  }
  const text: Array<[number, number]> = [];
  let vdso: [number, number] | null = null;
  for (const [s, e, id] of mm.index.entries()) {
    if ((mm.vmas.flags(id) & VM_EXEC) !== 0 && mm.vmas.file(id) !== 0) text.push([s, e]);
    if (mm.vmas.ops(id) === OPS_VDSO) vdso = [s, e];
  }
  if (text.length === 0 || vdso === null) throw new Error(`${layout}: no text VMA or no [vdso]`);
  // The hot VMA: the largest text VMA (the main library's code, where symbolizers look most).
  const [hs, he] = text.reduce((a, b) => (b[1] - b[0] > a[1] - a[0] ? b : a));
  const hotProt = flipProt(mm, hs, he);
  const vdsoLen = vdso[1] - vdso[0];
  const coldStart = reserve(mm, COLD_RANGE_BYTES);
  const away = reserve(mm, vdsoLen);
  const closePage = reserve(mm, PAGE);
  for (const [a, len] of [
    [coldStart, COLD_RANGE_BYTES],
    [away, vdsoLen],
    [closePage, PAGE],
  ]) {
    if (munmap(mm, a, len) !== 0) throw new Error('munmap of a reserved range');
  }
  return {
    mm,
    plan: {
      layout,
      vmas: mm.index.count,
      text,
      hot: { start: hs, end: he, prots: [PROT_READ | PROT_EXEC, hotProt] },
      batch: batchAddresses(text, 7),
      coldStart,
      coldPages: COLD_RANGE_BYTES / PAGE,
      namedStart,
      vdso: { start: vdso[0], len: vdsoLen, away },
      closePage,
    },
  };
}
