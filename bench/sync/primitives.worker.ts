/**
 * Timing loop for bench/sync/primitives.ts on a worker thread: waits at a start barrier so that
 * all threads run at once, then times `iterations` read-side operations and posts ns per op.
 */
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { speculateRetry, speculateTryBegin } from '../../src/sync/mm-seqcount.js';
import { mmapReadLock, mmapReadUnlock } from '../../src/sync/mmap-lock.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { vmaEndRead, vmaStartRead } from '../../src/sync/vma-lock.js';

export type PrimitiveOp = 'mmap-read-lock' | 'seqcount-read' | 'vma-read-lock' | 'rcu-read-section';

export interface PrimitiveWorkerData {
  op: PrimitiveOp;
  iterations: number;
  words: Int32Array;
  rcu: SharedArrayBuffer;
  /** Word indexes (see primitives.ts): mm block, VMA lock words, 4 data words, barrier words. */
  mm: number;
  refcnt: number;
  lockSeq: number;
  data: number;
  ready: number;
  go: number;
}

/**
 * CPU time this thread has run, in ns (Linux schedstat; NaN elsewhere). Unlike wall time it does
 * not grow when other processes share the cores, which they often do on these machines.
 */
function threadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/** One read-side critical section of each kind, reading 4 data words with plain loads. */
function runLoop(d: PrimitiveWorkerData, n: number): number {
  const { words: w, mm, refcnt, lockSeq, data } = d;
  let sink = 0;
  switch (d.op) {
    case 'mmap-read-lock':
      for (let i = 0; i < n; i++) {
        mmapReadLock(w, mm);
        sink += w[data] + w[data + 1] + w[data + 2] + w[data + 3];
        mmapReadUnlock(w, mm);
      }
      break;
    case 'seqcount-read':
      for (let i = 0; i < n; i++) {
        let seq: number;
        let v: number;
        do {
          seq = speculateTryBegin(w, mm);
          v = w[data] + w[data + 1] + w[data + 2] + w[data + 3];
        } while (speculateRetry(w, mm, seq));
        sink += v;
      }
      break;
    case 'vma-read-lock':
      for (let i = 0; i < n; i++) {
        if (vmaStartRead(w, mm, refcnt, lockSeq) !== 0) throw new Error('vma not lockable');
        sink += w[data] + w[data + 1] + w[data + 2] + w[data + 3];
        vmaEndRead(w, refcnt);
      }
      break;
    case 'rcu-read-section': {
      const rcu = RcuDomain.attach(d.rcu);
      for (let i = 0; i < n; i++) {
        rcu.readLock();
        sink += w[data] + w[data + 1] + w[data + 2] + w[data + 3];
        rcu.readUnlock();
      }
      rcu.unregister();
      break;
    }
  }
  return sink;
}

if (!isMainThread && parentPort) {
  const d = workerData as PrimitiveWorkerData;
  runLoop(d, Math.min(d.iterations, 100_000)); // warm up the JIT
  Atomics.add(d.words, d.ready, 1);
  Atomics.notify(d.words, d.ready);
  while (Atomics.load(d.words, d.go) === 0) Atomics.wait(d.words, d.go, 0);
  const cpu0 = threadCpuNs();
  const t0 = performance.now();
  const sink = runLoop(d, d.iterations);
  const ns = (performance.now() - t0) * 1e6;
  const cpuNs = threadCpuNs() - cpu0;
  parentPort.postMessage({ nsPerOp: ns / d.iterations, cpuNsPerOp: cpuNs / d.iterations, sink });
}
