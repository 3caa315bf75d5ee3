/**
 * Overload protection: when the event loop lags more than `maxEventLoopDelayMs` (or the optional
 * health check fails) every request is answered 503 with `Retry-After`. under-pressure raises its
 * error into the app's one error handler, which gives it the errno JSON shape (EBUSY).
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

async function underPressure(app: FastifyInstance, opts: UnderPressureOptions): Promise<void> {
  await app.register(fastifyUnderPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    retryAfter: opts.retryAfterS,
    message: 'service overloaded, retry later',
    ...(opts.healthCheck
      ? { healthCheck: opts.healthCheck, healthCheckInterval: opts.healthCheckIntervalMs ?? 1000 }
      : {}),
  });
}

export default fp(underPressure, { name: 'under-pressure' });
