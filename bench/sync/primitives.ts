/**
 * Micro-benchmarks of the src/sync read sides, with 1 and 2 threads reading the same mm at once
 * (no writer): ns per mmap read lock/unlock pair, per seqcount speculation, per VMA read
 * lock/unlock pair and per RCU read section, each around 4 plain data loads. The 2-thread figures
 * show the cache-line cost node-perf.md §3 measured (a shared reader count bounces; a seqcount
 * read does not). Exported functions only; a bench runner decides what to run and prints.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { CACHE_LINE_WORDS as L, MM_SYNC_WORDS } from '../../src/sync/layout.js';
import { mmapWriteLock, mmapWriteUnlock } from '../../src/sync/mmap-lock.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { vmaLockInit, vmaMarkAttached, vmaStartWrite } from '../../src/sync/vma-lock.js';
import type { PrimitiveOp, PrimitiveWorkerData } from './primitives.worker.js';

export type { PrimitiveOp } from './primitives.worker.js';

export interface PrimitiveBenchResult {
  op: PrimitiveOp;
  threads: number;
  iterations: number;
  /** Wall-clock ns per operation, one entry per thread. */
  nsPerOp: number[];
  /** On-CPU ns per operation (thread CPU time; NaN where unavailable), one entry per thread. */
  cpuNsPerOp: number[];
}

export const PRIMITIVE_OPS: readonly PrimitiveOp[] = [
  'mmap-read-lock',
  'seqcount-read',
  'vma-read-lock',
  'rcu-read-section',
];

/** Word layout of the benchmark buffer: each group on its own cache line. */
const MM = 0;
const REFCNT = MM_SYNC_WORDS;
const LOCK_SEQ = MM_SYNC_WORDS + L;
const DATA = MM_SYNC_WORDS + 2 * L;
const READY = MM_SYNC_WORDS + 3 * L;
const GO = MM_SYNC_WORDS + 4 * L;
const WORDS = MM_SYNC_WORDS + 5 * L;

/** An mm block with one attached VMA and four data words. */
function benchWords(): Int32Array {
  const w = new Int32Array(new SharedArrayBuffer(WORDS * 4));
  vmaLockInit(w, REFCNT, LOCK_SEQ);
  mmapWriteLock(w, MM);
  vmaStartWrite(w, MM, REFCNT, LOCK_SEQ);
  vmaMarkAttached(w, MM, REFCNT, LOCK_SEQ);
  mmapWriteUnlock(w, MM);
  for (let i = 0; i < 4; i++) w[DATA + i] = i + 1;
  return w;
}

/** Runs `op` on `threads` worker threads at once, `iterations` times each. */
export async function benchPrimitive(
  op: PrimitiveOp,
  threads: 1 | 2,
  iterations = 2_000_000,
): Promise<PrimitiveBenchResult> {
  const words = benchWords();
  const rcu = RcuDomain.create(8);
  const data: PrimitiveWorkerData = {
    op,
    iterations,
    words,
    rcu: rcu.buffer,
    mm: MM,
    refcnt: REFCNT,
    lockSeq: LOCK_SEQ,
    data: DATA,
    ready: READY,
    go: GO,
  };
  const url = new URL('./primitives.worker.js', import.meta.url);
  const workers = Array.from({ length: threads }, () => new Worker(url, { workerData: data }));
  const results = workers.map(
    (w) => once(w, 'message') as Promise<[{ nsPerOp: number; cpuNsPerOp: number }]>,
  );
  // Start barrier: every thread warmed up and waiting, then all go at once.
  for (let n = Atomics.load(words, READY); n < threads; n = Atomics.load(words, READY)) {
    const r = (
      Atomics as unknown as {
        waitAsync(w: Int32Array, i: number, v: number): { async: boolean; value: unknown };
      }
    ).waitAsync(words, READY, n);
    if (r.async) await r.value;
  }
  Atomics.store(words, GO, 1);
  Atomics.notify(words, GO);
  const done = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return {
    op,
    threads,
    iterations,
    nsPerOp: done.map(([m]) => m.nsPerOp),
    cpuNsPerOp: done.map(([m]) => m.cpuNsPerOp),
  };
}

/** Every primitive with 1 and then 2 threads. */
export async function benchAllPrimitives(iterations = 2_000_000): Promise<PrimitiveBenchResult[]> {
  const out: PrimitiveBenchResult[] = [];
  for (const op of PRIMITIVE_OPS) {
    for (const threads of [1, 2] as const) out.push(await benchPrimitive(op, threads, iterations));
  }
  return out;
}

/** Markdown table of results (for BENCHMARKS.md). */
export function formatPrimitiveResults(results: readonly PrimitiveBenchResult[]): string {
  const lines = [
    '| read side | threads | wall ns/op per thread | on-CPU ns/op per thread |',
    '|---|---|---|---|',
  ];
  const fmt = (v: number[]) => v.map((n) => n.toFixed(1)).join(' / ');
  for (const r of results) {
    lines.push(`| ${r.op} | ${r.threads} | ${fmt(r.nsPerOp)} | ${fmt(r.cpuNsPerOp)} |`);
  }
  return lines.join('\n');
}
