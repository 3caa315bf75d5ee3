/**
 * /ws over a real loopback socket (the ws package as client): validation of every message,
 * subscriptions (all pids / one pid), RPC, the message size limit (1009) and a slow consumer
 * closed with 1008 instead of buffered without bound.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildApp } from '../../src/app.js';
import { lentReads } from '../../src/cpus/read-pieces.js';
import { Sim } from '../../src/cpus/sim.js';
import { SimError } from '../../src/cpus/sim-api.js';
import { FakeSim } from './fake-sim.js';
import { appWith, testConfig } from './helpers.js';
import { Client } from './ws-client.js';

describe('/ws', () => {
  const sim = new FakeSim([1, 2]);
  let app: FastifyInstance;
  let url: string;
  before(async () => {
    app = await appWith(sim, { wsMaxMessage: 4096, wsMaxBuffered: 64 * 1024 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    url = `ws://127.0.0.1:${addr.port}/ws`;
  });
  after(() => app.close());

  test('malformed messages get an error message and the connection stays usable', async () => {
    const c = await new Client(url).open();
    c.send('not json');
    assert.deepEqual(await c.next(), {
      type: 'error',
      error: 'EINVAL',
      errno: 22,
      message: 'message is not valid JSON',
    });
    c.send([1, 2]);
    assert.equal((await c.next()).error, 'EINVAL');
    c.send({ id: 7, op: 'fly' });
    const unknownOp = await c.next();
    assert.equal(unknownOp.id, 7);
    assert.match(String(unknownOp.message), /op one of/);
    c.send({ id: 8, op: 'munmap', pid: 1, addr: '0x1000' });
    const missing = await c.next();
    assert.equal(missing.id, 8);
    assert.equal((missing.error as { error: string }).error, 'EINVAL');
    c.send({ subscribe: 'gossip' });
    assert.equal((await c.next()).error, 'EINVAL');
    c.send({ id: 9, op: 'config' });
    const ok = await c.next();
    assert.equal(ok.id, 9);
    const cfg = ok.result as { strategy: string; max_batch: number };
    assert.equal(cfg.strategy, 'per_vma');
    // Same shape as GET /config.
    assert.deepEqual(cfg, (await app.inject({ method: 'GET', url: '/config' })).json());
    await c.close();
  });

  test('ops named like Object.prototype members are unknown ops, answered with the id', async () => {
    const c = await new Client(url).open();
    for (const op of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'mutation']) {
      c.send({ id: `p-${op}`, op, pid: 1 });
      const m = await c.next();
      assert.equal(m.id, `p-${op}`);
      assert.equal(m.error, 'EINVAL');
      assert.match(String(m.message), /op one of/);
    }
    c.send('{"id":"s","__proto__":{"subscribe":"events"}}');
    const s = await c.next();
    assert.equal(s.id, 's');
    assert.equal(s.error, 'EINVAL');
    c.send({ id: 'f', op: 'procmap_query', pid: 1, addr: '0x1000', flags: 'constructor' });
    const f = await c.next();
    assert.equal(f.id, 'f');
    assert.equal((f.error as { error: string }).error, 'EINVAL');
    await c.close();
  });

  test('RPC: maps, procmap_query, a mutation, an errno error', async () => {
    sim.mapsChunks = ['line one\n', 'line two\n'];
    const c = await new Client(url).open();
    c.send({ id: 'm', op: 'maps', pid: 1, strategy: 'snapshot' });
    assert.deepEqual(await c.next(), { id: 'm', result: 'line one\nline two\n' });
    c.send({ id: 'q', op: 'procmap_query', pid: 1, addr: '0x7f0000001000', flags: 'VMA_READABLE' });
    const q = await c.next();
    assert.equal((q.result as { vma_start: string }).vma_start, '0x7f0000001000');
    c.send({ id: 'b', op: 'brk', pid: 1, addr: '0x0' });
    assert.deepEqual(await c.next(), { id: 'b', result: { brk: '0x555555559000' } });
    c.send({ id: 'x', op: 'process', pid: 999 });
    const x = await c.next();
    assert.equal(x.id, 'x');
    assert.equal((x.error as { error: string }).error, 'ESRCH');
    await c.close();
  });

  test('events: all pids, or one pid only', async () => {
    const all = await new Client(url).open();
    const one = await new Client(url).open();
    all.send({ subscribe: 'events' });
    one.send({ subscribe: 'events', pid: 2 });
    assert.deepEqual(await all.next(), { type: 'subscribed', subscribe: 'events', pid: null });
    assert.deepEqual(await one.next(), { type: 'subscribed', subscribe: 'events', pid: 2 });
    await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: 4096, length: 4096 },
    });
    await app.inject({ method: 'POST', url: '/proc/2/brk', payload: { addr: 0 } });
    assert.deepEqual(await all.next(), {
      type: 'mutation',
      pid: 1,
      op: 'munmap',
      args: { addr: '0x1000', length: '0x1000' },
      result: {},
    });
    const second = await all.next();
    assert.equal(second.pid, 2);
    const mine = await one.next();
    assert.deepEqual(mine, {
      type: 'mutation',
      pid: 2,
      op: 'brk',
      args: { addr: '0x0' },
      result: { brk: '0x555555559000' },
    });
    await all.close();
    await one.close();
  });

  test('rates once a second, with every field; unsubscribe acknowledged', async () => {
    const c = await new Client(url).open();
    c.send({ subscribe: 'rates' });
    assert.deepEqual(await c.next(), { type: 'subscribed', subscribe: 'rates', pid: null });
    const r = await c.next();
    assert.equal(r.type, 'rates');
    assert.equal(r.strategy, 'per_vma');
    for (const k of [
      'reads_per_s',
      'retries_per_s',
      'fallbacks_per_s',
      'hazards_per_s',
      'mutations_per_s',
    ]) {
      assert.equal(typeof r[k], 'number', k);
      assert.ok((r[k] as number) >= 0, k);
    }
    c.send({ unsubscribe: 'rates' });
    // Messages are ordered: the next one after our unsubscribe's ack is never another rate.
    let m = await c.next();
    while (m.type === 'rates') m = await c.next();
    assert.deepEqual(m, { type: 'unsubscribed', unsubscribe: 'rates' });
    await c.close();
  });

  test('a message above the size limit closes with 1009', async () => {
    const c = await new Client(url).open();
    const closed = once(c.ws, 'close');
    c.send({ id: 1, op: 'config', pad: 'x'.repeat(5000) });
    const [code] = await closed;
    assert.equal(code, 1009);
  });

  test('a consumer that stops reading is closed with 1008', async () => {
    const c = await new Client(url).open();
    c.send({ subscribe: 'events' });
    await c.next();
    // Stop reading: the kernel socket buffers fill, then the server's send buffer grows.
    const raw = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const [serverSide] = app.websocketServer.clients;
    const call = { op: 'munmap' as const, addr: 4096, length: 4096 };
    // Emit events until the server gives up on this client (bounded, no sleeps).
    for (let i = 0; i < 2_000_000 && serverSide.readyState === WebSocket.OPEN; i++) {
      sim.emit({ pid: 1, call, result: 0 });
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(serverSide.readyState, WebSocket.CLOSING);
    // Reading again, the client gets what was buffered, then the server's close frame.
    const closed = once(c.ws, 'close');
    raw.resume();
    const [code, reason] = await closed;
    assert.equal(code, 1008);
    assert.match(String(reason), /slow consumer/);
  });
});

describe('/ws log levels', () => {
  test('a request shed with 503 EBUSY is logged at warn, not error', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const sim = new FakeSim([1]);
    sim.syscallAnswer = () => {
      throw new SimError(16, 'EBUSY', 'the engine is busy');
    };
    const app = await buildApp({
      config: testConfig(),
      sim,
      logger: {
        level: 'info',
        stream: { write: (line: string) => lines.push(JSON.parse(line)) },
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as { port: number }).port;
      const c = await new Client(`ws://127.0.0.1:${port}/ws`).open();
      c.send({ id: 'busy', op: 'brk', pid: 1, addr: 0 });
      const m = await c.next();
      assert.equal((m.error as { error: string }).error, 'EBUSY');
      await c.close();
      const shed = lines.filter((l) => /ws request/.test(l.msg));
      assert.equal(shed.length, 1, JSON.stringify(lines));
      assert.equal(shed[0].level, 40, 'warn');
      assert.equal(lines.filter((l) => l.level >= 50).length, 0);
    } finally {
      await app.close();
    }
  });
});

test('/ws maps reads give their memory back (a real Sim: reads lent from the memo)', async () => {
  // One worker CPU: maps reads run on the event loop, whole within a turn, lent when unchanged.
  const sim = await Sim.start({ ...testConfig(), cpus: 1, population: 0 });
  const app = await appWith(sim, { cpus: 1 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { pid } = await sim.createProcess({ template: 'node', comm: 'ws' });
    const port = (app.server.address() as { port: number }).port;
    const c = await new Client(`ws://127.0.0.1:${port}/ws`).open();
    const before = lentReads();
    let text = '';
    for (let i = 0; i < 20; i++) {
      c.send({ id: `m${i}`, op: 'maps', pid });
      const m = await c.next();
      if (i > 0) assert.equal(m.result, text, 'the same text every time');
      text = m.result as string;
    }
    await c.close();
    assert.ok(lentReads().made - before.made >= 19, 'reads after the first lent');
    assert.equal(lentReads().outstanding, before.outstanding, 'every lent read given back');
  } finally {
    await app.close();
    await sim.close();
  }
});
