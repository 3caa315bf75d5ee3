/** Messages between bench/sections/strategies.ts and its threads (bench/lib/thread-pool.ts). */
import type { StrategyName } from '../../src/metrics/labels.js';
import type { SharedMmData } from '../lib/thread-attach.js';
import type { WorkloadPlan } from '../workloads/layout.js';

export interface BenchThreadData extends SharedMmData {
  control: Int32Array;
  /** The `node` workload's plan: the maps reader and the cold writer come from it. */
  plan: WorkloadPlan;
  /** The token word of the line control (bench/lib/line-bounce.ts), a buffer of its own. */
  bounce: Int32Array;
}

export type RunCommand =
  /** The workload's `maps` reader (whole file in 4 KiB reads) under `strategy`. */
  | { role: 'reader'; strategy: StrategyName }
  /** The workload's `cold` writer at full speed (its lock metrics labelled `strategy`). */
  | { role: 'writer'; strategy: StrategyName; seed: number }
  /** Control: arithmetic on private data only, to see how much CPU two threads really get. */
  | { role: 'spin' }
  /** Control: a cache line passed between two threads (bench/lib/line-bounce.ts). */
  | { role: 'bounce'; side: 0 | 1 };

export interface RunResult {
  ops: number;
  seconds: number;
  /** Writer only: per-syscall latency (ns). */
  p50?: number;
  p99?: number;
  max?: number;
  /** Line control, side 0: the median batch's nanoseconds per round trip. */
  p50Ns?: number;
}
