// prom-client adapters for the shared-memory families: one metric object per family, registered
// in an app's Registry, whose getForPromString()/get() sum the family's cells over all threads
// (aggregator.ts) and return them in prom-client's value format, so registry.metrics() prints
// the standard text exposition with HELP and TYPE like any prom-client metric, and
// getMetricsAsJSON() works with AggregatorRegistry.aggregate.
//
// prom-client 15 has no public way to feed externally aggregated histogram buckets into its
// Histogram class, but Registry only needs an object with name, help, type, aggregator, get()
// (getForPromString() if present) and reset() (lib/registry.js); that is SharedFamilyMetric.
//
// Which series are printed: every label set of a counter from the start (zeros included, so a
// dashboard's `sum by (strategy)` shows every strategy at once), except procfs_mutations_total
// errno results, which appear once non-zero (131 errno names x 8 ops of zeros would be noise);
// a histogram's label set appears once it has an observation. Both are sticky: a series once
// printed is printed at every later scrape, so it never disappears from Prometheus.

import type { Metric, Registry } from 'prom-client';
import type { InstrumentAggregator } from './aggregator.js';
import { BUCKET_BOUNDS_SECONDS, INF_BUCKET } from './buckets.js';
import {
  FAMILIES,
  HISTOGRAM_SUM_CELL,
  type MetricFamily,
  MUTATIONS,
  seriesCell,
  seriesLabelIds,
} from './families.js';
import { MUTATION_RESULT_OK } from './labels.js';

export type Labels = Record<string, string | number>;

export interface ExposedValue {
  /** For get(): all labels. For getForPromString(): only `le` (or none); see sharedLabels. */
  labels: Labels;
  /** The series' labels, one cached object per series: Registry caches its formatted text
   * per object (a WeakMap), which makes printing ~10x cheaper than formatting every line. */
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
}

interface ExposedFamily {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExposedValue[];
  aggregator: 'sum';
}

const MUTATIONS_FAMILY = FAMILIES[MUTATIONS];
const MUTATION_RESULT_LABEL = MUTATIONS_FAMILY.labelNames.indexOf('result');
const NO_LABELS: Labels = Object.freeze({}) as Labels;
const LE_LABELS: readonly Labels[] = [
  ...BUCKET_BOUNDS_SECONDS.map((le) => Object.freeze({ le })),
  Object.freeze({ le: '+Inf' }),
];

/** getForPromString()'s values with every label in `labels` (what get() returns). */
export function withAllLabels<F extends { values: ExposedValue[] }>(data: F): F {
  const values = data.values.map(({ labels, sharedLabels, value, metricName }) => ({
    labels: { ...sharedLabels, ...labels },
    value,
    metricName,
  }));
  return { ...data, values };
}

/**
 * One histogram series in prom-client's value format: the cumulative finite buckets (`cells` from
 * `at`, one per `le` but the last), the +Inf bucket (the count, by definition), _sum and _count.
 */
export function pushHistogramSeries(
  values: ExposedValue[],
  name: string,
  le: readonly Labels[],
  sharedLabels: Labels,
  cells: ArrayLike<number>,
  at: number,
  count: number,
  sum: number,
): void {
  const bucketName = `${name}_bucket`;
  let cumulative = 0;
  for (let b = 0; b < le.length - 1; b++) {
    cumulative += cells[at + b];
    values.push({ labels: le[b], sharedLabels, value: cumulative, metricName: bucketName });
  }
  values.push({ labels: le[le.length - 1], sharedLabels, value: count, metricName: bucketName });
  values.push({ labels: NO_LABELS, sharedLabels, value: sum, metricName: `${name}_sum` });
  values.push({ labels: NO_LABELS, sharedLabels, value: count, metricName: `${name}_count` });
}

/** A counter series printed even while zero? (see the header comment) */
function shownFromStart(family: MetricFamily, labelIds: readonly number[]): boolean {
  if (family.kind === 'histogram') return false;
  if (family === MUTATIONS_FAMILY) return labelIds[MUTATION_RESULT_LABEL] === MUTATION_RESULT_OK;
  return true;
}

export class SharedFamilyMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly string[];
  private readonly family: MetricFamily;
  private readonly source: InstrumentAggregator;
  /** Totals of this family's cells, indexed like a block (other cells unused). */
  private readonly totals: Float64Array;
  /** Per series: 1 once printed (sticky). */
  private readonly shown: Uint8Array;
  /** Per series: its label object, built on first use and then reused (see sharedLabels). */
  private readonly seriesLabels: Array<Labels | undefined>;

  constructor(family: MetricFamily, source: InstrumentAggregator) {
    this.family = family;
    this.source = source;
    this.name = family.name;
    this.help = family.help;
    this.type = family.kind;
    this.labelNames = family.labelNames;
    this.totals = new Float64Array(family.offset + family.seriesCount * family.cellsPerSeries);
    this.shown = new Uint8Array(family.seriesCount);
    this.seriesLabels = new Array(family.seriesCount);
    for (let s = 0; s < family.seriesCount; s++) {
      if (shownFromStart(family, seriesLabelIds(family, s))) this.shown[s] = 1;
    }
  }

  /** What Registry.metrics() prints (labels split into le + cached series labels). */
  async getForPromString(): Promise<ExposedFamily> {
    const f = this.family;
    this.source.sumRange(this.totals, f.offset, this.totals.length);
    const values: ExposedValue[] = [];
    for (let s = 0; s < f.seriesCount; s++) {
      const at = seriesCell(f, s);
      if (f.kind === 'counter') {
        const value = this.totals[at];
        if (this.shown[s] === 0 && value === 0) continue;
        this.shown[s] = 1;
        values.push({ labels: NO_LABELS, sharedLabels: this.labelsOf(s), value });
      } else {
        let count = 0;
        for (let b = 0; b <= INF_BUCKET; b++) count += this.totals[at + b];
        if (this.shown[s] === 0 && count === 0) continue;
        this.shown[s] = 1;
        this.pushHistogram(values, s, at, count);
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  /** The same values with every label in `labels` (getMetricsAsJSON, AggregatorRegistry). */
  async get(): Promise<ExposedFamily> {
    return withAllLabels(await this.getForPromString());
  }

  /** Shared counters cannot be reset from one thread; Registry.resetMetrics() leaves them. */
  reset(): void {}

  private pushHistogram(values: ExposedValue[], series: number, at: number, count: number): void {
    const sumSeconds = this.totals[at + HISTOGRAM_SUM_CELL] / 1e9;
    const shared = this.labelsOf(series);
    pushHistogramSeries(values, this.name, LE_LABELS, shared, this.totals, at, count, sumSeconds);
  }

  private labelsOf(series: number): Labels {
    let labels = this.seriesLabels[series];
    if (labels === undefined) {
      const ids = seriesLabelIds(this.family, series);
      labels = {};
      for (let i = 0; i < ids.length; i++) {
        labels[this.family.labelNames[i]] = this.family.labelValues[i][ids[i]];
      }
      this.seriesLabels[series] = Object.freeze(labels);
    }
    return labels;
  }
}

/** Register one SharedFamilyMetric per engine family in `registry`. */
export function registerSharedFamilies(
  registry: Registry,
  source: InstrumentAggregator,
): SharedFamilyMetric[] {
  return FAMILIES.map((family) => {
    const metric = new SharedFamilyMetric(family, source);
    // Registry accepts any object of this shape at runtime; its .d.ts names only its own classes.
    registry.registerMetric(metric as unknown as Metric);
    return metric;
  });
}
