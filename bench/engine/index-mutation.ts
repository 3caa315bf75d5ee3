/**
 * Micro-benchmark of the VMA index alone (no syscall logic): cost of a mutation at 1,000 vs
 * 65,530 entries, to show it grows no worse than logarithmically (issue 2: growth <= 3x).
 *
 * Layout: `n` one-page entries separated by one-page gaps (like an address space of unmergeable
 * VMAs). Measured per operation, random positions (fixed seed), median of `reps` runs:
 *  - `store_erase`: store a new entry into a gap, then erase it (the index part of mmap+munmap);
 *  - `split_restore`: store over the middle third of a 3-page entry, then store the whole entry
 *    back (the index part of mprotect splitting a VMA and re-merging it);
 *  - `find_next`: findNext at a random address (find_vma).
 * Time is process CPU time (`process.cpuUsage`), not wall time, so the figures stay meaningful on
 * a shared, loaded machine (time spent descheduled is not counted; cache pollution still is).
 * Exported for `npm run bench` (bench/sections); no top-level run.
 */

import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { type BenchContext, type Figure, median, ratioFigure } from '../lib/figure.js';

const P = 4096;
const BASE = 0x5555_0000_0000;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface IndexMutationResult {
  entries: number;
  storeEraseNs: number;
  splitRestoreNs: number;
  findNextNs: number;
}

/** CPU microseconds used by this process so far (user + system). */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Build an mm whose index holds `n` 3-page entries with 1-page gaps. */
function buildIndex(n: number): MmStruct {
  const globals = MmGlobals.create({ maxFiles: 4, fileHeapBytes: 4096, anonNameSlots: 4 });
  const mm = MmStruct.create({ maxVmas: Math.max(n * 2, 1024), globals });
  for (let i = 0; i < n; i++) {
    const s = BASE + i * 4 * P;
    mm.index.store(s, s + 3 * P, i + 1);
  }
  return mm;
}

/** One measurement run at `n` entries; `ops` operations of each kind. */
export function measureIndexMutation(n: number, ops: number, seed = 1): IndexMutationResult {
  const mm = buildIndex(n);
  const ix = mm.index;
  const rand = prng(seed);
  const slots = new Float64Array(ops);
  for (let k = 0; k < ops; k++) slots[k] = Math.floor(rand() * n);

  let t0 = cpuMicros();
  for (let k = 0; k < ops; k++) {
    const gap = BASE + slots[k] * 4 * P + 3 * P;
    ix.store(gap, gap + P, n + 1);
    ix.erase(gap, gap + P);
  }
  const storeEraseNs = ((cpuMicros() - t0) * 1000) / ops;

  t0 = cpuMicros();
  for (let k = 0; k < ops; k++) {
    const i = slots[k];
    const s = BASE + i * 4 * P;
    ix.store(s + P, s + 2 * P, n + 2);
    ix.store(s, s + 3 * P, i + 1);
  }
  const splitRestoreNs = ((cpuMicros() - t0) * 1000) / ops;

  let sink = 0;
  t0 = cpuMicros();
  for (let k = 0; k < ops; k++) sink += ix.findNext(BASE + slots[k] * 4 * P + 3 * P);
  const findNextNs = ((cpuMicros() - t0) * 1000) / ops;
  if (sink === -1) console.log(sink);
  ix.check();
  return { entries: n, storeEraseNs, splitRestoreNs, findNextNs };
}

/** The bench section body: figures for 1k and 65,530 entries and their growth ratios. */
export async function benchIndexMutation(ctx: BenchContext): Promise<Figure[]> {
  const ops = ctx.quick ? 20_000 : 100_000;
  const sizes = [1000, 65_530];
  const med: Record<number, IndexMutationResult> = {};
  for (const n of sizes) {
    const runs: IndexMutationResult[] = [];
    measureIndexMutation(n, ops / 4, 99); // warm-up (JIT)
    for (let r = 0; r < ctx.reps; r++) {
      ctx.progress(`index mutation: ${n} entries, run ${r + 1}/${ctx.reps}`);
      runs.push(measureIndexMutation(n, ops, r + 1));
    }
    med[n] = {
      entries: n,
      storeEraseNs: median(runs.map((x) => x.storeEraseNs)),
      splitRestoreNs: median(runs.map((x) => x.splitRestoreNs)),
      findNextNs: median(runs.map((x) => x.findNextNs)),
    };
  }
  const small = med[1000];
  const big = med[65_530];
  const section = 'Engine: VMA index';
  const fig = (key: keyof IndexMutationResult, id: string, what: string): Figure =>
    ratioFigure({
      id: `engine.index.${id}.growth`,
      section,
      what: `${what}: 65,530 vs 1,000 entries`,
      unit: 'ns/op',
      value: big[key],
      baseline: { name: '1,000 entries', value: small[key] },
      goal: { op: '<=', ratio: 3 },
      note: `${small[key].toFixed(0)} -> ${big[key].toFixed(0)} ns`,
    });
  return [
    fig('storeEraseNs', 'store_erase', 'store + erase of a 1-page entry (mmap+munmap index work)'),
    fig(
      'splitRestoreNs',
      'split_restore',
      'split a 3-page entry and restore it (mprotect index work)',
    ),
    fig('findNextNs', 'find_next', 'findNext at a random address (find_vma)'),
  ];
}
