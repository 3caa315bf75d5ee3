/**
 * Service configuration (API.md "Configuration and observability"): `GET /config` and the
 * service-wide strategy switch `PUT /config/strategy`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, StrategyName } from '../src/schemas/common.js';

const tags = ['service'];

const ConfigBody = Type.Object({
  strategy: StrategyName,
  cpus: Type.Integer(),
  max_processes: Type.Integer(),
  max_vmas_per_process: Type.Integer(),
  max_batch: Type.Integer(),
  body_limit: Type.Integer(),
  ws_max_message: Type.Integer(),
});

const configRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const describe = () => {
    const sim = app.sim.getConfig();
    const svc = app.serviceConfig;
    return {
      strategy: sim.strategy,
      cpus: sim.cpus,
      max_processes: sim.maxProcesses,
      max_vmas_per_process: sim.maxVmasPerProcess,
      max_batch: sim.maxBatch,
      body_limit: svc.bodyLimit,
      ws_max_message: svc.wsMaxMessage,
    };
  };

  app.get(
    '/config',
    { schema: { tags, summary: 'Current configuration', response: { 200: ConfigBody } } },
    async () => describe(),
  );

  app.put(
    '/config/strategy',
    {
      schema: {
        tags,
        summary: 'Switch the service-wide locking strategy',
        body: Type.Object({ strategy: StrategyName }, { additionalProperties: false }),
        response: { 200: ConfigBody, ...errorResponses(400) },
      },
    },
    async (request) => {
      app.sim.setStrategy(request.body.strategy);
      request.log.info({ strategy: request.body.strategy }, 'strategy switched');
      return describe();
    },
  );
};

export default configRoutes;
