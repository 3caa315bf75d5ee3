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
 *
 * A WebSocket handshake the ws library would refuse (a bad `Sec-WebSocket-Key`, a version other
 * than 13 or 8, a malformed `Sec-WebSocket-Protocol`) is refused here first, as 400 EINVAL in the
 * errno shape: ws's own refusal is a bare text/html 400 written onto the socket.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HTTP_ERRNO } from '../../schemas/errors.js';
import { ANSWERED, PASS } from './request-gate.js';

/** RFC 6455 4.2.1: the key is 16 random bytes in base64; ws also accepts version 8. */
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;
const WS_VERSIONS = new Set(['8', '13']);
/** RFC 6455 4.1: a comma-separated list of tokens (RFC 7230 tchar). */
const WS_PROTOCOLS = /^\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*\s*$/;

/** Why the ws library would refuse this handshake, or null. */
export function handshakeProblem(headers: IncomingMessage['headers']): string | null {
  if (String(headers.upgrade).toLowerCase() !== 'websocket') return null;
  if (!WS_KEY.test(String(headers['sec-websocket-key'] ?? ''))) {
    return 'missing or invalid Sec-WebSocket-Key header';
  }
  if (!WS_VERSIONS.has(String(headers['sec-websocket-version'] ?? ''))) {
    return 'Sec-WebSocket-Version must be 13';
  }
  const protocols = headers['sec-websocket-protocol'];
  if (protocols !== undefined && !WS_PROTOCOLS.test(String(protocols))) {
    return 'invalid Sec-WebSocket-Protocol header';
  }
  return null;
}

/** node sets `upgrade` on a request it handed to the 'upgrade' listeners (missing from @types/node 20). */
function isUpgrade(raw: IncomingMessage): boolean {
  return (raw as IncomingMessage & { upgrade?: boolean }).upgrade === true;
}

async function refusedUpgrades(app: FastifyInstance): Promise<void> {
  // Only upgrade requests pay anything (no onSend or onResponse hook for every request): the
  // header is set before anything can answer, and every answer keeps it; the socket goes once
  // the answer is written (an upgrade that succeeds is hijacked: it writes no answer here).
  app.requestGate.add({
    passes: (raw) => !isUpgrade(raw),
    otherwise(request, reply) {
      reply.header('connection', 'close');
      reply.raw.once('finish', () => request.raw.socket.destroySoon());
      const problem = handshakeProblem(request.headers);
      if (problem === null) return PASS;
      reply
        .code(400)
        .header('sec-websocket-version', '13')
        .send({ error: 'EINVAL', errno: HTTP_ERRNO.EINVAL, message: problem });
      return ANSWERED;
    },
  });
}

export default fp(refusedUpgrades, { name: 'refused-upgrades', dependencies: ['request-gate'] });
