/** Messages and control words between the report's driver (threads.ts) and its threads. */
import type { StrategyName } from '../../src/metrics/labels.js';
import type { SharedMmData } from '../lib/thread-attach.js';
import type { ReaderName, WriterName } from '../workloads/definitions.js';
import type { WorkloadPlan } from '../workloads/layout.js';

export interface ThreadData extends SharedMmData {
  control: Int32Array;
  plan: WorkloadPlan;
  /** The token word of the line control (one Int32, a 64-byte buffer of its own). */
  bounce: Int32Array;
}

export type ThreadCommand =
  | { role: 'reader'; strategy: StrategyName; reader: ReaderName; hot: boolean; seed: number }
  | { role: 'writer'; strategy: StrategyName; writer: Exclude<WriterName, 'none'>; seed: number }
  /**
   * A faulting thread of the same process: writes one fresh page per op (a page fault), a new
   * 64-page mapping every 64 ops (mmap/munmap, not timed): faults.ts.
   */
  | { role: 'faulter'; strategy: StrategyName }
  /** Control: arithmetic on private data only, to see how much CPU two threads really get. */
  | { role: 'spin' }
  /** The line control, one side of it (bench/lib/line-bounce.ts). */
  | { role: 'bounce'; side: 0 | 1 };

/** A reader's counts over one window (ReadStats, plus what the workload checks). */
export interface ReaderCounters {
  retries: number;
  /** By reason, labels.ts FALLBACK_REASONS order. */
  fallbacks: number[];
  /** By kind, labels.ts HAZARD_KINDS order. */
  hazards: number[];
  /** mmap read lock acquisitions. */
  mmapLocks: number;
  /** Bytes handed to the caller (copy_to_user) over the window. */
  bytes: number;
  /** Answers or lines no state of the address space could have produced. */
  torn: number;
}

/**
 * A writer's evidence over one window: which of its writes waited and for what, and its RCU
 * reclaim traffic on lines readers use (mm-writer.ts writerStats, RcuDomain.stats).
 */
export interface WriterCounters {
  writes: number;
  mmapWaits: number;
  mmapWaitNs: number;
  vmaWaits: number;
  vmaWaitNs: number;
  /** synchronize() calls (a grace-period wait) and their nanoseconds. */
  graceWaits: number;
  graceWaitNs: number;
  epochWrites: number;
  slotScans: number;
}

/** What one thread did in one window. The kernel twin's windows have no counters. */
export interface WindowResult {
  ops: number;
  seconds: number;
  /** Per-op latency p99 (ns); 0 for the spin role. */
  p99Ns: number;
  /**
   * Times the thread went to sleep in the window (absent: not counted). Simulator: a reader's
   * waits for the mmap read lock; a writer's waits for the mmap lock, for a VMA's readers to
   * leave and for a grace period. Kernel twin: the thread's voluntary context switches.
   */
  sleeps?: number;
  /** Bounce side 0: the median batch's nanoseconds per round trip (absent: no full batch). */
  p50Ns?: number;
  counters?: ReaderCounters;
  writerCounters?: WriterCounters;
}
