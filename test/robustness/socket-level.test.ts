/**
 * What only a real socket can send (the app listening on port 0, with --token): URLs and headers
 * past Node's 16 KiB limit, thousands of headers, control bytes in header values, a NUL in the
 * request line, TLS bytes on the plain port, bad chunked encoding, Content-Length with
 * Transfer-Encoding, percent-encoding that does not decode, missing and wrong bearer tokens,
 * foreign Origins and Hosts, WebSocket upgrades with a foreign Origin, no token or a bad key, and
 * fast-check header values. Each answer: no 5xx, the errno shape, the connection closed after a
 * refusal that asks for it, nothing changed in the victim.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { type FuzzFixture, fuzzFixture, fuzzSeed } from '../../bench/robustness/fuzz-fixture.js';
import type { HostileRequest } from '../../bench/robustness/http-requests.js';

const TOKEN = 's3cret';
const DEADLINE_MS = 5000;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection before the deadline. */
  closed: boolean;
}

/** Sends bytes, reads until the server closes (or the deadline), parses the first answer. */
function raw(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    const timer = setTimeout(() => s.destroy(), DEADLINE_MS);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      data += d;
    });
    s.on('end', () => {
      closed = true;
    });
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      const [head, ...rest] = data.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [
          l.slice(0, l.indexOf(':')).toLowerCase(),
          l.slice(l.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({
        status: Number(statusLine.split(' ')[1] ?? 0),
        headers,
        body: rest.join('\r\n\r\n'),
        closed,
      });
    });
    s.write(bytes, 'latin1');
  });
}

