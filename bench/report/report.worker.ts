/**
 * A thread of `npm run report`: a reader (one workload reader under one strategy), a writer (one
 * workload writer at full speed), the spin control or one side of the line control
 * (bench/lib/line-bounce.ts). It attaches once, then runs one timed window per command: reports
 * ready, waits for GO, loops until STOP, posts a WindowResult.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { execSyscall, execTouch } from '../../src/cpus/syscall-exec.js';
import { writerStats } from '../../src/mm/mm-writer.js';
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE } from '../../src/mm/vm-flags.js';
import { strategyByName } from '../../src/procfs/strategies/strategy.js';
import { nowNs } from '../../src/sync/index.js';
import { lineBounce } from '../lib/line-bounce.js';
import { attachThread } from '../lib/thread-attach.js';
import { STOP, waitForGo } from '../lib/thread-pool.js';
import { makeReader, makeWriter } from '../workloads/ops.js';
import type { ThreadCommand, ThreadData, WindowResult } from './protocol.js';

const d = workerData as ThreadData;
const thread = attachThread(d);
const { rcu, mm, recorder, ctx } = thread;
const control = d.control;
const MAX_SAMPLES = 1 << 20;
const samples = new Float64Array(MAX_SAMPLES);

function p99(n: number): number {
  if (n === 0) return 0;
  const sorted = samples.subarray(0, n).sort();
  return sorted[Math.min(n - 1, Math.floor(0.99 * n))];
}

/** Runs `op` until STOP, timing each call; `warm` calls first. */
function timed(op: () => unknown, warm: number): { ops: number; seconds: number; p99Ns: number } {
  for (let i = 0; i < warm; i++) op();
  waitForGo(control);
  const t0 = nowNs();
  let ops = 0;
  let t = t0;
  // At least one op even if this thread was descheduled past STOP (a loaded machine).
  while (Atomics.load(control, STOP) === 0 || ops === 0) {
    op();
    const t1 = nowNs();
    if (ops < MAX_SAMPLES) samples[ops] = t1 - t;
    t = t1;
    ops++;
  }
  return { ops, seconds: (t - t0) / 1e9, p99Ns: p99(Math.min(ops, MAX_SAMPLES)) };
}

function reader(c: Extract<ThreadCommand, { role: 'reader' }>): WindowResult {
  const op = makeReader(c.reader, strategyByName(c.strategy), ctx, mm, d.plan, c.hot, c.seed);
  let bytes = 0;
  const run = () => {
    bytes += op.run();
  };
  for (let i = 0; i < 20; i++) run();
  ctx.stats.reset();
  bytes = 0;
  op.torn = 0;
  const r = timed(run, 0);
  const st = ctx.stats;
  const counters = {
    retries: st.retries,
    fallbacks: [...st.fallbacks],
    hazards: [...st.hazards],
    mmapLocks: st.mmapLocks,
    bytes,
    torn: op.torn,
  };
  return { ...r, counters, sleeps: st.mmapLockWaits };
}

function writer(c: Extract<ThreadCommand, { role: 'writer' }>): WindowResult {
  const env = { recorder, strategy: strategyByName(c.strategy).id };
  const op = makeWriter(c.writer, mm, d.plan, env, c.seed);
  for (let i = 0; i < 2000; i++) op.run();
  writerStats.reset();
  const rs = rcu.stats;
  const [e0, s0, g0, n0] = [rs.epochWrites, rs.slotScans, rs.syncWaits, rs.syncWaitNs];
  const r = timed(() => op.run(), 0);
  const writerCounters = {
    writes: writerStats.writes,
    mmapWaits: writerStats.mmapWaits,
    mmapWaitNs: writerStats.mmapWaitNs,
    vmaWaits: writerStats.vmaWaits,
    vmaWaitNs: writerStats.vmaWaitNs,
    graceWaits: rs.syncWaits - g0,
    graceWaitNs: rs.syncWaitNs - n0,
    epochWrites: rs.epochWrites - e0,
    slotScans: rs.slotScans - s0,
  };
  op.finish(); // the layout as built, for the next window (not counted)
  const { mmapWaits, vmaWaits, graceWaits } = writerCounters;
  return { ...r, writerCounters, sleeps: mmapWaits + vmaWaits + graceWaits };
}

/** Where the faulter maps its chunks: far from every layout's VMAs. */
const FAULT_AREA = 0x3000_0000_0000;
const FAULT_CHUNK_PAGES = 64;

/** One op = one write fault on a fresh page; the chunk is remapped every 64 ops (untimed). */
function faulter(c: Extract<ThreadCommand, { role: 'faulter' }>): WindowResult {
  const env = { recorder, strategy: strategyByName(c.strategy).id };
  const len = FAULT_CHUNK_PAGES * 4096;
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
  const map = () => {
    const r = execSyscall(mm, env, {
      op: 'mmap',
      addr: FAULT_AREA,
      length: len,
      prot: 3,
      flags,
      offset: 0,
      file: null,
    });
    if (r !== FAULT_AREA) throw new Error(`faulter: mmap answered ${r}`);
  };
  const unmap = () => execSyscall(mm, env, { op: 'munmap', addr: FAULT_AREA, length: len });
  map();
  let page = 0;
  let n = 0;
  waitForGo(control);
  const t0 = nowNs();
  let end = t0;
  while (Atomics.load(control, STOP) === 0 || n === 0) {
    if (page === FAULT_CHUNK_PAGES) {
      unmap();
      map();
      page = 0;
    }
    const t = nowNs();
    const r = execTouch(mm, env, FAULT_AREA + page * 4096, 1, true);
    end = nowNs();
    if (r < 0) throw new Error(`faulter: touch answered ${r}`);
    if (n < MAX_SAMPLES) samples[n] = end - t;
    n++;
    page++;
  }
  unmap();
  return { ops: n, seconds: (end - t0) / 1e9, p99Ns: p99(Math.min(n, MAX_SAMPLES)) };
}

/** Private arithmetic in batches of 4096 steps; one op = one batch. */
function spin(): WindowResult {
  let x = 1;
  const r = timed(() => {
    for (let i = 0; i < 4096; i++) x = (x * 1103515245 + 12345) | 0;
  }, 256);
  if (x === 0.5) throw new Error('unreachable'); // keeps x alive
  return { ...r, p99Ns: 0 };
}

parentPort?.on('message', (c: ThreadCommand | { role: 'exit' }) => {
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
        : c.role === 'faulter'
          ? faulter(c)
          : c.role === 'bounce'
            ? { ...lineBounce(control, d.bounce, c.side, samples), p99Ns: 0 }
            : spin(),
  );
});
