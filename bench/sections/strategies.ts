/**
 * `npm run bench -- --only=strategies`: the read strategies under real parallel threads
 * (issue 3 "Measure"). One address space (the `node` template) is read by 1 or 2 reader threads
 * (whole maps file in 4096-byte chunks, per strategy), with and without a full-speed writer
 * thread doing mmap + munmap of one 4 KiB page at a random place in an empty 128 MiB range, each
 * syscall under the writer protocol. Figures, each the median of `ctx.reps` windows:
 *   - reader throughput with the writer vs alone, and the writer's throughput beside readers vs
 *     alone (goal for per_vma and lockless: >= 0.95 both ways; Linux 6.18 keeps 0.97 / 1.0);
 *   - 2 readers vs 1 (scaling), and 2 readers with the writer vs without;
 *   - writer per-syscall latency p50/p99/max with 1 and 2 readers vs none (goal: per_vma p99
 *     <= 1.5x the writer alone), per strategy;
 *   - read throughput with instruments on vs off (goal: >= 0.9, i.e. <= 10% overhead).
 * A control figure (two threads doing private arithmetic, vs one) shows how much parallel CPU the
 * machine really gives two threads: on a loaded machine every "beside" ratio is bounded by it.
 * The threads stay up for the whole section; each window starts them together (GO word) and
 * stops them together (STOP word).
 */
import { Instruments } from '../../src/metrics/instruments.js';
import { STRATEGIES, type StrategyName } from '../../src/metrics/labels.js';
import { MmGlobals } from '../../src/mm/mm-struct.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import {
  type BenchContext,
  type BenchSection,
  type Figure,
  median,
  ratioFigure,
} from '../lib/figure.js';
import { ThreadPool } from '../lib/thread-pool.js';
import type { BenchThreadData, RunCommand, RunResult } from '../strategies/protocol.js';
import { buildWorkload } from '../workloads/layout.js';

const SECTION = 'Read strategies (real threads)';
const GOAL_STRATEGIES: readonly StrategyName[] = ['per_vma', 'lockless'];

type Pool = ThreadPool<RunCommand, RunResult>;

const rate = (r: RunResult) => r.ops / r.seconds;

interface Sample {
  writerAlone: RunResult;
  perStrategy: Map<
    StrategyName,
    {
      wa: RunResult;
      r1: RunResult;
      r2: RunResult[];
      /** The line control run just before w1 (side 0's result). */
      line: RunResult;
      w1: RunResult[];
      w2: RunResult[];
    }
  >;
  instrumentsOn: RunResult;
  instrumentsOff: RunResult;
  spinAlone: RunResult;
  spinPair: RunResult[];
}

const LINE_CONTROL: RunCommand[] = [
  { role: 'bounce', side: 0 },
  { role: 'bounce', side: 1 },
];

async function oneRep(pool: Pool, instruments: Instruments, ms: number, rep: number) {
  const reader = (strategy: StrategyName): RunCommand => ({ role: 'reader', strategy });
  const writer = (strategy: StrategyName): RunCommand => ({
    role: 'writer',
    strategy,
    seed: 17 + rep,
  });
  // Each strategy's figures compare windows run next to each other (the machine's load drifts):
  // its own writer-alone and reader-alone windows are the baselines.
  const [spinAlone] = await pool.run([{ role: 'spin' }], ms);
  const spinPair = await pool.run([{ role: 'spin' }, { role: 'spin' }], ms);
  const [writerAlone] = await pool.run([writer('per_vma')], ms);
  const perStrategy: Sample['perStrategy'] = new Map();
  for (const s of STRATEGIES) {
    const [wa] = await pool.run([writer(s)], ms);
    const [r1] = await pool.run([reader(s)], ms);
    const r2 = await pool.run([reader(s), reader(s)], ms);
    const [line] = await pool.run(LINE_CONTROL, Math.max(10, Math.round(ms / 10)));
    const w1 = await pool.run([writer(s), reader(s)], ms);
    const w2 = await pool.run([writer(s), reader(s), reader(s)], ms);
    perStrategy.set(s, { wa, r1, r2, line, w1, w2 });
  }
  // On and off alternate in short windows so that load drifts hit both alike.
  const instrumentsOn: RunResult = { ops: 0, seconds: 0 };
  const instrumentsOff: RunResult = { ops: 0, seconds: 0 };
  for (let i = 0; i < 6; i++) {
    const on = i % 2 === 0;
    instruments.enabled = on;
    const [r] = await pool.run([reader('per_vma')], ms / 3);
    const into = on ? instrumentsOn : instrumentsOff;
    into.ops += r.ops;
    into.seconds += r.seconds;
  }
  instruments.enabled = true;
  return {
    writerAlone,
    perStrategy,
    instrumentsOn,
    instrumentsOff,
    spinAlone,
    spinPair,
  } satisfies Sample;
}

