/**
 * Engine limits a client cannot break (issue 11): the process limit under concurrent creates and
 * forks (worker CPUs, whose creates await the worker CPUs between the check and the insert).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith } from './helpers.js';

const json = { 'content-type': 'application/json' };

describe('process limit under concurrency (worker CPUs)', () => {
  const LIMIT = 20;
  let sim: Sim;
  let app: FastifyInstance;
  before(async () => {
    const opts = { strategy: 'per_vma' as const, maxProcesses: LIMIT, maxVmasPerProcess: 1024 };
    sim = await Sim.start({ ...opts, cpus: 2, maxBatch: 64, population: 2 });
    app = await appWith(sim, { maxProcesses: LIMIT, maxBatch: 64 });
  });
  after(async () => {
    await app.close();
    await sim.close();
  });

  test('parallel creates and forks never overshoot --max-processes', async () => {
    const tries = Array.from({ length: 30 }, (_, i) =>
      i % 2 === 0
        ? app.inject({ method: 'POST', url: '/processes', headers: json, payload: {} })
        : app.inject({ method: 'POST', url: '/processes/1/fork' }),
    );
    const answers = await Promise.all(tries);
    const created = answers.filter((r) => r.statusCode === 201).length;
    const refused = answers.filter((r) => r.statusCode === 429);
    assert.equal(created + refused.length, answers.length, 'only 201 or 429 EAGAIN');
    for (const r of refused) assert.equal(r.json().error, 'EAGAIN');
    const list = (await app.inject({ method: 'GET', url: '/processes?limit=100' })).json();
    assert.equal(list.total, LIMIT);
    assert.equal(created, LIMIT - 2);
    // A failed create gives its slot back: delete one, a bad import fails, a good create fits.
    const victim = list.processes.at(-1).pid as number;
    assert.equal(
      (await app.inject({ method: 'DELETE', url: `/processes/${victim}` })).statusCode,
      204,
    );
    const bad = await app.inject({
      method: 'POST',
      url: '/processes',
      headers: json,
      payload: { maps: 'x' },
    });
    assert.equal(bad.statusCode, 400);
    const ok = await app.inject({ method: 'POST', url: '/processes', headers: json, payload: {} });
    assert.equal(ok.statusCode, 201);
  });
});
