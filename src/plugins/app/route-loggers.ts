/**
 * fastify's per-request child logger (`childLoggerFactory`). A route with a log level of its own
 * (the hot read routes log at `warn`, routes/proc-reads.ts) would get a new pino child with that
 * level on every request, and pino rebuilds every log method of a child whose level changes:
 * ~2–5 µs a request, more than the engine's answer. Such a route's requests share one child per
 * parent logger and level, made once, without the request-id binding (the hot routes log only
 * warnings and errors; the app's error handler adds `reqId` itself). Every other request gets
 * fastify's usual child, with its `reqId`.
 */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

export function routeLevelChildLoggers(): ChildLoggerFactory {
  const shared = new WeakMap<FastifyBaseLogger, Map<string, FastifyBaseLogger>>();
  return (logger, bindings, opts) => {
    const level = opts.level;
    if (level === undefined || level === logger.level) return logger.child(bindings, opts);
    let byLevel = shared.get(logger);
    if (byLevel === undefined) {
      byLevel = new Map();
      shared.set(logger, byLevel);
    }
    const made = byLevel.get(level);
    if (made !== undefined) return made;
    const child = logger.child({}, opts);
    byLevel.set(level, child);
    return child;
  };
}
