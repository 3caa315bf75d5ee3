// http_request_duration_seconds{method, route, status_code}: the HTTP request duration histogram,
// observed once per request from the app's onResponse hook (src/plugins/app/metrics.ts).
//
// Why not prom-client's Histogram: its observe() converts and validates the label object, hashes
// it into a string, and finds the bucket by a property keyed by the bound (a number turned into a
// string) on every call: ~2.4 µs per request on the event loop of the real server under load
// (perf, 2026-12-04), as much as the engine's answer to a point query. Here a request's label set
// is resolved once to a series number (the hook caches it per route, method and status), and an
// observation adds to that series' typed-array cells. The exposition is prom-client's format
// (Registry accepts any object with name, help, type, aggregator, get() and reset(); see
// exposition.ts): the same bucket bounds, cumulative buckets, +Inf, _sum and _count, a series
// printed once it has an observation.
//
// Main thread only (the event loop observes and scrapes): plain arrays, no shared memory.

import type { Metric, Registry } from 'prom-client';
import { exponentialBuckets } from 'prom-client';
import {
  type ExposedValue,
  type Labels,
  pushHistogramSeries,
  withAllLabels,
} from './exposition.js';

export type HttpLabel = 'method' | 'route' | 'status_code';

/** HTTP latency buckets: 50 µs … ~6.6 s, factor 2. */
export const HTTP_DURATION_BUCKETS: readonly number[] = exponentialBuckets(0.00005, 2, 18);

const BUCKETS = HTTP_DURATION_BUCKETS.length;
/** Cells of a series: one per finite bucket (not cumulative), then the +Inf overflow, sum, count. */
const OVERFLOW = BUCKETS;
const SUM = BUCKETS + 1;
const COUNT = BUCKETS + 2;
const CELLS = BUCKETS + 3;

const LE_LABELS: readonly Labels[] = [
  ...HTTP_DURATION_BUCKETS.map((le) => Object.freeze({ le })),
  Object.freeze({ le: '+Inf' }),
];

/** The index of the first bound >= seconds (Prometheus `le`), OVERFLOW above the last. */
function bucketOf(seconds: number): number {
  for (let b = 0; b < BUCKETS; b++) if (seconds <= HTTP_DURATION_BUCKETS[b]) return b;
  return OVERFLOW;
}

export class RequestDurationHistogram {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'HTTP request duration by method, route pattern and status code.';
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly HttpLabel[] = ['method', 'route', 'status_code'];
  /** Per series: its cells (see CELLS). Series are never removed (a route set is bounded). */
  private readonly cells: Float64Array[] = [];
  private readonly labels: Labels[] = [];
  /** Series number by `method route status_code` (each value without spaces but the route's). */
  private readonly byKey = new Map<string, number>();

  /** The series of one label set, made on first use. */
  series(method: string, route: string, statusCode: number | string): number {
    const key = `${method}\u0000${route}\u0000${statusCode}`;
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = this.cells.length;
      this.cells.push(new Float64Array(CELLS));
      this.labels.push(Object.freeze({ method, route, status_code: String(statusCode) }));
      this.byKey.set(key, s);
    }
    return s;
  }

  /** Counts one request of `seconds` in series `s` (from series()). */
  observeSeries(s: number, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const c = this.cells[s];
    c[bucketOf(seconds)] += 1;
    c[SUM] += seconds;
    c[COUNT] += 1;
  }

  /** prom-client's Histogram.observe(labels, value) shape (tests and tools). */
  observe(labels: Record<HttpLabel, string | number>, seconds: number): void {
    this.observeSeries(
      this.series(String(labels.method), String(labels.route), labels.status_code),
      seconds,
    );
  }

  /** What Registry.metrics() prints. */
  async getForPromString() {
    const values: ExposedValue[] = [];
    for (let s = 0; s < this.cells.length; s++) {
      const c = this.cells[s];
      if (c[COUNT] === 0) continue;
      pushHistogramSeries(values, this.name, LE_LABELS, this.labels[s], c, 0, c[COUNT], c[SUM]);
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  /** The same values with every label in `labels` (getMetricsAsJSON, AggregatorRegistry). */
  async get() {
    return withAllLabels(await this.getForPromString());
  }

  /** Registry.resetMetrics(): every series back to zero (they stay known, not printed). */
  reset(): void {
    for (const c of this.cells) c.fill(0);
  }

  /** Registers this histogram in `registry` (which takes any object of this shape at runtime). */
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}
