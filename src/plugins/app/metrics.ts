/**
 * The app's metrics (src/metrics/registry.ts): one prom-client `Registry` per app (tests build apps
 * side by side) with default Node metrics, the engine's instruments summed over every thread's
 * shared-memory block on each scrape, the process/VMA gauges, and HTTP request durations by
 * route pattern, observed here.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createMetricsRegistry, type MetricsRegistry } from '../../metrics/registry.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: MetricsRegistry;
  }
}

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const metrics = createMetricsRegistry({
    instruments: app.sim.instruments,
    gauges: () => app.sim.gauges(),
  });
  app.decorate('metrics', metrics);

  // The series of a method, route and status, found once: by `method route`, then by status.
  const seriesOf = new Map<string, number[]>();
  const histogram = metrics.httpRequestDuration;
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the URL (no pid in labels); unknown routes share one value.
    const route = request.routeOptions.url ?? 'unknown';
    const status = reply.statusCode;
    const key = `${request.method} ${route}`;
    let byStatus = seriesOf.get(key);
    if (byStatus === undefined) {
      byStatus = [];
      seriesOf.set(key, byStatus);
    }
    let series = byStatus[status];
    if (series === undefined) {
      series = histogram.series(request.method, route, status);
      byStatus[status] = series;
    }
    histogram.observeSeries(series, reply.elapsedTime / 1000);
    done();
  });
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['sim'] });
