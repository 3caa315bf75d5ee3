/**
 * The raw material of the report: one Sample per timed window (what each thread did), recorded
 * by the simulator's threads (threads.ts) and the kernel twin (kernel-twin.ts) alike. Rows
 * (rows.ts) are computed from these only, so a recorded run can be recomputed and tested.
 */
import type { StrategyName } from '../../src/metrics/labels.js';
import type { ReaderName, WriterName } from '../workloads/definitions.js';
import type { WindowResult } from './protocol.js';

export type SampleKind =
  | 'reader_alone'
  | 'writer_alone'
  | 'pair'
  | 'spin_alone'
  | 'spin_pair'
  /** The line control run just before the pair of the same strategy, reader and writer. */
  | 'bounce';
/** The five strategies, and the host kernel running the same workload. */
export type RowStrategy = StrategyName | 'kernel';

export interface Sample {
  kind: SampleKind;
  /** null for the spin control. */
  strategy: RowStrategy | null;
  reader: ReaderName | 'none';
  writer: WriterName;
  /** Point readers query the hot VMA only (under, and as the baseline for, the hot writer). */
  hot: boolean;
  rep: number;
  /** The reader's window (spin: the first thread's; bounce: the line control's side 0). */
  r: WindowResult | null;
  /** The writer's window (spin_pair: the second thread's). */
  w: WindowResult | null;
}

export const rate = (x: WindowResult): number => (x.seconds > 0 ? x.ops / x.seconds : 0);

/** Point readers query the hot VMA under the hot writer (definitions.ts). */
export function targetsHot(reader: ReaderName | 'none', writer: WriterName): boolean {
  return writer === 'hot' && (reader === 'query_point' || reader === 'query_point_name');
}
