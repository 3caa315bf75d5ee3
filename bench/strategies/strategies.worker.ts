/**
 * A thread of the strategies benchmark (bench/sections/strategies.ts): the `node` workload's
 * `maps` reader under one strategy, or its `cold` writer at full speed (bench/workloads: mmap +
 * munmap of one page at a random place in an empty 128 MiB range, each syscall under the writer
 * protocol). It attaches once, then runs one timed window per `run` message: it reports ready,
 * waits for GO, loops until STOP, and posts its count, the window it actually ran, and (writer)
 * its per-syscall latency percentiles.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { strategyByName } from '../../src/procfs/strategies/strategy.js';
import { nowNs } from '../../src/sync/index.js';
import { lineBounce } from '../lib/line-bounce.js';
import { attachThread } from '../lib/thread-attach.js';
import { STOP, waitForGo } from '../lib/thread-pool.js';
import { makeReader, makeWriter } from '../workloads/ops.js';
import type { BenchThreadData, RunCommand, RunResult } from './protocol.js';

const d = workerData as BenchThreadData;
const thread = attachThread(d);
const { mm, recorder, ctx } = thread;
const control = d.control;
const MAX_SAMPLES = 1 << 21;
const samples = new Float64Array(MAX_SAMPLES);

function reader(c: Extract<RunCommand, { role: 'reader' }>): RunResult {
  const op = makeReader('maps', strategyByName(c.strategy), ctx, mm, d.plan, false, 1);
  let bytes = 0;
  for (let i = 0; i < 20; i++) bytes += op.run(); // warm
  waitForGo(control);
  const t0 = nowNs();
  let ops = 0;
  while (Atomics.load(control, STOP) === 0) {
    bytes += op.run();
    ops++;
  }
  const seconds = (nowNs() - t0) / 1e9;
  if (bytes === 0) throw new Error('reader read nothing');
  if (op.torn !== 0) throw new Error(`reader: ${op.torn} torn lines`);
  return { ops, seconds };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function writer(c: Extract<RunCommand, { role: 'writer' }>): RunResult {
  const env = { recorder, strategy: strategyByName(c.strategy).id };
  const op = makeWriter('cold', mm, d.plan, env, c.seed);
  for (let i = 0; i < 4000; i++) op.run();
  waitForGo(control);
  const t0 = nowNs();
  let n = 0;
  let t = t0;
  while (Atomics.load(control, STOP) === 0) {
    op.run();
    const t1 = nowNs();
    if (n < MAX_SAMPLES) samples[n] = t1 - t;
    t = t1;
    n++;
  }
  const seconds = (t - t0) / 1e9;
  op.finish();
  const sorted = samples.subarray(0, Math.min(n, MAX_SAMPLES)).sort();
  return {
    ops: n,
    seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1],
  };
}

/** Private arithmetic in batches of 4096 steps; one op = one batch. */
function spin(): RunResult {
  let x = 1;
  for (let i = 0; i < 1 << 20; i++) x = (x * 1103515245 + 12345) | 0; // warm
  waitForGo(control);
  const t0 = nowNs();
  let ops = 0;
  while (Atomics.load(control, STOP) === 0) {
    for (let i = 0; i < 4096; i++) x = (x * 1103515245 + 12345) | 0;
    ops++;
  }
  const seconds = (nowNs() - t0) / 1e9;
  if (x === 0.5) throw new Error('unreachable'); // keeps x alive
  return { ops, seconds };
}

parentPort?.on('message', (c: RunCommand | { role: 'exit' }) => {
  if (c.role === 'exit') {
    thread.detach();
    parentPort?.close();
    return;
  }
  parentPort?.postMessage(
    c.role === 'reader'
      ? reader(c)
      : c.role === 'writer'
        ? writer(c)
        : c.role === 'bounce'
          ? lineBounce(control, d.bounce, c.side, samples)
          : spin(),
  );
});
