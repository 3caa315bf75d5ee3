/**
 * `npm run bench -- --only=maps`: what one /proc/PID/maps read costs in the service setting
 * (issue 10), as opposed to bench/engine/maps-and-query.ts's synthetic anonymous layouts read on
 * an idle engine. Here a Sim runs with the server's defaults (`parseConfig([], {})`: the default
 * population of template processes, worker CPUs, reads on the event loop, the activity threads of
 * the busy processes running) and a template `node` process is read the way GET /proc/PID/maps
 * reads it (`sim.readMaps`, 4 KiB chunks: file names, small files whose per-read fixed costs
 * count, other threads on the same CPUs). Two processes: a quiet one and a busy one (its activity
 * takes the mmap write lock ~200 times a second, so readers meet writers).
 *
 * Per strategy and process: µs per read (mean over a batch, so the tail a client sees counts;
 * the median of `reps` batches, the strategies and processes alternated batch by batch) and that
 * in ns per line, against issue 10's engine goal of 100 ns per line; the per-read median is in
 * the note.
 */
import { parseConfig } from '../../src/config.js';
import { ReadPieces } from '../../src/cpus/read-pieces.js';
import { Sim } from '../../src/cpus/sim.js';
import { hostHasZeroPage, resolvePkeys, resolveThp } from '../../src/machine-caps.js';
import { STRATEGIES, type StrategyName } from '../../src/metrics/labels.js';
import { type BenchContext, type Figure, median, ratioFigure } from '../lib/figure.js';

/** The goal per maps line (issue 10). */
const GOAL_NS_PER_LINE = 100;
/** A template `node` process with no activity, and the busy one (`jit`, 200 calls/s). */
const QUIET_NODE = 6;
const BUSY_NODE = 2;

interface Case {
  pid: number;
  label: string;
  strategy: StrategyName;
}

interface Sample {
  meanUs: number;
  p50Us: number;
  /** Lines of the file read after the batch (a busy process's VMA count moves). */
  lines: number;
}

/** The server's Sim (src/server.ts createSim with its defaults). */
function serviceSim(): Promise<Sim> {
  const parsed = parseConfig([], {});
  if (parsed.help) throw new Error('unreachable: no --help given');
  const c = parsed.config;
  return Sim.start({
    strategy: c.strategy,
    cpus: c.cpus,
    reads: c.reads,
    maxProcesses: c.maxProcesses,
    maxVmasPerProcess: c.maxVmasPerProcess,
    maxActivities: c.maxActivities === 0 ? undefined : c.maxActivities,
    maxMemory: c.maxMemory,
    maxBatch: c.maxBatch,
    population: c.population,
    pidBase: c.pidBase,
    pkeys: resolvePkeys(c.pkeysMode),
    noZeroPage: !hostHasZeroPage(),
    thp: resolveThp(c.thpMode),
  });
}

/**
 * One read, taken as the reads' fast path takes it: a read the event loop finished at once is
 * used as it is (no promise to await, no iteration) and given back once its reply would be
 * written (`ReadPieces.release`: its slab memory is reused, not left to the GC); any other read
 * (a chunk that had to wait for the mmap read lock) is awaited and iterated, as the route does.
 */
function readOnce(sim: Sim, c: Case): number | Promise<number> {
  const read = sim.readMaps(c.pid, { strategy: c.strategy, chunk: 4096 });
  if (!(read instanceof ReadPieces)) return readLater(read);
  let bytes = 0;
  for (const piece of read.pieces) bytes += piece.length;
  read.release();
  return bytes;
}

async function readLater(read: Promise<AsyncIterable<Uint8Array>>): Promise<number> {
  let bytes = 0;
  for await (const piece of await read) bytes += piece.length;
  return bytes;
}

async function countLines(sim: Sim, c: Case): Promise<number> {
  let lines = 0;
  for await (const piece of await sim.readMaps(c.pid, { strategy: c.strategy, chunk: 0 })) {
    for (const b of piece) if (b === 0x0a) lines++;
  }
  return lines;
}

async function batch(sim: Sim, c: Case, reads: number): Promise<Sample> {
  const each = new Float64Array(reads);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) {
    const t = process.hrtime.bigint();
    const bytes = readOnce(sim, c);
    if (typeof bytes !== 'number') await bytes;
    each[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const meanUs = Number(process.hrtime.bigint() - t0) / 1000 / reads;
  return { meanUs, p50Us: median(Array.from(each)), lines: await countLines(sim, c) };
}

export async function runMapsInService(ctx: BenchContext): Promise<Figure[]> {
  ctx.progress('maps in the service setting: starting the default population');
  const sim = await serviceSim();
  try {
    const cases: Case[] = [];
    for (const strategy of STRATEGIES) {
      cases.push({ pid: QUIET_NODE, label: 'quiet node', strategy });
      cases.push({ pid: BUSY_NODE, label: 'busy node (jit)', strategy });
    }
    const reads = ctx.quick ? 1000 : 4000;
    // Warm-up: every path optimised before anything is timed.
    for (const c of cases) await batch(sim, c, reads);
    const samples = cases.map((): Sample[] => []);
    const rounds = Math.max(ctx.reps, 5);
    for (let r = 0; r < rounds; r++) {
      ctx.progress(`maps in the service setting: round ${r + 1}/${rounds}`);
      for (const [i, c] of cases.entries()) samples[i].push(await batch(sim, c, reads));
    }
    return cases.map((c, i) => {
      const n = median(samples[i].map((s) => s.lines));
      const us = median(samples[i].map((s) => s.meanUs));
      const p50 = median(samples[i].map((s) => s.p50Us));
      return ratioFigure({
        id: `maps_service.${c.strategy}.${c.pid === BUSY_NODE ? 'busy' : 'quiet'}`,
        section: 'Maps in the service setting (default population, GET /proc/PID/maps path)',
        what: `${c.strategy}, ${c.label} (pid ${c.pid}, ${n} lines), ns per line`,
        unit: 'ns',
        value: (us * 1000) / n,
        baseline: { name: 'goal: 100 ns per line', value: GOAL_NS_PER_LINE },
        goal: { op: '<=', ratio: 1 },
        note: `${us.toFixed(1)} µs per read (mean); per-read median ${p50.toFixed(1)} µs`,
      });
    });
  } finally {
    await sim.close();
  }
}
