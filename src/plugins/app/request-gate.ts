/**
 * The checks every request passes before routing's later stages (upgrade refusals, Host/Origin,
 * shutdown, bearer token, overload), run by ONE synchronous onRequest hook in the order they were
 * added. Each check was its own hook before: fastify's hook runner costs a step per hook on every
 * request (the hot point query spent ~2× the hello-world's time in fastify's hook and handler
 * path), and the checks answer nothing on the common path.
 *
 * A check returns PASS (the request goes on), ANSWERED (it sent the reply itself), or an Error,
 * which goes to the app's error handler as if a hook had failed with it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export const PASS = false;
export const ANSWERED = true;
export type GateVerdict = typeof PASS | typeof ANSWERED | Error;
export type RequestCheck = (request: FastifyRequest, reply: FastifyReply) => GateVerdict;

export interface RequestGate {
  /** Adds a check after the ones already added (before the app is ready). */
  add(check: RequestCheck): void;
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
  });
  app.addHook('onReady', async () => {
    sealed = true;
  });
  // Synchronous: no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    for (let i = 0; i < checks.length; i++) {
      const verdict = checks[i](request, reply);
      if (verdict === PASS) continue;
      if (verdict !== ANSWERED) done(verdict);
      return;
    }
    done();
  });
}

export default fp(requestGate, { name: 'request-gate' });
