/**
 * The batch routes write large replies into reused memory (src/schemas/reply-buffers.ts), given
 * back only once a response has finished. Over a real socket: two pipelined per-query batches on
 * one connection whose client does not read yet, so the first reply (megabytes) is still being
 * sent while the second request runs; both replies must arrive whole and exact (the second must
 * not have been written into the first's memory), and a third, after them, too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, testConfig } from './helpers.js';
import { repoRoot } from './server-process.js';

const json = { 'content-type': 'application/json' };
const ENTRIES = 12_000;

/** Reads HTTP/1.1 responses with a Content-Length from `socket` until `n` have arrived. */
async function responses(socket: net.Socket, n: number): Promise<string[]> {
  let data = Buffer.alloc(0);
  const out: string[] = [];
  for await (const chunk of socket) {
    data = Buffer.concat([data, chunk as Buffer]);
    for (;;) {
      const head = data.indexOf('\r\n\r\n');
      if (head < 0) break;
      const length = Number(/content-length: (\d+)/i.exec(data.subarray(0, head).toString())?.[1]);
      if (data.length < head + 4 + length) break;
      out.push(data.subarray(head + 4, head + 4 + length).toString());
      data = data.subarray(head + 4 + length);
    }
    if (out.length === n) return out;
  }
  throw new Error(`connection ended after ${out.length} responses`);
}

test('pipelined batch replies, the first still being sent, both arrive exact', async () => {
  const limits = { maxBatch: ENTRIES, bodyLimit: 16 << 20 };
  const sim = await Sim.start({ ...testConfig(limits), cpus: 0, population: 0 });
  const app = await appWith(sim, limits);
  try {
    const bodies: string[] = [];
    const paths: string[] = [];
    for (const file of ['java-host.maps', 'node-host.maps']) {
      const maps = readFileSync(join(repoRoot(), 'test/fixtures/real-maps', file), 'utf8');
      const r = await app.inject({
        method: 'POST',
        url: '/processes',
        headers: json,
        payload: { maps },
      });
      const pid = r.json().pid as number;
      const starts = maps
        .trimEnd()
        .split('\n')
        .map((l) => `0x${l.split('-')[0]}`);
      const queries = Array.from({ length: ENTRIES }, (_, i) => ({
        addr: starts[i % starts.length],
      }));
      bodies.push(JSON.stringify({ queries }));
      paths.push(`/proc/${pid}/procmap_query`);
    }
    const expected: string[] = [];
    for (const [i, payload] of bodies.entries()) {
      const r = await app.inject({ method: 'POST', url: paths[i], headers: json, payload });
      assert.equal(r.statusCode, 200);
      expected.push(r.body);
    }
    assert.notEqual(expected[0], expected[1]);
    assert.ok(expected[0].length > 2_000_000, 'a reply the socket cannot take at once');

    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as net.AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    const request = (i: number) =>
      `POST ${paths[i]} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(bodies[i])}\r\n\r\n${bodies[i]}`;
    // Both requests at once: the server answers the second while the first is still going out.
    socket.write(request(0) + request(1) + request(0));
    const got = await responses(socket, 3);
    socket.destroy();
    assert.equal(got[0], expected[0]);
    assert.equal(got[1], expected[1]);
    assert.equal(got[2], expected[0]);
  } finally {
    await app.close();
    await sim.close();
  }
});
