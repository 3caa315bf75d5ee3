/**
 * `GET /healthz`: 200 while the service is serving. When under-pressure sees overload it answers
 * 503 before this handler runs, so the probe reflects the same state clients see.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['service'],
        summary: 'Liveness/readiness',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
};

export default healthRoutes;
