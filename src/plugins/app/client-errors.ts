/**
 * Errors fastify and node's HTTP parser answer before any route runs, in the errno shape of every
 * other error (API.md "Conventions"; issue 11 finding 10) instead of their own bodies:
 *
 * - `clientErrorHandler`: requests node cannot parse at all — 400 `EINVAL` (malformed request),
 *   431 `E2BIG` (URL plus headers above node's 16 KiB `--max-http-header-size`; a long URL lands
 *   here), 408 `ETIMEDOUT` (request not complete in time). The connection cannot be read further,
 *   so the answer says `Connection: close` and the socket is closed after it.
 * - `frameworkErrors`: a URL that does not decode (`%` alone: 400 `EINVAL`), a path parameter above
 *   fastify's `maxParamLength` (414 `ENAMETOOLONG`). The request was parsed: the connection stays.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { E2BIG, EINVAL, ENAMETOOLONG, ETIMEDOUT } from '../../mm/errno.js';
import type { ErrorBody } from '../../schemas/errors.js';

interface ClientError extends Error {
  code?: string;
}

function clientErrorReply(code: string | undefined): { status: number; body: ErrorBody } {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      body: { error: 'E2BIG', errno: E2BIG, message: 'request line and headers above 16 KiB' },
    };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      body: { error: 'ETIMEDOUT', errno: ETIMEDOUT, message: 'request not received in time' },
    };
  }
  return {
    status: 400,
    body: {
      error: 'EINVAL',
      errno: EINVAL,
      message: `malformed HTTP request (${code ?? 'error'})`,
    },
  };
}

/** fastify's `clientErrorHandler` option (called with the fastify instance as `this`). */
export function clientErrorHandler(
  this: { log: FastifyRequest['log'] },
  err: ClientError,
  socket: Duplex,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, body } = clientErrorReply(err.code);
  this.log.debug({ code: err.code, status }, 'client error');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const json = JSON.stringify(body);
  // Written whole, then the socket is destroyed (not just ended: a peer that never closes its
  // side must not leave it half-open).
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(json)}\r\n` +
      `Connection: close\r\n\r\n${json}`,
    () => socket.destroy(),
  );
}

/** fastify's `frameworkErrors` option: router errors before a route is found. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (
  error,
  _request: FastifyRequest,
  reply: FastifyReply,
) => {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const body: ErrorBody = tooLong
    ? { error: 'ENAMETOOLONG', errno: ENAMETOOLONG, message: 'a path segment is too long' }
    : { error: 'EINVAL', errno: EINVAL, message: error.message };
  reply
    .code(tooLong ? 414 : 400)
    .type('application/json; charset=utf-8')
    .send(body);
};
