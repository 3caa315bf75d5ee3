/**
 * Errors answered before any route runs are in the errno shape too (issue 11 finding 10): node's
 * parser errors (400 malformed, 431 headers or URL too large) close the connection and say so;
 * fastify's router errors (a URL that does not decode, a path segment too long) and a plain GET of
 * /ws (426) answer JSON errno bodies; 415 names what to send. Raw sockets, so what the client
 * sees on the wire (headers, the close) is what is checked.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** The server closed the connection after the answer. */
  closed: boolean;
}

/** Sends `request` bytes on a fresh connection; reads one answer (and whether the server closed). */
async function raw(port: number, request: string): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(request);
  let data = '';
  let closed = false;
  socket.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer: ${data}`)), 10_000);
    const tryParse = () => {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(data.slice(0, end))?.[1] ?? 0);
      if (data.length - end - 4 >= length && (closed || !/connection: close/i.test(data))) {
        clearTimeout(timer);
        resolve();
      }
    };
    socket.on('data', (d) => {
      data += d;
      tryParse();
    });
    socket.on('end', () => {
      closed = true;
      tryParse();
    });
    socket.on('error', reject);
  });
  socket.destroy();
  const [head, body] = [
    data.slice(0, data.indexOf('\r\n\r\n')),
    data.slice(data.indexOf('\r\n\r\n') + 4),
  ];
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body), closed };
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

function assertErrno(a: RawAnswer, status: number, error: string, errno: number) {
  assert.equal(a.status, status, JSON.stringify(a));
  assert.equal(a.body.error, error);
  assert.equal(a.body.errno, errno);
  assert.equal(typeof a.body.message, 'string');
  assert.deepEqual(Object.keys(a.body).sort(), ['errno', 'error', 'message']);
  assert.match(a.headers['content-type'], /^application\/json/);
}

describe('errors before any route', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = await appWith(new FakeSim([1]));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(() => app.close());

  test('a request node cannot parse: 400 EINVAL, Connection: close, socket closed', async () => {
    const a = await raw(port, get('/healthz', 'Bad Header\r\n'));
    assertErrno(a, 400, 'EINVAL', 22);
    assert.equal(a.headers.connection, 'close');
    assert.ok(a.closed);
  });

  test('headers or a URL above 16 KiB: 431 E2BIG, Connection: close, socket closed', async () => {
    for (const request of [
      get('/healthz', `X-Big: ${'a'.repeat(20_000)}\r\n`),
      get(`/proc/1/maps?strategy=${'a'.repeat(20_000)}`),
    ]) {
      const a = await raw(port, request);
      assertErrno(a, 431, 'E2BIG', 7);
      assert.equal(a.headers.connection, 'close');
      assert.ok(a.closed);
    }
  });

  test('router errors: a URL that does not decode 400, a too-long path segment 414', async () => {
    const bad = await raw(port, get('/proc/1/maps%'));
    assertErrno(bad, 400, 'EINVAL', 22);
    assert.equal(bad.closed, false);
    const long = await raw(port, get(`/proc/${'1'.repeat(150)}/maps`));
    assertErrno(long, 414, 'ENAMETOOLONG', 36);
  });

  test('GET /ws without an upgrade: 426 EINVAL with Upgrade: websocket', async () => {
    const a = await raw(port, get('/ws'));
    assertErrno(a, 426, 'EINVAL', 22);
    assert.equal(a.headers.upgrade, 'websocket');
    assert.match(String(a.body.message), /Upgrade: websocket/);
  });

  test('a bad WebSocket handshake (refused-upgrades.ts): 400 EINVAL, closed', async () => {
    const upgrade = 'Connection: Upgrade\r\nUpgrade: websocket\r\n';
    for (const headers of [
      `${upgrade}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\n`,
      `${upgrade}Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n`,
    ]) {
      const a = await raw(port, get('/ws', headers));
      assertErrno(a, 400, 'EINVAL', 22);
      assert.match(String(a.body.message), /Sec-WebSocket/);
      assert.ok(a.closed);
    }
  });

  test('a body that is not JSON: 415 EINVAL naming what to send', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      headers: { 'content-type': 'application/xml' },
      payload: '<x/>',
    });
    assert.equal(r.statusCode, 415);
    assert.deepEqual(r.json(), {
      error: 'EINVAL',
      errno: 22,
      message: 'unsupported Content-Type: send JSON (application/json)',
    });
  });
});
