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

  // One label object per method, route and status, made once (prom-client hashes it per observe).
  const labelSets = new Map<string, { method: string; route: string; status_code: string }>();
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the URL (no pid in labels); unknown routes share one value.
    const route = request.routeOptions.url ?? 'unknown';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let labels = labelSets.get(key);
    if (labels === undefined) {
      labels = { method: request.method, route, status_code: String(reply.statusCode) };
      labelSets.set(key, labels);
    }
    metrics.httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['sim'] });
