/**
 * Cost of recording one instrument event on the thread doing the work (issue 3 item 6 asks for
 * negligible cost, ≤ 10% of engine read throughput). Measures, in one run, ns per call of each
 * recorder method with instruments on and with the shared switch off, the bare loop, and the
 * clock read a duration needs. `measureRecorderOverhead()` returns the numbers;
 * `metricsOverheadSection` wraps them as `npm run bench` figures (add it to
 * bench/sections/index.ts to include it). Nothing runs at import.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { InstrumentAggregator } from '../../src/metrics/aggregator.js';
import { FAMILIES, READS } from '../../src/metrics/families.js';
import { Instruments } from '../../src/metrics/instruments.js';
import type {
  FallbackReasonId,
  LockId,
  LockModeId,
  MutationOpId,
  ReadOpId,
  StrategyId,
} from '../../src/metrics/labels.js';
import type { InstrumentRecorder } from '../../src/metrics/recorder.js';
import { nowNs } from '../../src/sync/clock.js';
import { type BenchSection, type Figure, median, ratioFigure } from '../lib/figure.js';
import type { RecordLoopData } from './record-loop-worker.js';

export type EventKind = 'read' | 'lockHold' | 'fallback' | 'speculation' | 'mutation';
const KINDS: readonly EventKind[] = ['read', 'lockHold', 'fallback', 'speculation', 'mutation'];

export interface OverheadResult {
  iterations: number;
  reps: number;
  /** Median ns per call with instruments on. */
  onNs: Record<EventKind, number>;
  /** Median ns per call with the shared switch off (the recorder returns at once). */
  offNs: Record<EventKind, number>;
  /** Median ns per iteration of the same loop computing the same arguments, no call. */
  loopNs: number;
  /** Median ns of one nowNs() (a duration costs two). */
  clockNs: number;
  /** procfs_reads_total after the "on" runs: must be reps × iterations (proves recording). */
  recordedReads: number;
}

/** Where loops put values so the optimiser cannot drop them. */
const sink = new Float64Array(1);

// One function per method, so each call site stays monomorphic. Arguments vary per iteration
// (label ids and durations), as they do in the engine.
const loops: Record<EventKind, (rec: InstrumentRecorder, n: number) => void> = {
  read(rec, n) {
    for (let i = 0; i < n; i++)
      rec.read((i & 1) as ReadOpId, (i % 5) as StrategyId, (i * 37) % 2e6);
  },
  lockHold(rec, n) {
    for (let i = 0; i < n; i++) {
      rec.lockHold(
        (i & 1) as LockId,
        ((i >> 1) & 1) as LockModeId,
        (i % 5) as StrategyId,
        (i * 37) % 2e6,
      );
    }
  },
  fallback(rec, n) {
    for (let i = 0; i < n; i++) {
      rec.fallback((i & 1) as ReadOpId, (i % 5) as StrategyId, (i & 3) as FallbackReasonId);
    }
  },
  speculation(rec, n) {
    for (let i = 0; i < n; i++)
      rec.speculation((i & 1) as ReadOpId, (i % 5) as StrategyId, 1 + (i & 1), i & 1);
  },
  mutation(rec, n) {
    for (let i = 0; i < n; i++) rec.mutation((i & 7) as MutationOpId, i % 3, (i * 37) % 2e6);
  },
};

function bareLoop(n: number): void {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += (i & 1) + (i % 5) + ((i * 37) % 2e6);
  sink[0] += acc;
}

function clockLoop(n: number): void {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += nowNs();
  sink[0] += acc;
}

function nsPerIteration(run: () => void, n: number): number {
  const t0 = performance.now();
  run();
  return ((performance.now() - t0) * 1e6) / n;
}

export function measureRecorderOverhead(
  options: { iterations?: number; reps?: number } = {},
): OverheadResult {
  const iterations = options.iterations ?? 2_000_000;
  const reps = options.reps ?? 5;
  const on = Instruments.create({ capacity: 1 });
  const off = Instruments.create({ capacity: 1, enabled: false });
  const onRec = on.recorder();
  const offRec = off.recorder();
  const samples = (f: () => number): number => median(Array.from({ length: reps }, f));

  // Warm-up (JIT) on a throwaway buffer so the "on" totals below are exactly reps × iterations.
  const warm = Instruments.create({ capacity: 1 }).recorder();
  for (const kind of KINDS) loops[kind](warm, Math.min(iterations, 100_000));

  const onNs = {} as Record<EventKind, number>;
  const offNs = {} as Record<EventKind, number>;
  for (const kind of KINDS) {
    onNs[kind] = samples(() => nsPerIteration(() => loops[kind](onRec, iterations), iterations));
    offNs[kind] = samples(() => nsPerIteration(() => loops[kind](offRec, iterations), iterations));
  }
  const loopNs = samples(() => nsPerIteration(() => bareLoop(iterations), iterations));
  const clockIterations = Math.max(1, iterations >> 2);
  const clockNs = samples(() => nsPerIteration(() => clockLoop(clockIterations), clockIterations));

  const totals = new InstrumentAggregator(on).totals();
  const reads = FAMILIES[READS];
  let recordedReads = 0;
  for (let s = 0; s < reads.seriesCount; s++) recordedReads += totals.cells[reads.offset + s];
  onRec.release();
  offRec.release();
  return { iterations, reps, onNs, offNs, loopNs, clockNs, recordedReads };
}

