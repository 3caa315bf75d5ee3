/**
 * The app's metrics (src/metrics/registry.ts): one prom-client `Registry` per app (tests build apps
 * side by side) with default Node metrics, the engine's instruments summed over every thread's
 * shared-memory block on each scrape, the process/VMA gauges, and HTTP request durations by
 * route pattern, observed here.
 */
import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { createMetricsRegistry, type MetricsRegistry } from '../../metrics/registry.js';

/** Counts one request that ended with `status` after `seconds` in http_request_duration_seconds. */
export type ObserveRequest = (status: number, seconds: number) => void;

declare module 'fastify' {
  interface FastifyInstance {
    metrics: MetricsRegistry;
    /** Request durations of a method and route pattern (for requests answered outside a route). */
    requestDurations: { observer(method: string, route: string): ObserveRequest };
  }
}

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const metrics = createMetricsRegistry({
    instruments: app.sim.instruments,
    gauges: () => app.sim.gauges(),
  });
  app.decorate('metrics', metrics);

  // Each route's requests are observed by a hook of its own, given the route's method and
  // pattern when the route is added (onRoute): `request.routeOptions`, which a hook shared by every
  // route must read them from, builds a 13-field object per request. The route pattern, never the
  // URL (no pid in labels). Requests no route takes (404s, and those a check refused on the way)
  // share the route value "unknown", observed by the one app-wide hook, which passes the others.
  const histogram = metrics.httpRequestDuration;
  /** Observes one method and route's requests; series by status code, found once each. */
  const observer = (method: string, route: string): ObserveRequest => {
    const byStatus: number[] = [];
    return (status, seconds) => {
      let series = byStatus[status];
      if (series === undefined) {
        series = histogram.series(method, route, status);
        byStatus[status] = series;
      }
      histogram.observeSeries(series, seconds);
    };
  };
  app.decorate('requestDurations', { observer });
  // Observers by method, made on first use (a GET route also answers HEAD with these hooks).
  const byMethod = (route: string) => {
    const observers = new Map<string, ObserveRequest>();
    return (method: string) => {
      let observe = observers.get(method);
      if (observe === undefined) {
        observe = observer(method, route);
        observers.set(method, observe);
      }
      return observe;
    };
  };
  app.addHook('onRoute', (route) => {
    const observerOf = byMethod(route.url);
    const hook: onResponseHookHandler = (request, reply, done) => {
      observerOf(request.method)(reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = route.onResponse === undefined ? [hook] : [route.onResponse, hook].flat();
  });
  const unknownOf = byMethod('unknown');
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unknownOf(request.method)(reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['sim'] });
