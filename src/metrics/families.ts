// The engine metric families (names, help, labels: API.md "GET /metrics") and where each
// (family, label set) lives inside one thread's instrument block. A block is a Float64Array of
// BLOCK_CELLS cells; this table is its struct definition. The cells are owned by the thread
// that claimed the block: only that thread writes them (plain, non-atomic stores); see
// instruments.ts for the claim/release protocol and aggregator.ts for how they are read.
//
// A series' index is its label ids read as a mixed-radix number, first label most significant
// (e.g. lock hold: ((lock * 2 + mode) * 5 + strategy)). A counter series is 1 cell holding the
// count; a histogram series is HISTOGRAM_CELLS cells: one non-cumulative count per bucket
// (FINITE_BUCKET_COUNT finite buckets, then +Inf) followed by the sum of observations in ns.
// The histogram's _count is derived as the sum of its buckets, so _count always equals the
// +Inf bucket even in a racy read.

import { FINITE_BUCKET_COUNT } from './buckets.js';
import {
  FALLBACK_REASONS,
  FAULT_PATHS,
  FAULT_RESULTS,
  HAZARD_KINDS,
  LOCK_MODES,
  LOCKS,
  MUTATION_OPS,
  MUTATION_RESULTS,
  READ_OPS,
  STRATEGIES,
} from './labels.js';

/** Cells of one histogram series: buckets (finite + Inf), then the sum in nanoseconds. */
export const HISTOGRAM_CELLS = FINITE_BUCKET_COUNT + 2;
/** Offset of the sum cell inside a histogram series. */
export const HISTOGRAM_SUM_CELL = FINITE_BUCKET_COUNT + 1;

export type FamilyKind = 'counter' | 'histogram';

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly kind: FamilyKind;
  readonly labelNames: readonly string[];
  /** labelValues[i] = the values of labelNames[i], indexed by id. */
  readonly labelValues: ReadonlyArray<readonly string[]>;
  /** First cell of the family in a block. */
  readonly offset: number;
  /** Number of label sets (product of the label cardinalities). */
  readonly seriesCount: number;
  /** 1 for a counter, HISTOGRAM_CELLS for a histogram. */
  readonly cellsPerSeries: number;
}

interface FamilySpec {
  name: string;
  help: string;
  kind: FamilyKind;
  labels: ReadonlyArray<readonly [string, readonly string[]]>;
}

const lockLabels = [
  ['lock', LOCKS],
  ['mode', LOCK_MODES],
  ['strategy', STRATEGIES],
] as const;
const readLabels = [
  ['op', READ_OPS],
  ['strategy', STRATEGIES],
] as const;

