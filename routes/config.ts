/**
 * Service configuration (API.md "Configuration and observability"): `GET /config` and the
 * service-wide strategy switch `PUT /config/strategy`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, StrategyName } from '../src/schemas/common.js';
import { ConfigBody, formatConfig } from '../src/schemas/service-config.js';

const tags = ['service'];

const configRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const describe = () => formatConfig(app.sim.getConfig(), app.serviceConfig);

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
