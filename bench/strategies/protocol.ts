/** Messages and control words between bench/sections/strategies.ts and its threads. */
import type { StrategyName } from '../../src/metrics/labels.js';
import type { MmGlobalBuffers } from '../../src/mm/mm-struct.js';

/** Control words (Int32 indexes). */
export const GO = 0;
export const STOP = 1;
export const CONTROL_WORDS = 2;

export interface BenchThreadData {
  mm: SharedArrayBuffer;
  globals: MmGlobalBuffers;
  rcu: SharedArrayBuffer;
  instruments: SharedArrayBuffer;
  control: Int32Array;
  /** Writer: the 128 MiB range it maps pages into (empty at the start). */
  rangeStart: number;
  rangePages: number;
}

export type RunCommand =
  | { role: 'reader'; strategy: StrategyName; chunk: number }
  | { role: 'writer'; strategy: StrategyName; seed: number }
  /** Control: arithmetic on private data only, to see how much CPU two threads really get. */
  | { role: 'spin' };

export interface RunResult {
  ops: number;
  seconds: number;
  /** Writer only: per-syscall latency (ns). */
  p50?: number;
  p99?: number;
  max?: number;
}
