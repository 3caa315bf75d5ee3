/**
 * Engine benchmark (issue 2): ns per maps line and per point query for processes of 100, 1,000,
 * 10,000 and ~65,530 VMAs, and the cost of an mmap+munmap pair and of an mprotect at 1k vs 65k
 * VMAs — each beside the host kernel doing the same on the identical layout in this run
 * (bench/kernel/kbench.c: read(2) of /proc/self/maps in 4 KiB reads, the PROCMAP_QUERY ioctl, the
 * syscalls). The engine side reads under no contention on one thread, through the same chunked
 * maps producer (4 KiB chunks) and query matcher the service uses.
 */
import { importMaps } from '../../src/mm/import-maps.js';
import type { MmStruct } from '../../src/mm/mm-struct.js';
import { mmap, mprotect, munmap } from '../../src/mm/syscalls/index.js';
import { MapsCursor } from '../../src/procfs/maps-text.js';
import { ProcmapQueryResult, procmapQuery, queryArgs } from '../../src/procfs/procmap-query.js';
import { directMapsWalker, directQueryTarget } from '../../src/procfs/vma-capture.js';
import {
  type BenchContext,
  type BenchSection,
  type Figure,
  median,
  ratioFigure,
} from '../lib/figure.js';
import { runKernelBaseline } from '../lib/kernel-baseline.js';

const PAGE = 4096;
const PROT_R = 1;
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;

function vmaStarts(mm: MmStruct): number[] {
  const starts: number[] = [];
  for (let id = mm.findVma(0); id !== 0; id = mm.findVma(mm.vmas.end(id))) {
    starts.push(mm.vmas.start(id));
  }
  return starts;
}

/** Median over reps of the time per unit of `fn()`, which does `units` units of work. */
function nsPer(reps: number, units: number, fn: () => void): number {
  fn(); // warm-up (JIT)
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t0) / units);
  }
  return median(xs);
}

interface EngineFigures {
  lines: number;
  mapsNsPerLine: number;
  queryNs: number;
  pairNs: number;
  mprotectNs: number;
}

function measureEngine(mapsText: string, reps: number): EngineFigures {
  const mm = importMaps(mapsText, { maxVmas: 65_530 });
  const walker = directMapsWalker(mm);
  const cursor = new MapsCursor(4096);
  let lines = 0;
  cursor.rewind();
  for (let n = cursor.readChunk(walker); n > 0; n = cursor.readChunk(walker)) {
    const c = cursor.chunk();
    for (let i = 0; i < c.length; i++) if (c[i] === 10) lines++;
  }
  const readIters = lines > 20_000 ? 3 : lines > 2_000 ? 20 : 200;
  const mapsNsPerLine = nsPer(reps, readIters * lines, () => {
    for (let k = 0; k < readIters; k++) {
      cursor.rewind();
      while (cursor.readChunk(walker) > 0);
    }
  });

  const starts = vmaStarts(mm);
  const target = directQueryTarget(mm);
  const out = new ProcmapQueryResult();
  const ops = 20_000;
  let seed = 0x9e3779b9;
  const queryNs = nsPer(reps, ops, () => {
    for (let k = 0; k < ops; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const addr = starts[seed % starts.length];
      if (procmapQuery(queryArgs(addr, 0, false, false), target, out) !== 0) {
        throw new Error('query failed');
      }
    }
  });

  // The same hint and the same split/merge as kbench.c: the middle of the layout.
  const mid = starts[starts.length >> 1];
  const hint = mid - 64 * PAGE;
  const pairNs = nsPer(reps, ops, () => {
    for (let k = 0; k < ops; k++) {
      const p = mmap(mm, hint, PAGE, PROT_RW, MAP_PRIVATE_ANON);
      if (p < 0) throw new Error(`mmap failed ${p}`);
      munmap(mm, p, PAGE);
    }
  });
  const midId = mm.findVma(mid);
  const writable = (mm.vmas.flags(midId) & 2) !== 0;
  const mprotectNs = nsPer(reps, 2 * ops, () => {
    for (let k = 0; k < ops; k++) {
      mprotect(mm, mid, PAGE, writable ? PROT_R : PROT_RW);
      mprotect(mm, mid, PAGE, writable ? PROT_RW : PROT_R);
    }
  });
  return { lines, mapsNsPerLine, queryNs, pairNs, mprotectNs };
}

