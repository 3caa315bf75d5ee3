/**
 * A thread of the strategies benchmark (bench/sections/strategies.ts): a maps reader under one
 * strategy, or the full-speed writer (mmap + munmap of one 4 KiB page at a random place in a
 * 128 MiB range, each syscall under the writer protocol). It attaches once, then runs one timed
 * window per `run` message: it reports `ready`, waits for GO, loops until STOP, and posts its
 * count, the window it actually ran, and (writer) its per-syscall latency percentiles.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Instruments } from '../../src/metrics/instruments.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { installWriterHooks, mmWrite } from '../../src/mm/mm-writer.js';
import { mmap, munmap } from '../../src/mm/syscalls/index.js';
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE } from '../../src/mm/vm-flags.js';
import { createReaderContext, strategyByName } from '../../src/procfs/strategies/strategy.js';
import { nowNs } from '../../src/sync/index.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { type BenchThreadData, GO, type RunCommand, type RunResult, STOP } from './protocol.js';

const d = workerData as BenchThreadData;
const rcu = RcuDomain.attach(d.rcu);
rcu.register();
const mm = MmStruct.attach(d.mm, MmGlobals.attach(d.globals), rcu);
const recorder = Instruments.attach(d.instruments).recorder();
const ctx = createReaderContext({ rcu, recorder });
installWriterHooks();
const control = d.control;
const MAX_SAMPLES = 1 << 21;
const samples = new Float64Array(MAX_SAMPLES);

function waitGo(): void {
  parentPort?.postMessage({ ready: true });
  while (Atomics.load(control, GO) === 0) Atomics.wait(control, GO, 0);
}

function reader(c: Extract<RunCommand, { role: 'reader' }>): RunResult {
  const s = strategyByName(c.strategy);
  let bytes = 0;
  const onChunk = (b: Uint8Array) => {
    bytes += b.length;
  };
  for (let i = 0; i < 20; i++) s.readMaps(ctx, mm, c.chunk, onChunk); // warm
  waitGo();
  const t0 = nowNs();
  let ops = 0;
  while (Atomics.load(control, STOP) === 0) {
    s.readMaps(ctx, mm, c.chunk, onChunk);
    ops++;
  }
  const seconds = (nowNs() - t0) / 1e9;
  if (bytes === 0) throw new Error('reader read nothing');
  return { ops, seconds };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function writer(c: Extract<RunCommand, { role: 'writer' }>): RunResult {
  const env = {
    recorder,
    strategy: strategyByName(c.strategy).id,
  };
  let x = c.seed | 1;
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
  const page = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return d.rangeStart + ((x >>> 0) % d.rangePages) * 4096;
  };
  for (let i = 0; i < 2000; i++) {
    const a = page();
    mmWrite(mm, env, 0, () => mmap(mm, a, 4096, 3, flags));
    mmWrite(mm, env, 1, () => munmap(mm, a, 4096));
  }
  waitGo();
  const t0 = nowNs();
  let ops = 0;
  let n = 0;
  while (Atomics.load(control, STOP) === 0) {
    const a = page();
    let t = nowNs();
    const r = mmWrite(mm, env, 0, () => mmap(mm, a, 4096, 3, flags));
    let t1 = nowNs();
    if (n < MAX_SAMPLES) samples[n++] = t1 - t;
    if (r !== a) throw new Error(`writer: mmap returned ${r}`);
    t = t1;
    const u = mmWrite(mm, env, 1, () => munmap(mm, a, 4096));
    t1 = nowNs();
    if (n < MAX_SAMPLES) samples[n++] = t1 - t;
    if (u !== 0) throw new Error(`writer: munmap returned ${u}`);
    ops += 2;
  }
  const seconds = (nowNs() - t0) / 1e9;
  const sorted = samples.subarray(0, n).sort();
  return {
    ops,
    seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[n - 1],
  };
}

/** Private arithmetic in batches of 4096 steps; one op = one batch. */
function spin(): RunResult {
  let x = 1;
  for (let i = 0; i < 1 << 20; i++) x = (x * 1103515245 + 12345) | 0; // warm
  waitGo();
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
    recorder.release();
    rcu.unregister();
    parentPort?.close();
    return;
  }
  parentPort?.postMessage(
    c.role === 'reader' ? reader(c) : c.role === 'writer' ? writer(c) : spin(),
  );
});
