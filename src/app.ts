/**
 * `buildApp(options)`: the fastify app as a factory that tests `inject()` into and server.ts
 * listens with. Layers as in fastify/demo: external plugins (swagger, under-pressure), then the
 * app's own plugins (the sim, the metrics registry), then one route plugin per resource (GET /ws
 * in a context of its own with the websocket plugin), and one error path that turns every failure into the errno JSON of API.md.
 */

import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import configRoutes from '../routes/config.js';
import healthRoutes from '../routes/health.js';
import metricsRoutes from '../routes/metrics.js';
import mutationRoutes from '../routes/mutations.js';
import pageRoutes from '../routes/page.js';
import procReadRoutes from '../routes/proc-reads.js';
import processRoutes from '../routes/processes.js';
import queryBatchRoutes from '../routes/query-batch.js';
import snapshotRoutes from '../routes/snapshot.js';
import wsRoutes from '../routes/ws.js';
import type { ServiceConfig } from './config.js';
import type { SimApi } from './cpus/sim-api.js';
import { clientErrorHandler, frameworkErrors } from './plugins/app/client-errors.js';
import eventFanoutPlugin from './plugins/app/event-fanout.js';
import metricsPlugin from './plugins/app/metrics.js';
import originHostPlugin from './plugins/app/origin-host.js';
import { ReadFastPath } from './plugins/app/read-fast-path.js';
import refusedUpgradesPlugin from './plugins/app/refused-upgrades.js';
import requestGatePlugin, { ANSWERED, type RequestCheck } from './plugins/app/request-gate.js';
import { routeLevelChildLoggers } from './plugins/app/route-loggers.js';
import simPlugin from './plugins/app/sim.js';
import statePlugin from './plugins/app/state.js';
import swaggerPlugin from './plugins/external/swagger.js';
import underPressurePlugin from './plugins/external/under-pressure.js';
import websocketPlugin from './plugins/external/websocket.js';
import { smallBodyLimit } from './schemas/body-limits.js';
import { HTTP_ERRNO, toErrorReply } from './schemas/errors.js';
import { jsonBodyParser } from './schemas/json-body.js';
import { validatorCompiler } from './schemas/validator.js';
import type { StateStore } from './state/state-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    readFastPath: ReadFastPath;
  }
}

export interface AppOptions {
  config: ServiceConfig;
  /** The engine (server.ts picks the implementation; tests pass a fake or a local sim). */
  sim: SimApi;
  /** `--state-dir`: the store behind POST /snapshot (default none). */
  stateStore?: StateStore | null;
  /** Close the sim when the app closes (default true: the app owns it). */
  closeSim?: boolean;
  /** pino options, or false for none (tests). */
  logger?: FastifyServerOptions['logger'];
  /** Extra health signal for under-pressure (tests force overload with it). */
  healthCheck?: () => Promise<boolean>;
  healthCheckIntervalMs?: number;
}

/**
 * `--token`: every request but the liveness probe and the page's static files (`/`, `/ui/…`: they
 * hold no data) must carry `Authorization: Bearer <token>` (401 otherwise). A browser cannot set
 * headers on a WebSocket, so `/ws` also accepts the token as a subprotocol
 * `bearer.<base64url(token)>` offered after `procfs-sim` (the one the server picks), as
 * Kubernetes' API server does. Compared in constant time.
 */
