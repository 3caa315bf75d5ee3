/**
 * Overload protection: when the event loop lags more than `maxEventLoopDelayMs` (or the optional
 * health check fails) every request is answered 503 with `Retry-After`, in the errno JSON shape
 * (EBUSY) of the app's one error handler.
 *
 * @fastify/under-pressure measures (its event-loop delay histogram, timers and health check);
 * the verdict is asked of it in the app's request gate (src/plugins/app/request-gate.ts). The
 * plugin lives in a context of its own with no routes, so its own onRequest hook runs on no
 * request: that hook builds `request.routeOptions` (a 13-field object) on every request to look
 * for a per-route pressure handler, which this service does not use. Under pressure the gate
 * answers as that hook does: 503, `Retry-After`, and its error (code FST_UNDER_PRESSURE).
 */
import fastifyUnderPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface UnderPressureOptions {
  maxEventLoopDelayMs: number;
  retryAfterS: number;
  /** Extra health signal (tests use it to force the overloaded state deterministically). */
  healthCheck?: () => Promise<boolean>;
  healthCheckIntervalMs?: number;
}

const MESSAGE = 'service overloaded, retry later';

/** The error under-pressure's own hook raises (@fastify/error's shape: code, statusCode). */
class UnderPressureError extends Error {
  readonly code = 'FST_UNDER_PRESSURE';
  readonly statusCode = 503;
  constructor() {
    super(MESSAGE);
    this.name = 'FastifyError';
  }
}

async function underPressure(app: FastifyInstance, opts: UnderPressureOptions): Promise<void> {
  let isUnderPressure: () => boolean = () => false;
  await app.register(async (scope) => {
    await scope.register(fastifyUnderPressure, {
      maxEventLoopDelay: opts.maxEventLoopDelayMs,
      retryAfter: opts.retryAfterS,
      message: MESSAGE,
      ...(opts.healthCheck
        ? { healthCheck: opts.healthCheck, healthCheckInterval: opts.healthCheckIntervalMs ?? 1000 }
        : {}),
    });
    isUnderPressure = () => scope.isUnderPressure();
  });
  const retryAfter = String(opts.retryAfterS || 10); // under-pressure's own default for 0
  const error = new UnderPressureError();
  app.requestGate.add({
    passes: () => !isUnderPressure(),
    otherwise(_request, reply) {
      reply.code(503).header('retry-after', retryAfter);
      return error;
    },
  });
}

export default fp(underPressure, { name: 'under-pressure', dependencies: ['request-gate'] });
