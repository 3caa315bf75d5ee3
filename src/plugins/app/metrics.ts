/**
 * The app's own prom-client `Registry` (one per app, so tests can build apps side by side):
 * default Node metrics and HTTP request durations by route. `/metrics` merges it with the
 * engine's instruments from every thread (`SimApi.metricsJson`) via `AggregatorRegistry.aggregate`,
 * which sums counters and histogram buckets across sources.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AggregatorRegistry, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    /** Exposition text of the app's registry merged with the engine's instruments. */
    renderMetrics(): Promise<{ contentType: string; text: string }>;
  }
}

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route pattern (not by URL: no pid in labels)',
    labelNames: ['method', 'route', 'status_code'] as const,
    // 50 µs … ~1.6 s
    buckets: [
      5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.6,
    ],
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    // Unknown routes share one label value so random URLs cannot grow the series count.
    const route = request.routeOptions.url ?? 'unknown';
    httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.decorate('renderMetrics', async () => {
    const own = await registry.getMetricsAsJSON();
    const engine = await app.sim.metricsJson();
    // biome-ignore lint/suspicious/noExplicitAny: prom-client's aggregate takes its own JSON type
    const merged = AggregatorRegistry.aggregate([own, engine] as any);
    return { contentType: registry.contentType, text: await merged.metrics() };
  });
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['sim'] });