describe('socket-level hostile input against a listening server', () => {
  let fx: FuzzFixture;
  let port: number;
  let host: string;
  let auth: string;
  before(async () => {
    fx = await fuzzFixture({ token: TOKEN });
    await fx.app.listen({ host: '127.0.0.1', port: 0 });
    port = (fx.app.server.address() as { port: number }).port;
    host = `Host: 127.0.0.1:${port}\r\n`;
    auth = `Authorization: Bearer ${TOKEN}\r\n`;
  });
  after(async () => {
    const t = fx.client.tally;
    console.log(
      `# ${t.tried} raw requests: ${JSON.stringify(t.classes)}; known open elsewhere: ${JSON.stringify(t.knownOpen)}`,
    );
    await fx.close();
  });

  /** Checks one answer with the fuzzers' rules; `mustClose`: the server must hang up. */
  async function expectContract(name: string, bytes: string, mustClose: boolean) {
    const a = await raw(port, bytes);
    const r: HostileRequest = {
      route: `raw ${name}`,
      method: 'RAW',
      path: name,
      query: '',
      headers: {},
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(a.body);
    } catch {
      parsed = undefined;
    }
    assert.ok(a.status > 0, `${name}: no HTTP answer`);
    const v = await fx.client.check(r, a.status, a.headers, parsed, a.body);
    assert.equal(v, null, `${name}: ${v}`);
    if (mustClose) assert.ok(a.closed, `${name}: the server kept the connection open`);
    return a;
  }

  const upgrade =
    'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

  test('oversized and malformed requests: errno answers, connection closed', async () => {
    const close = 'Connection: close\r\n';
    const cases: Record<string, string> = {
      'URL of 100 KB': `GET /proc/1/maps?x=${'a'.repeat(100_000)} HTTP/1.1\r\n${host}${auth}${close}\r\n`,
      'header of 20 KB': `GET /healthz HTTP/1.1\r\n${host}${auth}X-Big: ${'b'.repeat(20_000)}\r\n${close}\r\n`,
      '3,000 headers': `GET /healthz HTTP/1.1\r\n${host}${auth}${Array.from({ length: 3000 }, (_, i) => `X-${i}: 1\r\n`).join('')}${close}\r\n`,
      'control byte in a header': `GET /healthz HTTP/1.1\r\n${host}${auth}X-C: a\u0001b\r\n${close}\r\n`,
      'NUL in the request line': `GET /\u0000 HTTP/1.1\r\n${host}${auth}${close}\r\n`,
      'TLS on the plain port':
        '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003\r\n\r\n',
      'bad chunk size': `POST /proc/1/brk HTTP/1.1\r\n${host}${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n${close}\r\nzz\r\n`,
      'Content-Length with chunked': `POST /proc/1/brk HTTP/1.1\r\n${host}${auth}Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n${close}\r\n0\r\n\r\n`,
      'undecodable percent-encoding': `GET /proc/%ZZ/maps HTTP/1.1\r\n${host}${auth}${close}\r\n`,
      'pid of 300 digits': `GET /proc/${'9'.repeat(300)}/maps HTTP/1.1\r\n${host}${auth}${close}\r\n`,
    };
    for (const [name, bytes] of Object.entries(cases)) await expectContract(name, bytes, true);
  });

  test('tokens, Origins and Hosts: 401/403 EACCES, nothing changed', async () => {
    const fork = (headers: string) =>
      `POST /processes/1/fork HTTP/1.1\r\n${headers}Content-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
    const cases: Record<string, [string, number]> = {
      'no token': [fork(host), 401],
      'wrong token': [fork(`${host}Authorization: Bearer s3creT\r\n`), 401],
      'token without Bearer': [fork(`${host}Authorization: ${TOKEN}\r\n`), 401],
      'token twice': [fork(`${host}Authorization: Bearer ${TOKEN}, Bearer ${TOKEN}\r\n`), 401],
      'foreign Origin': [fork(`${host}${auth}Origin: http://evil.example\r\n`), 403],
      'Origin null': [fork(`${host}${auth}Origin: null\r\n`), 403],
      'foreign Host': [fork(`Host: evil.example\r\n${auth}`), 403],
      'ws without token': [`GET /ws HTTP/1.1\r\n${host}${upgrade}\r\n`, 401],
      'ws from a foreign Origin': [
        `GET /ws HTTP/1.1\r\n${host}${auth}Origin: http://evil.example\r\n${upgrade}\r\n`,
        403,
      ],
      'ws with a bad token subprotocol': [
        `GET /ws HTTP/1.1\r\n${host}Sec-WebSocket-Protocol: procfs-sim, bearer.eA\r\n${upgrade}\r\n`,
        401,
      ],
    };
    for (const [name, [bytes, status]] of Object.entries(cases)) {
      const a = await expectContract(name, bytes, true);
      assert.equal(a.status, status, `${name}: ${a.status} ${a.body}`);
    }
  });

  test('a bad WebSocket handshake: 400 EINVAL in the errno shape, connection closed', async () => {
    // Before the fix the ws library wrote its own text/html 400 onto the socket.
    for (const [name, headers] of Object.entries({
      'bad protocol list': `Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: a,,b\r\n`,
      'bad key':
        'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\n',
      'version 99':
        'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
    })) {
      const a = await expectContract(
        name,
        `GET /ws HTTP/1.1\r\n${host}${auth}${headers}\r\n`,
        true,
      );
      assert.equal(a.status, 400, `${name}: ${a.status} ${a.body}`);
      assert.equal(JSON.parse(a.body).error, 'EINVAL');
    }
  });

  test('fast-check header values and names on a read: never a 5xx, errno shape', async () => {
    const SEED = fuzzSeed();
    const headerValue = fc
      .string({ unit: 'binary', maxLength: 64 })
      .map((s) => s.replace(/[\r\n]/g, ' '));
    const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
    await fc.assert(
      fc.asyncProperty(headerName, headerValue, async (name, value) => {
        await expectContract(
          `header ${name}`,
          `GET /proc/1/maps HTTP/1.1\r\n${host}${auth}${name}: ${Buffer.from(value, 'utf8').toString('latin1')}\r\nConnection: close\r\n\r\n`,
          true,
        );
      }),
      { seed: SEED, numRuns: 60, includeErrorInReport: true },
    );
  });
});
