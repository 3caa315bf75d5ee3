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
 * (performance.now) per batch, median over `reps` batches, as kbench does.
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
import { type BenchContext, type Figure, median, ratioFigure } from '../lib/figure.js';
import { runKernelBaseline } from '../lib/kernel-baseline.js';

export interface MapsQueryResult {
  vmas: number;
  /** Lines per full read (VMAs + the gate line). */
  lines: number;
  bytes: number;
  mapsNsPerLine: number;
  /** The same read through the default strategy (per_vma: a VMA read lock per line, under RCU). */
  perVmaNsPerLine: number;
  queryNs: number;
  /** Same query with the name requested (formatting the name into the result). */
  queryWithNameNs: number;
}

/** Runs `fn` in batches until at least `minMs` elapsed; returns ns per call. */
function timeBatch(fn: () => number, minMs: number): number {
  let calls = 0;
  let sink = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    sink += fn();
    calls++;
    t = performance.now();
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

/** Measures the engine on an imported layout. */
export function measureMapsAndQuery(
  mm: MmStruct,
  reps: number,
  minMs = 40,
  seed = 1,
): MapsQueryResult {
  const cursor = new MapsCursor(4096);
  const bytes = readAllChunks(mm, cursor);
  const lines = mm.mapCount + 1;
  const starts: number[] = [];
  for (let id = mm.findVma(0); id !== 0; id = mm.findVma(mm.vmas.end(id))) {
    starts.push(mm.vmas.start(id));
  }
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
  const readPerVma = () => {
    perVmaBytes = 0;
    perVma.readMaps(ctx, mm, 4096, (chunk) => {
      perVmaBytes += chunk.length;
    });
    return perVmaBytes;
  };
  if (readPerVma() !== bytes) throw new Error('per_vma read a different maps text');
  // Warm-up: let the JIT optimise every path before anything is timed.
  timeBatch(() => readAllChunks(mm, cursor), 4 * minMs);
  timeBatch(readPerVma, 2 * minMs);
  timeBatch(() => {
    plain.queryAddr = nextAddr();
    return procmapQuery(plain, target, out, scratch);
  }, 2 * minMs);
  timeBatch(() => {
    named.queryAddr = nextAddr();
    return procmapQuery(named, target, out, scratch);
  }, 2 * minMs);
  const mapsRuns: number[] = [];
  const perVmaRuns: number[] = [];
  const queryRuns: number[] = [];
  const namedRuns: number[] = [];
  for (let r = 0; r < reps; r++) {
    mapsRuns.push(timeBatch(() => readAllChunks(mm, cursor), minMs) / lines);
    perVmaRuns.push(timeBatch(readPerVma, minMs) / lines);
    queryRuns.push(
      timeBatch(() => {
        plain.queryAddr = nextAddr();
        return procmapQuery(plain, target, out, scratch);
      }, minMs),
    );
    namedRuns.push(
      timeBatch(() => {
        named.queryAddr = nextAddr();
        return procmapQuery(named, target, out, scratch);
      }, minMs),
    );
  }
  return {
    vmas: starts.length,
    lines,
    bytes,
    mapsNsPerLine: median(mapsRuns),
    perVmaNsPerLine: median(perVmaRuns),
    queryNs: median(queryRuns),
    queryWithNameNs: median(namedRuns),
  };
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
    ctx.progress(`maps/query at ${n} VMAs: kernel`);
    const kernel = runKernelBaseline(n, ctx.reps);
    ctx.progress(`maps/query at ${n} VMAs: engine`);
    const mm = importLayout(kernel.mapsText);
    const e = measureMapsAndQuery(mm, ctx.reps, ctx.quick ? 20 : 40);
    const note = `${e.vmas} VMAs, ${e.bytes} bytes; engine query with name ${e.queryWithNameNs.toFixed(0)} ns`;
    figures.push(
      ratioFigure({
        id: `engine.maps_line.${n}`,
        section: 'Engine: readers vs the host kernel',
        what: `maps text, ns per line (${n} VMAs, 4 KiB chunks)`,
        unit: 'ns',
        value: e.mapsNsPerLine,
        baseline: { name: 'Linux read(/proc/self/maps)', value: kernel.figures.maps_ns_per_line },
        goal: { op: '<=', ratio: 0.5 },
        note,
      }),
      ratioFigure({
        id: `engine.maps_line_goal.${n}`,
        section: 'Engine: readers vs the host kernel',
        what: `maps text, ns per line (${n} VMAs): issue 10's absolute goal`,
        unit: 'ns',
        value: e.mapsNsPerLine,
        baseline: { name: 'goal: 100 ns per line', value: 100 },
        goal: { op: '<=', ratio: 1 },
      }),
      ratioFigure({
        id: `engine.maps_line_per_vma.${n}`,
        section: 'Engine: readers vs the host kernel',
        what: `maps text through per_vma (the default strategy: VMA read lock per line), ns per line (${n} VMAs): issue 10's absolute goal`,
        unit: 'ns',
        value: e.perVmaNsPerLine,
        baseline: { name: 'goal: 100 ns per line', value: 100 },
        goal: { op: '<=', ratio: 1 },
        note: `Linux read(/proc/self/maps): ${kernel.figures.maps_ns_per_line.toFixed(0)} ns per line`,
      }),
      ratioFigure({
        id: `engine.query.${n}`,
        section: 'Engine: readers vs the host kernel',
        what: `PROCMAP_QUERY point query, ns (${n} VMAs)`,
        unit: 'ns',
        value: e.queryNs,
        baseline: { name: 'Linux PROCMAP_QUERY ioctl', value: kernel.figures.query_ns },
        goal: { op: '<=', ratio: 0.5 },
        note,
      }),
    );
  }
  return figures;
}
