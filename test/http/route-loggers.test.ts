/**
 * Request loggers (src/plugins/app/route-loggers.ts): the hot read routes (log level warn) share
 * one logger across requests instead of a new pino child per request; other routes keep a child
 * with the request id; a 500 on a hot route is still logged with its reqId.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from '../../src/app.js';
import { FakeSim } from './fake-sim.js';
import { testConfig } from './helpers.js';

test('hot routes share one logger per level; errors keep their reqId', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  const sim = new FakeSim([1]);
  const app = await buildApp({ config: testConfig(), sim, logger: { level: 'info', stream } });
  const loggers = new Map<string, FastifyBaseLogger[]>();
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.url.split('?')[0];
    loggers.set(url, [...(loggers.get(url) ?? []), request.log]);
    done();
  });
  await app.ready();
  try {
    const query = '/proc/1/procmap_query?addr=0x1000';
    for (let i = 0; i < 2; i++) {
      assert.equal((await app.inject({ url: query })).statusCode, 200);
      assert.equal((await app.inject({ url: '/proc/1/maps' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/processes' })).statusCode, 200);
    }
    const [q1, q2] = loggers.get('/proc/1/procmap_query') ?? [];
    const [m1, m2] = loggers.get('/proc/1/maps') ?? [];
    const [p1, p2] = loggers.get('/processes') ?? [];
    assert.equal(q1, q2);
    assert.equal(m1, m2);
    assert.equal(q1, m1); // same parent, same level
    assert.notEqual(p1, p2); // a child per request, with its reqId
    const logged = lines.filter((l) => l.msg === 'incoming request');
    assert.deepEqual(
      logged.map((l) => (l.req as { url: string }).url),
      ['/processes', '/processes'],
    );
    assert.ok(logged.every((l) => typeof l.reqId === 'string'));

    sim.queryAnswer = () => {
      throw new Error('engine bug');
    };
    const failed = await app.inject({ url: query });
    assert.equal(failed.statusCode, 500);
    const error = lines.find((l) => l.msg === 'request failed');
    assert.ok(error, 'the 500 is logged');
    assert.equal(error.level, 50);
    assert.equal(typeof error.reqId, 'string');
  } finally {
    await app.close();
  }
});
