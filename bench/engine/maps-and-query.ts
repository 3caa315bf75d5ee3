/**
 * Engine benchmark of the readers (issue 2): ns per maps line and ns per PROCMAP_QUERY point
 * query on an address space of N VMAs, each beside the host kernel doing the same on the
 * identical layout in the same run (bench/kernel/kbench.c prints its maps text; the engine
 * imports exactly that text). Goal: ratio <= 0.5 (half the kernel's cost).
 *
 * Like the kernel's side, the maps figure reads the whole file in 4 KiB chunks (MapsCursor with
 * the direct walker: the cost of formatting and chunking, no lock; then again through the
 * default strategy, per_vma, whose per-line VMA read lock counts too), and the query figure asks
 * for a pseudo-random covered address with flags 0 and no name. Time is wall-clock
 * (performance.now) per batch, as kbench does; kernel and engine repetitions alternate, and each
 * ratio is the median of the per-pair ratios.
 * Exported for `npm run bench` (bench/sections); no top-level run.
 */
import { importMaps } from '../../src/mm/import-maps.js';
import { MmGlobals, type MmStruct } from '../../src/mm/mm-struct.js';
import { MapsCursor } from '../../src/procfs/maps-text.js';
import {
  type ProcmapQueryArgs,
  ProcmapQueryResult,
  procmapQuery,
  QueryScratch,
  queryArgs,
} from '../../src/procfs/procmap-query.js';
import { createReaderContext, strategyByName } from '../../src/procfs/strategies/strategy.js';
import { directMapsWalker, directQueryTarget } from '../../src/procfs/vma-capture.js';
import { RcuDomain } from '../../src/sync/index.js';
import {
  type BenchContext,
  type Figure,
  median,
  pairedRatioFigure,
  ratioFigure,
} from '../lib/figure.js';
import { type KernelFigures, runKernelBaseline } from '../lib/kernel-baseline.js';

/**
 * Runs `fn` in batches until at least `minMs` elapsed; returns ns per call. The clock is read once
 * per batch, as kbench.c reads it once per timed loop: a batch doubles until it takes 1/32 of
 * `minMs`, so a short call (a point query, ~300 ns) is not charged a clock read of its own
 * (performance.now() costs ~50 ns here).
 */
function timeBatch(fn: () => number, minMs: number): number {
  let calls = 0;
  let sink = 0;
  let batch = 1;
  const t0 = performance.now();
  let t = t0;
  do {
    for (let i = 0; i < batch; i++) sink += fn();
    calls += batch;
    const now = performance.now();
    if (now - t < minMs / 32) batch *= 2;
    t = now;
  } while (t - t0 < minMs);
  if (sink === Number.MIN_VALUE) console.log(sink); // keep the work observable
  return ((t - t0) * 1e6) / calls;
}

/** Reads the whole maps file in `chunk`-byte reads; returns the bytes produced. */
export function readAllChunks(mm: MmStruct, cursor: MapsCursor): number {
  const walker = directMapsWalker(mm);
  cursor.rewind();
  let bytes = 0;
  for (let n = cursor.readChunk(walker); n > 0; n = cursor.readChunk(walker)) bytes += n;
  return bytes;
}

/** One repetition's engine figures (each the time per unit of a batch of at least minMs). */
export interface MapsQueryRep {
  mapsNsPerLine: number;
  perVmaNsPerLine: number;
  queryNs: number;
  queryWithNameNs: number;
}

/**
 * The engine's readers on an imported layout, set up and warmed once (every path optimised by
 * the JIT before anything is timed); `rep()` measures one repetition, so that the caller can
 * alternate repetitions with the kernel's.
 */
export class MapsQueryBench {
  readonly vmas: number;
  /** Lines per full read (VMAs + the gate line). */
  readonly lines: number;
  readonly bytes: number;
  private readonly maps: () => number;
  private readonly perVma: () => number;
  private readonly query: () => number;
  private readonly named: () => number;

  constructor(
    mm: MmStruct,
    private readonly minMs = 40,
    seed = 1,
  ) {
    const cursor = new MapsCursor(4096);
    this.bytes = readAllChunks(mm, cursor);
    this.lines = mm.mapCount + 1;
    const starts: number[] = [];
    for (let id = mm.findVma(0); id !== 0; id = mm.findVma(mm.vmas.end(id))) {
      starts.push(mm.vmas.start(id));
    }
    this.vmas = starts.length;
    const target = directQueryTarget(mm);
    const out = new ProcmapQueryResult();
    const scratch = new QueryScratch();
    const plain: ProcmapQueryArgs = queryArgs(0, 0, false, false);
    const named: ProcmapQueryArgs = queryArgs(0, 0, true, false);
    let x = seed >>> 0;
    const nextAddr = () => {
      // xorshift32: cheap pseudo-random VMA choice, as kbench's LCG.
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return starts[(x >>> 0) % starts.length];
    };
    const ctx = createReaderContext({ rcu: RcuDomain.create(4), recorder: null });
    const perVma = strategyByName('per_vma');
    let perVmaBytes = 0;
    this.maps = () => readAllChunks(mm, cursor);
    this.perVma = () => {
      perVmaBytes = 0;
      perVma.readMaps(ctx, mm, 4096, (chunk) => {
        perVmaBytes += chunk.length;
      });
      return perVmaBytes;
    };
    this.query = () => {
      plain.queryAddr = nextAddr();
      return procmapQuery(plain, target, out, scratch);
    };
    this.named = () => {
      named.queryAddr = nextAddr();
      return procmapQuery(named, target, out, scratch);
    };
    if (this.perVma() !== this.bytes) throw new Error('per_vma read a different maps text');
    // Warm-up: let the JIT optimise every path before anything is timed.
    timeBatch(this.maps, 4 * minMs);
    timeBatch(this.perVma, 2 * minMs);
    timeBatch(this.query, 2 * minMs);
    timeBatch(this.named, 2 * minMs);
  }

