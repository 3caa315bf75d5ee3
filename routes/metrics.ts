/**
 * `GET /metrics`: Prometheus exposition of the app's registry merged with the engine's
 * instruments from every thread (src/plugins/app/metrics.ts, src/metrics/registry.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const metricsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: { tags: ['service'], summary: 'Prometheus metrics', produces: ['text/plain'] },
    },
    async (_request, reply) => {
      const { registry } = app.metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
};

export default metricsRoutes;
