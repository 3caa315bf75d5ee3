/**
 * The mechanism behind a row's ratios, named from its own counters (docs/mechanisms.md explains
 * each, with the evidence). A ratio within 10% of the control figure is what two busy threads
 * get on this machine at all: CPU time-sharing, nothing the strategies do.
 */
import type { Row, WriterEvidence } from './rows.js';

export const MECHANISMS = [
  'cpu_share',
  'mmap_lock_wait',
  'vma_lock_wait',
  'rcu_grace_wait',
  'retry',
  'fallback',
  'shared_cache_line',
] as const;
export type Mechanism = (typeof MECHANISMS)[number];

/** Within this fraction of the control figure a ratio is CPU time-sharing only. */
const CONTROL_SLACK = 0.9;

function atControl(ratio: number, control: number | null): boolean {
  return ratio >= CONTROL_SLACK * (control ?? 1);
}

/** At least this many of 1,000 writes waiting for something makes it the writer's mechanism. */
const WAITS_PER_1K = 1;

/**
 * Why the writer beside this row's reader runs at writer_vs_alone (null: no writer), from the
 * writer's own evidence (which waits it had) when there is some, else from the reader's counters.
 */
export function writerMechanism(
  row: Row,
  control: number | null,
  ev?: WriterEvidence,
): Mechanism | null {
  if (row.writer_vs_alone === null) return null;
  if (atControl(row.writer_vs_alone, control)) return 'cpu_share';
  if (ev !== undefined) {
    if (ev.grace_waits_per_1k > 0) return 'rcu_grace_wait';
    if (ev.mmap_waits_per_1k >= WAITS_PER_1K) return 'mmap_lock_wait';
    if (ev.vma_waits_per_1k >= WAITS_PER_1K) return 'vma_lock_wait';
    return 'shared_cache_line';
  }
  if (row.strategy === 'mmap_lock' || (row.mmap_lock_reads_per_1k ?? 0) > 0)
    return 'mmap_lock_wait';
  if (row.writer === 'hot' && (row.strategy === 'per_vma' || row.strategy === 'kernel')) {
    return 'vma_lock_wait';
  }
  return 'shared_cache_line';
}

/** The evidence of `row`'s pair in `all`. */
export function evidenceOf(all: readonly WriterEvidence[], row: Row): WriterEvidence | undefined {
  return all.find(
    (e) => e.strategy === row.strategy && e.reader === row.reader && e.writer === row.writer,
  );
}

/** Why the reader beside this row's writer runs at reader_vs_alone. */
export function readerMechanism(row: Row, control: number | null): Mechanism | null {
  if (row.writer === 'none') return null;
  if (atControl(row.reader_vs_alone, control)) return 'cpu_share';
  if ((row.retries_per_1k ?? 0) >= 1) return 'retry';
  const f = row.fallbacks_per_1k;
  if (f !== null && Object.values(f).some((n) => n > 0)) return 'fallback';
  if (row.strategy === 'mmap_lock' || row.strategy === 'kernel') return 'mmap_lock_wait';
  return 'shared_cache_line';
}
