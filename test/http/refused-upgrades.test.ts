/**
 * Refused WebSocket upgrades (401 without the token, 503 overloaded, 404 elsewhere) against a
 * real listening server: each answer says `Connection: close` and the server closes its socket,
 * so N refused attempts leave no file descriptor behind (counted in /proc/self/fd). Without the
 * fix each refused upgrade kept its socket open in CLOSE-WAIT until the fds ran out.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

const ATTEMPTS = 200;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** How long a client waits for the server to close after the refusal before it gives up. */
const CLOSE_DEADLINE_MS = 2000;

/**
 * Sends one upgrade request; resolves with the answer's head and whether the server closed the
 * connection. The client hangs up as soon as it has the head, as a real client would: the server
 * must free its side too (a leaking one kept it open in CLOSE-WAIT).
 */
function refusedUpgrade(port: number, path: string) {
  return new Promise<{ head: string; serverClosed: boolean }>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    let serverClosed = false;
    let giveUp: NodeJS.Timeout | undefined;
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      data += d;
      if (data.includes('\r\n\r\n') && !s.writableEnded) {
        s.end();
        giveUp = setTimeout(() => s.destroy(), CLOSE_DEADLINE_MS);
      }
    });
    s.on('end', () => {
      serverClosed = true;
    });
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(giveUp);
      resolve({ head: data.split('\r\n\r\n')[0], serverClosed });
    });
    s.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\n` +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

/** Waits (bounded) until the server holds no connection: every refused socket was closed. */
async function serverConnections(app: FastifyInstance, deadlineMs = 5000): Promise<number> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const n = await new Promise<number>((resolve, reject) =>
      app.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
    );
    if (n === 0 || Date.now() > until) return n;
    await new Promise((r) => setImmediate(r));
  }
}

/** The server-side upgrade sockets, destroyed at the end so a failing run does not hang close(). */
const upgradeSockets = new Set<Duplex>();

async function listening(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  app.server.on('upgrade', (_req, socket: Duplex) => upgradeSockets.add(socket));
  return (app.server.address() as { port: number }).port;
}

async function closeApp(app: FastifyInstance): Promise<void> {
  for (const s of upgradeSockets) s.destroy();
  upgradeSockets.clear();
  await app.close();
}

async function assertNoLeak(app: FastifyInstance, port: number, path: string, status: number) {
  const first = await refusedUpgrade(port, path);
  assert.match(first.head, new RegExp(`^HTTP/1.1 ${status} `));
  assert.match(first.head, /\r\nconnection: close/i, first.head);
  assert.equal(first.serverClosed, true, 'the server closes a refused upgrade');
  assert.equal(await serverConnections(app), 0);
  const before = openFds();
  for (let i = 0; i < ATTEMPTS; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => refusedUpgrade(port, path)));
    for (const r of batch) {
      assert.match(r.head, new RegExp(`^HTTP/1.1 ${status} `));
      assert.equal(r.serverClosed, true);
    }
  }
  const left = await serverConnections(app);
  const after = openFds();
  console.log(
    `# ${ATTEMPTS} refused upgrades (${status}): fds ${before} -> ${after}, ${left} open`,
  );
  assert.equal(left, 0, 'every refused upgrade socket is closed by the server');
  assert.ok(after <= before + 5, `open fds grew from ${before} to ${after}`);
}

describe('refused WebSocket upgrades close their socket', () => {
  test('401 without the token', async () => {
    const app = await appWith(new FakeSim([1]), { token: 's3cret' });
    try {
      await assertNoLeak(app, await listening(app), '/ws', 401);
    } finally {
      await closeApp(app);
    }
  });

  test('503 under pressure', async () => {
    const app = await appWith(new FakeSim([1]), {}, { healthCheck: async () => false });
    try {
      await assertNoLeak(app, await listening(app), '/ws', 503);
    } finally {
      await closeApp(app);
    }
  });

  test('404 for an upgrade to another path', async () => {
    const app = await appWith(new FakeSim([1]));
    try {
      await assertNoLeak(app, await listening(app), '/nowhere', 404);
    } finally {
      await closeApp(app);
    }
  });

  test('an accepted upgrade still works', async () => {
    const app = await appWith(new FakeSim([1]), { token: 's3cret' });
    try {
      const port = await listening(app);
      const ok = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        s.setEncoding('latin1');
        s.once('data', (d: string) => {
          resolve(d);
          s.destroy();
        });
        s.on('error', reject);
        s.write(
          `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\n` +
            'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer s3cret\r\n\r\n',
        );
      });
      assert.match(ok, /^HTTP\/1.1 101 /);
    } finally {
      await app.close();
    }
  });
});