function bearerTokenCheck(token: string): RequestCheck {
  const expected = Buffer.from(`Bearer ${token}`);
  const expectedProtocol = Buffer.from(`bearer.${Buffer.from(token).toString('base64url')}`);
  const matches = (got: Buffer, want: Buffer) =>
    got.length === want.length && timingSafeEqual(got, want);
  return {
    passes(raw) {
      const path = (raw.url ?? '').split('?')[0];
      if (path === '/healthz' || path === '/' || path.startsWith('/ui/')) return true;
      if (matches(Buffer.from(raw.headers.authorization ?? ''), expected)) return true;
      if (path !== '/ws') return false;
      const offered = String(raw.headers['sec-websocket-protocol'] ?? '').split(',');
      return offered.some((p) => matches(Buffer.from(p.trim()), expectedProtocol));
    },
    otherwise(_request, reply) {
      reply.code(401).header('www-authenticate', 'Bearer').send({
        error: 'EACCES',
        errno: HTTP_ERRNO.EACCES,
        message: 'missing or bad bearer token',
      });
      return ANSWERED;
    },
  };
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  // GET /proc/<pid>/procmap_query?addr=0x… and GET /proc/<pid>/maps answered before fastify when
  // they succeed (src/plugins/app/read-fast-path.ts); starts once the app is ready.
  const readFastPath = new ReadFastPath();
  const app = Fastify({
    serverFactory: readFastPath.serverFactory,
    logger: opts.logger ?? false,
    // Routes that need more raise it (src/schemas/body-limits.ts).
    bodyLimit: smallBodyLimit(config),
    // Requests that arrive while closing get our own 503 (below) in the errno shape, not
    // fastify's fixed body.
    return503OnClosing: false,
    // Parser and router errors in the errno shape too (src/plugins/app/client-errors.ts).
    clientErrorHandler,
    frameworkErrors,
    // One shared child per route log level (src/plugins/app/route-loggers.ts).
    childLoggerFactory: routeLevelChildLoggers(),
  });
  // The checks every request passes, in this order, in one synchronous onRequest hook
  // (src/plugins/app/request-gate.ts); under-pressure's comes last (registered below).
  await app.register(requestGatePlugin);
  await app.register(refusedUpgradesPlugin);
  await app.register(originHostPlugin, { config });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.requestGate.add({
    passes: () => !closing,
    otherwise(_request, reply) {
      // In-flight requests finish; new ones (on kept-alive connections) are shed.
      reply
        .code(503)
        .header('connection', 'close')
        .header('retry-after', String(config.retryAfterS))
        .send({ error: 'EBUSY', errno: HTTP_ERRNO.EBUSY, message: 'the service is shutting down' });
      return ANSWERED;
    },
  });
  if (config.token !== '') app.requestGate.add(bearerTokenCheck(config.token));
  // TypeBox validation: bodies are checked without coercion (a JSON number stays a number, so
  // unsafe integers cannot sneak in as strings); params and querystrings are converted, exactly
  // (src/schemas/exact-params.ts), with a fast path for plain values (src/schemas/validator.ts).
  app.setValidatorCompiler(validatorCompiler);
  const parseJson = jsonBodyParser(app);

  // Empty body = no body; nesting depth checked before parsing (src/schemas/json-body.ts).
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) =>
    parseJson(request, body as Buffer, done),
  );

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorReply(err);
    if (status >= 500 && status !== 503) {
      // A route with its own log level shares a logger without the reqId binding: add it.
      const log = request.log;
      const bound = 'bindings' in log && typeof log.bindings === 'function' && log.bindings().reqId;
      log.error(bound ? { err } : { err, reqId: request.id }, 'request failed');
    }
    if ((status === 503 || status === 429) && !reply.hasHeader('retry-after')) {
      reply.header('retry-after', String(config.retryAfterS));
    }
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: 'ENOENT',
      errno: HTTP_ERRNO.ENOENT,
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    });
  });

  await app.register(simPlugin, { sim: opts.sim, config, closeSim: opts.closeSim ?? true });
  // Before every route (its onRoute hook gives each route its request-duration hook).
  await app.register(metricsPlugin);
  await app.register(swaggerPlugin);
  await app.register(underPressurePlugin, {
    maxEventLoopDelayMs: config.maxEventLoopDelayMs,
    retryAfterS: config.retryAfterS,
    healthCheck: opts.healthCheck,
    healthCheckIntervalMs: opts.healthCheckIntervalMs,
  });

  await app.register(eventFanoutPlugin);
  await app.register(statePlugin, { store: opts.stateStore ?? null });

  await app.register(healthRoutes);
  await app.register(configRoutes);
  await app.register(metricsRoutes);
  await app.register(processRoutes);
  await app.register(procReadRoutes);
  await app.register(queryBatchRoutes);
  await app.register(mutationRoutes);
  await app.register(snapshotRoutes);
  // GET /ws with the WebSocket plugin, in a context of their own (its hooks stay off other routes).
  await app.register(websocketPlugin, { maxMessageBytes: config.wsMaxMessage, routes: wsRoutes });
  await app.register(pageRoutes);
  app.decorate('readFastPath', readFastPath);
  app.addHook('onReady', async () => readFastPath.attach(app));
  return app;
}