/** The line control's round trips (ns) before strategy `s`'s pairs, one per rep that had one. */
function lineControlNs(samples: readonly Sample[], s: StrategyName): number[] {
  return samples.flatMap((x) => {
    const ns = x.perStrategy.get(s)?.line.p50Ns;
    return ns === undefined ? [] : [ns];
  });
}

function figures(samples: Sample[]): Figure[] {
  const med = (f: (s: Sample) => number) => median(samples.map(f));
  const out: Figure[] = [];
  // If two threads sharing nothing cannot both run at full speed, neither can a reader and a
  // writer: the ratios below are bounded by this one (the machine's other load).
  out.push(
    ratioFigure({
      id: 'strategies.cpu_control',
      section: SECTION,
      what: 'control: private arithmetic/s of one of 2 threads sharing nothing',
      unit: 'batches/s',
      value: med((x) => Math.min(rate(x.spinPair[0]), rate(x.spinPair[1]))),
      baseline: { name: '1 thread alone', value: med((x) => rate(x.spinAlone)) },
      note: `median of ${samples.length}`,
    }),
  );
  // What a line both threads write costs to move between their CPUs, just before each strategy's
  // reader+writer pair: on a virtual machine it moves with where the host runs the two CPUs.
  const lines = STRATEGIES.flatMap((s) => lineControlNs(samples, s));
  out.push({
    id: 'strategies.line_control',
    section: SECTION,
    what: 'control: cache-line round trip between the 2 threads (before each 1 reader + writer pair)',
    unit: 'ns',
    value: lines.length === 0 ? Number.NaN : median(lines),
    note:
      lines.length === 0
        ? 'no window had a full batch'
        : `median of ${lines.length} windows, ${Math.min(...lines).toFixed(0)}–${Math.max(...lines).toFixed(0)} ns`,
  });
  out.push({
    id: 'strategies.writer_alone.rate',
    section: SECTION,
    what: 'writer alone: mmap/munmap syscalls/s',
    unit: 'ops/s',
    value: med((x) => rate(x.writerAlone)),
    note: `median of ${samples.length}`,
  });
  const note = `median of ${samples.length}`;
  for (const q of ['p50', 'p99', 'max'] as const) {
    out.push({
      id: `strategies.writer_alone.${q}`,
      section: SECTION,
      what: `writer alone: mmap/munmap latency ${q}`,
      unit: 'µs',
      value: med((x) => (x.writerAlone[q] ?? Number.NaN) / 1000),
      note,
    });
  }
  for (const s of STRATEGIES) {
    const g = (f: (p: NonNullable<ReturnType<Sample['perStrategy']['get']>>) => number) =>
      med((x) => f(x.perStrategy.get(s)!));
    const goal = GOAL_STRATEGIES.includes(s) ? { op: '>=' as const, ratio: 0.95 } : undefined;
    const r1 = g((p) => rate(p.r1));
    const r2 = g((p) => rate(p.r2[0]) + rate(p.r2[1]));
    const wa = g((p) => rate(p.wa));
    const ownLines = lineControlNs(samples, s);
    // The pair's own line control (the machine's state when the pair ran).
    const pairNote =
      ownLines.length === 0 ? note : `${note}; line control ${median(ownLines).toFixed(0)} ns`;
    out.push(
      ratioFigure({
        id: `strategies.reader_with_writer.${s}`,
        section: SECTION,
        what: `${s}: maps reads/s, 1 reader + writer`,
        unit: 'reads/s',
        value: g((p) => rate(p.w1[1])),
        baseline: { name: 'reader alone', value: r1 },
        goal,
        note: pairNote,
      }),
      ratioFigure({
        id: `strategies.writer_with_reader.${s}`,
        section: SECTION,
        what: `${s}: writer syscalls/s beside 1 reader`,
        unit: 'ops/s',
        value: g((p) => rate(p.w1[0])),
        baseline: { name: 'writer alone', value: wa },
        goal,
        note: pairNote,
      }),
      ratioFigure({
        id: `strategies.readers2.${s}`,
        section: SECTION,
        what: `${s}: maps reads/s, 2 readers (sum)`,
        unit: 'reads/s',
        value: r2,
        baseline: { name: '1 reader', value: r1 },
        note,
      }),
      ratioFigure({
        id: `strategies.readers2_with_writer.${s}`,
        section: SECTION,
        what: `${s}: maps reads/s, 2 readers + writer (sum)`,
        unit: 'reads/s',
        value: g((p) => rate(p.w2[1]) + rate(p.w2[2])),
        baseline: { name: '2 readers alone', value: r2 },
        note,
      }),
      ratioFigure({
        id: `strategies.writer_with_readers2.${s}`,
        section: SECTION,
        what: `${s}: writer syscalls/s beside 2 readers`,
        unit: 'ops/s',
        value: g((p) => rate(p.w2[0])),
        baseline: { name: 'writer alone', value: wa },
        note,
      }),
    );
    for (const [readers, key] of [
      [1, 'w1'],
      [2, 'w2'],
    ] as const) {
      for (const q of ['p50', 'p99', 'max'] as const) {
        out.push(
          ratioFigure({
            id: `strategies.writer_${q}.${s}.readers${readers}`,
            section: SECTION,
            what: `${s}: writer latency ${q}, ${readers} reader${readers > 1 ? 's' : ''}`,
            unit: 'µs',
            value: g((p) => (p[key][0][q] ?? Number.NaN) / 1000),
            baseline: { name: 'writer alone', value: g((p) => (p.wa[q] ?? Number.NaN) / 1000) },
            goal: s === 'per_vma' && q === 'p99' ? { op: '<=', ratio: 1.5 } : undefined,
            note,
          }),
        );
      }
    }
  }
  out.push(
    ratioFigure({
      id: 'strategies.instruments_on_vs_off',
      section: SECTION,
      what: 'per_vma maps reads/s, instruments on',
      unit: 'reads/s',
      value: med((x) => rate(x.instrumentsOn)),
      baseline: { name: 'instruments off', value: med((x) => rate(x.instrumentsOff)) },
      goal: { op: '>=', ratio: 0.9 },
      note,
    }),
  );
  return out;
}

