/**
 * Worker of bench/metrics/overhead.ts `measureParallelRecording`: claims its own instrument
 * block, warms up, reports ready (gate[1] += 1), waits for the start signal (gate[0] != 0) so
 * all threads record at the same time, then times `iterations` recorder.read() calls and
 * posts the ns per call. Does nothing when run as a plain script (parentPort is null).
 */

import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Instruments } from '../../src/metrics/instruments.js';
import type { ReadOpId, StrategyId } from '../../src/metrics/labels.js';
import type { InstrumentRecorder } from '../../src/metrics/recorder.js';

export interface RecordLoopData {
  buffer: SharedArrayBuffer;
  gate: SharedArrayBuffer;
  iterations: number;
}

function readLoop(rec: InstrumentRecorder, n: number): void {
  for (let i = 0; i < n; i++) rec.read((i & 1) as ReadOpId, (i % 5) as StrategyId, (i * 37) % 2e6);
}

if (parentPort !== null) {
  const { buffer, gate, iterations } = workerData as RecordLoopData;
  const gateWords = new Int32Array(gate);
  // Warm up on a private buffer so the shared one counts exactly the timed calls.
  readLoop(Instruments.create({ capacity: 1 }).recorder(), 100_000);
  const rec = Instruments.attach(buffer).recorder();
  Atomics.add(gateWords, 1, 1);
  Atomics.notify(gateWords, 1);
  Atomics.wait(gateWords, 0, 0);
  const t0 = performance.now();
  readLoop(rec, iterations);
  const nsPerCall = ((performance.now() - t0) * 1e6) / iterations;
  rec.release();
  parentPort.postMessage(nsPerCall);
}
