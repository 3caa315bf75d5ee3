/**
 * The checks every request passes before routing's later stages (upgrade refusals, Host/Origin,
 * shutdown, bearer token, overload), run by ONE synchronous onRequest hook in the order they were
 * added. Each check was its own hook before: fastify's hook runner costs a step per hook on every
 * request (the hot point query spent ~2× the hello-world's time in fastify's hook and handler
 * path), and the checks answer nothing on the common path.
 *
 * A check is two parts: `passes(raw)`, a test on node's request alone that is true only when the
 * check lets the request through untouched (the common case, and all the reads' fast path
 * asks: read-fast-path.ts), and `otherwise(request, reply)`, run when it is false, which
 * returns PASS (the request goes on after all), ANSWERED (it sent the reply itself), or an Error,
 * which goes to the app's error handler as if a hook had failed with it.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export const PASS = false;
export const ANSWERED = true;
export type GateVerdict = typeof PASS | typeof ANSWERED | Error;

export interface RequestCheck {
  /** True only if this check would let the request through without touching it. */
  passes(raw: IncomingMessage): boolean;
  /** The check proper, for a request `passes` did not let through. */
  otherwise(request: FastifyRequest, reply: FastifyReply): GateVerdict;
}

export interface RequestGate {
  /** Adds a check after the ones already added (before the app is ready). */
  add(check: RequestCheck): void;
  /** True if every check lets the request through untouched. */
  passesAll(raw: IncomingMessage): boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    requestGate: RequestGate;
  }
}

async function requestGate(app: FastifyInstance): Promise<void> {
  const checks: RequestCheck[] = [];
  let sealed = false;
  app.decorate('requestGate', {
    add(check: RequestCheck) {
      if (sealed) throw new Error('requestGate.add after the app is ready');
      checks.push(check);
    },
    passesAll(raw: IncomingMessage) {
      for (let i = 0; i < checks.length; i++) if (!checks[i].passes(raw)) return false;
      return true;
    },
  });
  app.addHook('onReady', async () => {
    sealed = true;
  });
  // Synchronous: no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i];
      if (check.passes(request.raw)) continue;
      const verdict = check.otherwise(request, reply);
      if (verdict === PASS) continue;
      if (verdict !== ANSWERED) done(verdict);
      return;
    }
    done();
  });
}

export default fp(requestGate, { name: 'request-gate' });