export interface ParallelResult {
  /** ns per recorder.read() with one thread recording. */
  alone: number;
  /** ns per call of each of `threads` threads recording at the same time (own blocks). */
  together: number[];
  /** procfs_reads_total afterwards: (1 + threads) × iterations (proves recording). */
  recordedReads: number;
}

// Compiled (dist/, `npm run bench`): the worker is the .js beside this file; from source
// (tsx) it is the .ts file, booted through tsx's register().
const fromSource = import.meta.url.endsWith('.ts');

function newRecordLoopWorker(workerData: RecordLoopData): Worker {
  if (!fromSource) {
    return new Worker(new URL('./record-loop-worker.js', import.meta.url), { workerData });
  }
  const target = new URL('./record-loop-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** Run `threads` workers recording into `instruments` at the same moment; their ns per call. */
async function recordTogether(
  instruments: Instruments,
  threads: number,
  iterations: number,
): Promise<number[]> {
  const gate = new SharedArrayBuffer(8);
  const gateWords = new Int32Array(gate);
  const results = Array.from({ length: threads }, () => {
    const worker = newRecordLoopWorker({ buffer: instruments.buffer, gate, iterations });
    return new Promise<number>((resolve, reject) => {
      let ns = Number.NaN;
      worker.on('message', (m: number) => {
        ns = m;
      });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve(ns) : reject(new Error(`exit ${code}`))));
    });
  });
  for (;;) {
    const ready = Atomics.load(gateWords, 1);
    if (ready >= threads) break;
    await Atomics.waitAsync(gateWords, 1, ready).value;
  }
  Atomics.store(gateWords, 0, 1);
  Atomics.notify(gateWords, 0);
  return Promise.all(results);
}

/**
 * Per-thread blocks mean recording does not slow down when threads record at the same time
 * (no shared cache line). Measures ns per recorder.read() on one worker thread alone, then on
 * `threads` worker threads at once. On a machine with fewer idle cores than `threads`, the
 * "together" figures also include time-slicing.
 */
export async function measureParallelRecording(
  options: { iterations?: number; threads?: number } = {},
): Promise<ParallelResult> {
  const iterations = options.iterations ?? 5_000_000;
  const threads = options.threads ?? 2;
  const instruments = Instruments.create({ capacity: threads + 1 });
  const [alone] = await recordTogether(instruments, 1, iterations);
  const together = await recordTogether(instruments, threads, iterations);
  const totals = new InstrumentAggregator(instruments).totals();
  const reads = FAMILIES[READS];
  let recordedReads = 0;
  for (let s = 0; s < reads.seriesCount; s++) recordedReads += totals.cells[reads.offset + s];
  return { alone, together, recordedReads };
}

/** `npm run bench` figures: ns per event on, against the same calls with instruments off. */
export const metricsOverheadSection: BenchSection = {
  name: 'metrics',
  async run(ctx) {
    ctx.progress('recorder overhead');
    const r = measureRecorderOverhead({
      iterations: ctx.quick ? 500_000 : 2_000_000,
      reps: ctx.reps,
    });
    const figures: Figure[] = KINDS.map((kind) =>
      ratioFigure({
        id: `metrics.record.${kind}`,
        section: 'Instruments',
        what: `recorder.${kind}() per call, instruments on`,
        unit: 'ns',
        value: r.onNs[kind],
        baseline: { name: 'same call, instruments off', value: r.offNs[kind] },
        note: `bare loop ${r.loopNs.toFixed(1)} ns/iter; nowNs() ${r.clockNs.toFixed(1)} ns`,
      }),
    );
    ctx.progress('recording on 2 threads at once');
    const p = await measureParallelRecording({ iterations: ctx.quick ? 2_000_000 : 5_000_000 });
    figures.push(
      ratioFigure({
        id: 'metrics.record.read.2_threads',
        section: 'Instruments',
        what: 'recorder.read() per call, 2 threads recording at once (slowest thread)',
        unit: 'ns',
        value: Math.max(...p.together),
        baseline: { name: '1 thread alone', value: p.alone },
        note: 'each thread has its own block: no shared cache line',
      }),
    );
    return figures;
  },
};
