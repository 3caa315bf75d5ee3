// One prom-client Registry per app instance (never the global registry, so apps built side by
// side in tests share nothing): Node default metrics, the engine families summed over every
// thread's instruments, the gauges procfs_processes / procfs_vmas, and the HTTP request
// duration histogram that the service observes from an onResponse hook.

import { collectDefaultMetrics, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import { InstrumentAggregator, type InstrumentTotals } from './aggregator.js';
import { registerSharedFamilies } from './exposition.js';
import type { Instruments } from './instruments.js';

export interface EngineGauges {
  processes: number;
  vmas: number;
}

export interface MetricsRegistryOptions {
  /** The app's instruments (Instruments.create on the main thread). */
  instruments: Instruments;
  /** Current process and VMA counts, read at each scrape. */
  gauges: () => EngineGauges | Promise<EngineGauges>;
}

export type HttpLabel = 'method' | 'route' | 'status_code';

export interface MetricsRegistry {
  readonly registry: Registry;
  /**
   * http_request_duration_seconds{method, route, status_code}: observe seconds, with `route`
   * the route pattern (e.g. `/proc/:pid/maps`), never the raw URL (unbounded cardinality).
   */
  readonly httpRequestDuration: Histogram<HttpLabel>;
  /** Engine totals now (for the WebSocket rates stream; see rates.ts). Never decreasing. */
  totals(): InstrumentTotals;
}

/** HTTP latency buckets: 50 µs … ~6.6 s, factor 2. */
export const HTTP_DURATION_BUCKETS: readonly number[] = exponentialBuckets(0.00005, 2, 18);

export function createMetricsRegistry(options: MetricsRegistryOptions): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // Separate aggregators, so each reader's "never backwards" state is its own.
  registerSharedFamilies(registry, new InstrumentAggregator(options.instruments));
  const ratesAggregator = new InstrumentAggregator(options.instruments);

  // One gauges() call per scrape serves both gauges: Registry.metrics() calls every collect()
  // in one synchronous pass, so the second reuses the first's promise; the memo is cleared
  // when that promise settles, before any later scrape.
  const { gauges } = options;
  let pending: Promise<EngineGauges> | null = null;
  const readGauges = (): Promise<EngineGauges> => {
    if (pending === null) {
      const current = Promise.resolve().then(gauges);
      const clear = (): void => {
        pending = null;
      };
      current.then(clear, clear);
      pending = current;
    }
    return pending;
  };
  new Gauge({
    name: 'procfs_processes',
    help: 'Simulated processes currently alive.',
    registers: [registry],
    async collect() {
      this.set((await readGauges()).processes);
    },
  });
  new Gauge({
    name: 'procfs_vmas',
    help: 'VMAs across all simulated processes.',
    registers: [registry],
    async collect() {
      this.set((await readGauges()).vmas);
    },
  });

  const httpRequestDuration = new Histogram<HttpLabel>({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [...HTTP_DURATION_BUCKETS],
    registers: [registry],
  });

  return { registry, httpRequestDuration, totals: () => ratesAggregator.totals() };
}
