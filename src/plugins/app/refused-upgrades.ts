/**
 * Upgrade requests that are answered without upgrading (401 without the token, 503 under
 * pressure or while closing, 403 for a foreign Origin, 404, 400, …) close their socket.
 *
 * node's HTTP server hands an upgrade request's socket to the 'upgrade' listener and forgets it;
 * @fastify/websocket routes it through fastify with a response written straight onto that socket.
 * When a hook answers before the route runs, nothing would ever close the socket again: it would
 * answer `Connection: keep-alive` and sit in CLOSE-WAIT once the client hangs up, and enough
 * refused attempts exhaust the file descriptors. So the answer says `Connection: close`, and the
 * socket is ended and destroyed once the answer is written.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** node sets `upgrade` on a request it handed to the 'upgrade' listeners (missing from @types/node 20). */
function isUpgrade(raw: IncomingMessage): boolean {
  return (raw as IncomingMessage & { upgrade?: boolean }).upgrade === true;
}

async function refusedUpgrades(app: FastifyInstance): Promise<void> {
  // Synchronous hooks: they run on every request, and cost a promise each when async.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (isUpgrade(request.raw)) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    if (isUpgrade(request.raw)) request.raw.socket.destroySoon();
    done();
  });
}

export default fp(refusedUpgrades, { name: 'refused-upgrades' });
