/**
 * Engine benchmark (issue 2): ns per maps line and per point query for processes of 100, 1,000,
 * 10,000 and ~65,400 VMAs (bench/engine/maps-and-query.ts), and the cost of an mmap+munmap pair
 * and of an mprotect at 1k vs 65k VMAs — each beside the host kernel doing the same on the
 * identical layout in this run (bench/kernel/kbench.c).
 */
import type { MmStruct } from '../../src/mm/mm-struct.js';
import { mmap, mprotect, munmap } from '../../src/mm/syscalls/index.js';
import { importLayout, runMapsAndQuery } from '../engine/maps-and-query.js';
import {
  type BenchContext,
  type BenchSection,
  type Figure,
  median,
  pairedRatioFigure,
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

/** Time per unit of one `fn()` call, which does `units` units of work. */
function nsPerUnit(units: number, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / units;
}

interface MutationFigures {
  pairNs: number;
  mprotectNs: number;
}

/**
 * mmap+munmap and mprotect split/re-merge on the imported layout, as kbench.c does them; set up
 * and warmed once, `rep()` measures one repetition (the caller alternates them with the kernel's).
 */
class MutationBench {
  private readonly pair: () => void;
  private readonly mprotects: () => void;
  private static readonly OPS = 20_000;

  constructor(mapsText: string) {
    const mm = importLayout(mapsText);
    const starts = vmaStarts(mm);
    const ops = MutationBench.OPS;
    // The same hint and the same split/merge as kbench.c: the middle of the layout.
    const mid = starts[starts.length >> 1];
    const hint = mid - 64 * PAGE;
    this.pair = () => {
      for (let k = 0; k < ops; k++) {
        const p = mmap(mm, hint, PAGE, PROT_RW, MAP_PRIVATE_ANON);
        if (p < 0) throw new Error(`mmap failed ${p}`);
        munmap(mm, p, PAGE);
      }
    };
    const midId = mm.findVma(mid);
    const writable = (mm.vmas.flags(midId) & 2) !== 0;
    this.mprotects = () => {
      for (let k = 0; k < ops; k++) {
        mprotect(mm, mid, PAGE, writable ? PROT_R : PROT_RW);
        mprotect(mm, mid, PAGE, writable ? PROT_RW : PROT_R);
      }
    };
    this.pair(); // warm-up (JIT)
    this.mprotects();
  }

  rep(): MutationFigures {
    return {
      pairNs: nsPerUnit(MutationBench.OPS, this.pair),
      mprotectNs: nsPerUnit(2 * MutationBench.OPS, this.mprotects),
    };
  }
}

export const engineSection: BenchSection = {
  name: 'engine',
  async run(ctx: BenchContext): Promise<Figure[]> {
    // The host leaves room for ~65,400 VMAs of our own under max_map_count (65,530) plus the
    // split that mprotect makes.
    const big = ctx.quick ? 10_000 : 65_400;
    const figures = await runMapsAndQuery(
      ctx,
      ctx.quick ? [100, 1_000, 10_000] : [100, 1_000, 10_000, big],
    );
    const engine: Record<number, MutationFigures> = {};
    const kernel: Record<number, MutationFigures> = {};
    for (const n of [1_000, big]) {
      // Kernel and engine repetitions alternate; ratios per pair (pairedRatioFigure).
      ctx.progress(`mutations at ${n} VMAs: kernel and engine, ${ctx.reps} pairs`);
      const first = runKernelBaseline(n, 1);
      const bench = new MutationBench(first.mapsText);
      const k: MutationFigures[] = [];
      const e: MutationFigures[] = [];
      for (let r = 0; r < ctx.reps; r++) {
        const f = r === 0 ? first.figures : runKernelBaseline(n, 1).figures;
        k.push({ pairNs: f.mmap_munmap_ns, mprotectNs: f.mprotect_ns });
        e.push(bench.rep());
      }
      const med = (xs: MutationFigures[]): MutationFigures => ({
        pairNs: median(xs.map((x) => x.pairNs)),
        mprotectNs: median(xs.map((x) => x.mprotectNs)),
      });
      kernel[n] = med(k);
      engine[n] = med(e);
      const pairs = (key: keyof MutationFigures) => e.map((x, i) => [x[key], k[i][key]] as const);
      const section = 'Engine: mutations vs the host kernel';
      figures.push(
        pairedRatioFigure(
          {
            id: `engine.mmap_munmap.${n}`,
            section,
            what: `mmap+munmap pair (${first.figures.vmas} VMAs)`,
            unit: 'ns',
            baselineName: 'Linux mmap+munmap',
            goal: { op: '<=', ratio: 1.0 },
          },
          pairs('pairNs'),
        ),
        pairedRatioFigure(
          {
            id: `engine.mprotect.${n}`,
            section,
            what: `mprotect, split or re-merge (${first.figures.vmas} VMAs)`,
            unit: 'ns',
            baselineName: 'Linux mprotect',
            goal: { op: '<=', ratio: 1.0 },
          },
          pairs('mprotectNs'),
        ),
      );
    }
    for (const [key, what] of [
      ['pairNs', 'mmap+munmap'],
      ['mprotectNs', 'mprotect'],
    ] as const) {
      figures.push(
        ratioFigure({
          id: `engine.growth.${key}`,
          section: 'Engine: mutation cost growth',
          what: `${what} at ${big} VMAs vs 1,000 VMAs`,
          unit: 'ns',
          value: engine[big][key],
          baseline: { name: `engine ${what} at 1,000 VMAs`, value: engine[1_000][key] },
          goal: { op: '<=', ratio: 3 },
        }),
        ratioFigure({
          id: `engine.kernel_growth.${key}`,
          section: 'Engine: mutation cost growth',
          what: `Linux ${what} at ${big} VMAs vs 1,000 VMAs (for comparison)`,
          unit: 'ns',
          value: kernel[big][key],
          baseline: { name: `Linux ${what} at 1,000 VMAs`, value: kernel[1_000][key] },
        }),
      );
    }
    return figures;
  },
};