async function run(ctx: BenchContext): Promise<Figure[]> {
  const globals = MmGlobals.create({ maxFiles: 4096, fileHeapBytes: 1 << 20, anonNameSlots: 1024 });
  const rcu = RcuDomain.create();
  // The report's `node` workload: its `maps` reader and its `cold` writer (bench/workloads).
  const { mm, plan } = buildWorkload('node', globals, rcu);
  const instruments = Instruments.create({ capacity: 16 });
  const url = new URL('../strategies/strategies.worker.js', import.meta.url);
  const pool: Pool = new ThreadPool(url, 3, {
    mm: mm.buffer,
    globals: globals.buffers(),
    rcu: rcu.buffer,
    instruments: instruments.buffer,
    plan,
    bounce: new Int32Array(new SharedArrayBuffer(64)),
  } satisfies Omit<BenchThreadData, 'control'>);
  const ms = ctx.quick ? 150 : 400;
  const samples: Sample[] = [];
  try {
    // JIT warm-up of every path on every thread (compiled code, no tier-up pauses in the figures).
    ctx.progress('warm-up');
    await oneRep(pool, instruments, ctx.quick ? 60 : 150, 99);
    for (let rep = 0; rep < ctx.reps; rep++) {
      ctx.progress(`rep ${rep + 1}/${ctx.reps} (${ms} ms windows)`);
      samples.push(await oneRep(pool, instruments, ms, rep));
    }
  } finally {
    await pool.close();
  }
  return figures(samples);
}

export const strategiesSection: BenchSection = { name: 'strategies', run };
