/**
 * The simulator's side of the report: one workload layout, three threads (reader, writer, spare
 * for the control), and the schedule of windows. Each strategy's windows run next to each other
 * (its writer alone, each reader alone, then each reader beside each writer), so the machine's
 * load drift hits a ratio's two sides alike. Each pair window is preceded by a short window of
 * the line control (bench/lib/line-bounce.ts): the cache-line round trip between the two threads
 * at that moment.
 */
import { Instruments } from '../../src/metrics/instruments.js';
import type { StrategyName } from '../../src/metrics/labels.js';
import { MmGlobals } from '../../src/mm/mm-struct.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { ThreadPool } from '../lib/thread-pool.js';
import type { LayoutName, ReaderName, WriterName } from '../workloads/definitions.js';
import { buildWorkload, type WorkloadPlan } from '../workloads/layout.js';
import type { ThreadCommand, ThreadData, WindowResult } from './protocol.js';
import { type Sample, targetsHot } from './samples.js';

export interface SimPlan {
  layout: LayoutName;
  strategies: readonly StrategyName[];
  readers: readonly ReaderName[];
  writers: readonly WriterName[];
  reps: number;
  windowMs: number;
  progress(msg: string): void;
}

const BOUNCE: ThreadCommand[] = [
  { role: 'bounce', side: 0 },
  { role: 'bounce', side: 1 },
];

/** Runs every window of `p` on real threads; returns the samples and the layout's plan. */
export async function runSimulator(p: SimPlan): Promise<{ samples: Sample[]; plan: WorkloadPlan }> {
  const globals = MmGlobals.create({ maxFiles: 4096, fileHeapBytes: 1 << 20, anonNameSlots: 1024 });
  const rcu = RcuDomain.create();
  const { mm, plan } = buildWorkload(p.layout, globals, rcu);
  const instruments = Instruments.create({ capacity: 8 });
  const url = new URL('./report.worker.js', import.meta.url);
  const pool = new ThreadPool<ThreadCommand, WindowResult>(url, 2, {
    mm: mm.buffer,
    globals: globals.buffers(),
    rcu: rcu.buffer,
    instruments: instruments.buffer,
    plan,
    bounce: new Int32Array(new SharedArrayBuffer(64)),
  } satisfies Omit<ThreadData, 'control'>);
  const samples: Sample[] = [];
  const writers = p.writers.filter((w): w is Exclude<WriterName, 'none'> => w !== 'none');
  let seed = 11;
  try {
    await pool.run(BOUNCE, 50); // the line control's loops compiled before any is timed
    for (let rep = 0; rep < p.reps; rep++) {
      const ms = p.windowMs;
      const bounceMs = Math.max(10, Math.round(ms / 10));
      const [one] = await pool.run([{ role: 'spin' }], ms);
      const [a, b] = await pool.run([{ role: 'spin' }, { role: 'spin' }], ms);
      const base = { strategy: null, reader: 'none', writer: 'none', hot: false, rep } as const;
      samples.push({ ...base, kind: 'spin_alone', r: one, w: null });
      samples.push({ ...base, kind: 'spin_pair', r: a, w: b });
      for (const strategy of p.strategies) {
        p.progress(`rep ${rep + 1}/${p.reps} ${strategy}`);
        for (const writer of writers) {
          const [w] = await pool.run([{ role: 'writer', strategy, writer, seed: seed++ }], ms);
          samples.push({
            kind: 'writer_alone',
            strategy,
            reader: 'none',
            writer,
            hot: false,
            rep,
            r: null,
            w,
          });
        }
        for (const reader of p.readers) {
          const reader1 = (hot: boolean): ThreadCommand => ({
            role: 'reader',
            strategy,
            reader,
            hot,
            seed: seed++,
          });
          const hots = writers.some((w) => targetsHot(reader, w)) ? [false, true] : [false];
          for (const hot of hots) {
            const [r] = await pool.run([reader1(hot)], ms);
            samples.push({
              kind: 'reader_alone',
              strategy,
              reader,
              writer: 'none',
              hot,
              rep,
              r,
              w: null,
            });
          }
          for (const writer of writers) {
            const hot = targetsHot(reader, writer);
            // What a shared cache line costs to move between the two threads' CPUs just now
            // (this machine's placement of its CPUs changes from minute to minute).
            const [b0, b1] = await pool.run(BOUNCE, bounceMs);
            samples.push({ kind: 'bounce', strategy, reader, writer, hot, rep, r: b0, w: b1 });
            const [r, w] = await pool.run(
              [reader1(hot), { role: 'writer', strategy, writer, seed: seed++ }],
              ms,
            );
            samples.push({ kind: 'pair', strategy, reader, writer, hot, rep, r, w });
          }
        }
      }
    }
  } finally {
    await pool.close();
  }
  return { samples, plan };
}