// Order matters only for the layout; every id below is the index in this list.
const SPECS: readonly FamilySpec[] = [
  {
    name: 'procfs_lock_hold_seconds',
    help: 'Time a lock was held, by lock, mode and the read strategy in force.',
    kind: 'histogram',
    labels: lockLabels,
  },
  {
    name: 'procfs_lock_wait_seconds',
    help: 'Time spent waiting to acquire a lock, by lock, mode and the read strategy in force.',
    kind: 'histogram',
    labels: lockLabels,
  },
  {
    name: 'procfs_reads_total',
    help: 'Completed procfs reads (a whole maps read, or one PROCMAP_QUERY), by op and strategy.',
    kind: 'counter',
    labels: readLabels,
  },
  {
    name: 'procfs_read_duration_seconds',
    help: 'Duration of a procfs read (a whole maps read, or one PROCMAP_QUERY).',
    kind: 'histogram',
    labels: readLabels,
  },
  {
    name: 'procfs_speculation_attempts_total',
    help: 'Speculative (sequence-count validated) read attempts.',
    kind: 'counter',
    labels: readLabels,
  },
  {
    name: 'procfs_speculation_retries_total',
    help: 'Speculative read attempts that failed validation and were retried.',
    kind: 'counter',
    labels: readLabels,
  },
  {
    name: 'procfs_fallbacks_total',
    help: 'Reads that fell back to the mmap read lock, by reason.',
    kind: 'counter',
    labels: [...readLabels, ['reason', FALLBACK_REASONS]],
  },
  {
    name: 'procfs_hazards_total',
    help: 'Detected unsafe speculative reads (freed/reused name storage, dummy vm_ops).',
    kind: 'counter',
    labels: [
      ['kind', HAZARD_KINDS],
      ['strategy', STRATEGIES],
    ],
  },
  {
    name: 'procfs_mutations_total',
    help: 'Address-space mutations by op and result (errno name or ok).',
    kind: 'counter',
    labels: [
      ['op', MUTATION_OPS],
      ['result', MUTATION_RESULTS],
    ],
  },
  {
    name: 'procfs_mutation_duration_seconds',
    help: 'Duration of an address-space mutation, including waiting for the mmap write lock.',
    kind: 'histogram',
    labels: [['op', MUTATION_OPS]],
  },
  {
    name: 'procfs_faults_total',
    help: 'Page faults by lock path (per-VMA lock, or the mmap_lock fallback) and result.',
    kind: 'counter',
    labels: [
      ['path', FAULT_PATHS],
      ['result', FAULT_RESULTS],
    ],
  },
  {
    name: 'procfs_fault_duration_seconds',
    help: 'Duration of a page fault (lock included), by path and the read strategy in force.',
    kind: 'histogram',
    labels: [
      ['path', FAULT_PATHS],
      ['strategy', STRATEGIES],
    ],
  },
];

function layOut(specs: readonly FamilySpec[]): { families: MetricFamily[]; cells: number } {
  let offset = 0;
  const families = specs.map((spec): MetricFamily => {
    const seriesCount = spec.labels.reduce((n, [, values]) => n * values.length, 1);
    const cellsPerSeries = spec.kind === 'histogram' ? HISTOGRAM_CELLS : 1;
    const family: MetricFamily = {
      name: spec.name,
      help: spec.help,
      kind: spec.kind,
      labelNames: spec.labels.map(([name]) => name),
      labelValues: spec.labels.map(([, values]) => values),
      offset,
      seriesCount,
      cellsPerSeries,
    };
    offset += seriesCount * cellsPerSeries;
    return family;
  });
  return { families, cells: offset };
}

const layout = layOut(SPECS);

/** All engine families in layout order. */
export const FAMILIES: readonly MetricFamily[] = layout.families;
/** Float64 cells in one thread's block. */
export const BLOCK_CELLS = layout.cells;

// Family ids (indexes into FAMILIES), for code that needs a particular family.
export const LOCK_HOLD = 0;
export const LOCK_WAIT = 1;
export const READS = 2;
export const READ_DURATION = 3;
export const SPECULATION_ATTEMPTS = 4;
export const SPECULATION_RETRIES = 5;
export const FALLBACKS = 6;
export const HAZARDS = 7;
export const MUTATIONS = 8;
export const MUTATION_DURATION = 9;
export const FAULTS = 10;
export const FAULT_DURATION = 11;

/** The label ids of series `series` of `family` (inverse of the mixed-radix index). */
export function seriesLabelIds(family: MetricFamily, series: number): number[] {
  const ids = new Array<number>(family.labelValues.length);
  let rest = series;
  for (let i = family.labelValues.length - 1; i >= 0; i--) {
    const radix = family.labelValues[i].length;
    ids[i] = rest % radix;
    rest = Math.floor(rest / radix);
  }
  return ids;
}

/** The series index of a label-id tuple (mixed radix, first label most significant). */
export function seriesIndex(family: MetricFamily, labelIds: readonly number[]): number {
  let index = 0;
  for (let i = 0; i < family.labelValues.length; i++) {
    index = index * family.labelValues[i].length + labelIds[i];
  }
  return index;
}

/** First cell (in a block or a totals array) of a series. */
export function seriesCell(family: MetricFamily, series: number): number {
  return family.offset + series * family.cellsPerSeries;
}