export const engineSection: BenchSection = {
  name: 'engine',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const sizes = ctx.quick ? [100, 1_000, 10_000] : [100, 1_000, 10_000, 65_400];
    const figures: Figure[] = [];
    const mutation: Record<number, EngineFigures> = {};
    const kernelMutation: Record<number, { pairNs: number; mprotectNs: number }> = {};
    for (const n of sizes) {
      ctx.progress(`kernel baseline, ${n} VMAs`);
      const k = runKernelBaseline(n, ctx.reps);
      ctx.progress(`engine, ${k.figures.vmas} VMAs`);
      const e = measureEngine(k.mapsText, ctx.reps);
      mutation[n] = e;
      kernelMutation[n] = { pairNs: k.figures.mmap_munmap_ns, mprotectNs: k.figures.mprotect_ns };
      const label = `${k.figures.vmas} VMAs`;
      figures.push(
        ratioFigure({
          id: `engine.maps_line.${n}`,
          section: 'Engine vs host kernel',
          what: `maps text per line, ${label}`,
          unit: 'ns',
          value: e.mapsNsPerLine,
          baseline: { name: 'kernel read(/proc/PID/maps)', value: k.figures.maps_ns_per_line },
          goal: { op: '<=', ratio: 0.5 },
        }),
        ratioFigure({
          id: `engine.query.${n}`,
          section: 'Engine vs host kernel',
          what: `point query, ${label}`,
          unit: 'ns',
          value: e.queryNs,
          baseline: { name: 'kernel PROCMAP_QUERY ioctl', value: k.figures.query_ns },
          goal: { op: '<=', ratio: 0.5 },
        }),
      );
      if (n === 1_000 || n === 65_400 || (ctx.quick && n === 10_000)) {
        figures.push(
          ratioFigure({
            id: `engine.mmap_munmap.${n}`,
            section: 'Engine vs host kernel',
            what: `mmap+munmap pair, ${label}`,
            unit: 'ns',
            value: e.pairNs,
            baseline: { name: 'kernel mmap+munmap', value: k.figures.mmap_munmap_ns },
            goal: { op: '<=', ratio: 1.0 },
          }),
          ratioFigure({
            id: `engine.mprotect.${n}`,
            section: 'Engine vs host kernel',
            what: `mprotect (split or re-merge), ${label}`,
            unit: 'ns',
            value: e.mprotectNs,
            baseline: { name: 'kernel mprotect', value: k.figures.mprotect_ns },
            goal: { op: '<=', ratio: 1.0 },
          }),
        );
      }
    }
    const big = ctx.quick ? 10_000 : 65_400;
    for (const [key, what] of [
      ['pairNs', 'mmap+munmap'],
      ['mprotectNs', 'mprotect'],
    ] as const) {
      figures.push(
        ratioFigure({
          id: `engine.growth.${key}`,
          section: 'Engine mutation cost growth',
          what: `${what} at ${big} VMAs vs 1,000 VMAs`,
          unit: 'ns',
          value: mutation[big][key],
          baseline: { name: `engine ${what} at 1,000 VMAs`, value: mutation[1_000][key] },
          goal: { op: '<=', ratio: 3 },
        }),
        ratioFigure({
          id: `engine.kernel_growth.${key}`,
          section: 'Engine mutation cost growth',
          what: `kernel ${what} at ${big} VMAs vs 1,000 VMAs (for comparison)`,
          unit: 'ns',
          value: kernelMutation[big][key],
          baseline: { name: `kernel ${what} at 1,000 VMAs`, value: kernelMutation[1_000][key] },
        }),
      );
    }
    return figures;
  },
};
