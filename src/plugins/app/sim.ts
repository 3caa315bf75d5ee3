/**
 * Gives every route its engine: `app.sim` (a `SimApi`) and `app.serviceConfig`. The sim is closed
 * after fastify has finished the in-flight requests (onClose runs after the server stopped
 * accepting and drained), so a graceful shutdown never cuts a request off from its engine.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServiceConfig } from '../../config.js';
import type { SimApi } from '../../cpus/sim-api.js';

declare module 'fastify' {
  interface FastifyInstance {
    sim: SimApi;
    serviceConfig: ServiceConfig;
  }
}

export interface SimPluginOptions {
  sim: SimApi;
  config: ServiceConfig;
  /** Close the sim with the app (false when the caller owns the sim, e.g. a shared test sim). */
  closeSim: boolean;
}

async function simPlugin(app: FastifyInstance, opts: SimPluginOptions): Promise<void> {
  app.decorate('sim', opts.sim);
  app.decorate('serviceConfig', opts.config);
  // An activity that dies after it started is a bug: say so where monitoring looks.
  const unsubscribe = opts.sim.onActivityDied?.((pid, reason) =>
    app.log.error({ pid, reason }, 'activity thread died'),
  );
  app.addHook('onClose', async () => unsubscribe?.());
  if (opts.closeSim) {
    app.addHook('onClose', async () => {
      await opts.sim.close();
    });
  }
}

export default fp(simPlugin, { name: 'sim' });