  rep(): MapsQueryRep {
    return {
      mapsNsPerLine: timeBatch(this.maps, this.minMs) / this.lines,
      perVmaNsPerLine: timeBatch(this.perVma, this.minMs) / this.lines,
      queryNs: timeBatch(this.query, this.minMs),
      queryWithNameNs: timeBatch(this.named, this.minMs),
    };
  }
}

/** Imports a maps text into a fresh mm sized for it. */
export function importLayout(mapsText: string): MmStruct {
  const lines = mapsText.split('\n').length;
  const globals = MmGlobals.create({ maxFiles: 1024, fileHeapBytes: 1 << 20, anonNameSlots: 16 });
  return importMaps(mapsText, { globals, maxVmas: Math.max(65_530, lines) });
}

/** The section body: engine vs kernel for each size, as ratio figures. */
export async function runMapsAndQuery(
  ctx: BenchContext,
  sizes: readonly number[] = ctx.quick ? [100, 1000, 10_000] : [100, 1000, 10_000, 65_530],
): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const n of sizes) {
    // Kernel and engine repetitions alternate (kernel, engine, kernel, …), so that each pair
    // shares its minute; the ratios are taken per pair (pairedRatioFigure).
    ctx.progress(`maps/query at ${n} VMAs: kernel and engine, ${ctx.reps} pairs`);
    const first = runKernelBaseline(n, 1);
    const bench = new MapsQueryBench(importLayout(first.mapsText), ctx.quick ? 20 : 40);
    const kernel: KernelFigures[] = [];
    const engine: MapsQueryRep[] = [];
    for (let r = 0; r < ctx.reps; r++) {
      kernel.push(r === 0 ? first.figures : runKernelBaseline(n, 1).figures);
      engine.push(bench.rep());
    }
    // A figure of the engine against the kernel, its goal half the kernel's cost, ratio per pair.
    const vsKernel = (
      id: string,
      what: string,
      baselineName: string,
      e: (x: MapsQueryRep) => number,
      k: (x: KernelFigures) => number,
    ) =>
      pairedRatioFigure(
        { id, section, what, unit: 'ns', baselineName, goal: { op: '<=', ratio: 0.5 }, note },
        engine.map((x, i) => [e(x), k(kernel[i])] as const),
      );
    const namedNs = median(engine.map((x) => x.queryWithNameNs));
    const note = `${bench.vmas} VMAs, ${bench.bytes} bytes; engine query with name ${namedNs.toFixed(0)} ns`;
    const section = 'Engine: readers vs the host kernel';
    const goal100 = { name: 'goal: 100 ns per line', value: 100 };
    const kernelLineNs = median(kernel.map((k) => k.maps_ns_per_line));
    figures.push(
      vsKernel(
        `engine.maps_line.${n}`,
        `maps text, ns per line (${n} VMAs, 4 KiB chunks)`,
        'Linux read(/proc/self/maps)',
        (e) => e.mapsNsPerLine,
        (k) => k.maps_ns_per_line,
      ),
      ratioFigure({
        id: `engine.maps_line_goal.${n}`,
        section,
        what: `maps text, ns per line (${n} VMAs): issue 10's absolute goal`,
        unit: 'ns',
        value: median(engine.map((x) => x.mapsNsPerLine)),
        baseline: goal100,
        goal: { op: '<=', ratio: 1 },
      }),
      ratioFigure({
        id: `engine.maps_line_per_vma.${n}`,
        section,
        what: `maps text through per_vma (the default strategy: VMA read lock per line), ns per line (${n} VMAs): issue 10's absolute goal`,
        unit: 'ns',
        value: median(engine.map((x) => x.perVmaNsPerLine)),
        baseline: goal100,
        goal: { op: '<=', ratio: 1 },
        note: `Linux read(/proc/self/maps): ${kernelLineNs.toFixed(0)} ns per line`,
      }),
      vsKernel(
        `engine.query.${n}`,
        `PROCMAP_QUERY point query, ns (${n} VMAs)`,
        'Linux PROCMAP_QUERY ioctl',
        (e) => e.queryNs,
        (k) => k.query_ns,
      ),
    );
  }
  return figures;
}
