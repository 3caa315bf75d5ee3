/**
 * Activity admission (issue 11, finding 6): a cap on activities (each a ~10 MB thread on worker
 * CPUs) answered 429 EAGAIN and counted, and no silent dead activity when the RCU domain has no
 * reader slot left for its thread (before: 201, then `calls: 0` forever).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { defaultMaxActivities, rcuSlotsFor } from '../../src/cpus/activity-admission.js';
import { Sim } from '../../src/cpus/sim.js';
import { appWith } from './helpers.js';

const json = { 'content-type': 'application/json' };
const PROFILE = { profile: 'mmap_churn' };
const base = { strategy: 'per_vma' as const, maxProcesses: 32, maxVmasPerProcess: 1024 };

async function createIdle(app: FastifyInstance): Promise<number> {
  const r = await app.inject({ method: 'POST', url: '/processes', headers: json, payload: {} });
  assert.equal(r.statusCode, 201, r.body);
  return r.json().pid;
}

function putActivity(app: FastifyInstance, pid: number) {
  return app.inject({
    method: 'PUT',
    url: `/processes/${pid}/activity`,
    headers: json,
    payload: PROFILE,
  });
}

/** Waits (bounded: event-loop turns, no sleep) until pid's activity has made calls. */
async function untilCalling(app: FastifyInstance, pid: number): Promise<void> {
  let calls = 0;
  for (let i = 0; i < 200_000 && calls === 0; i++) {
    const r = await app.inject({ method: 'GET', url: `/processes/${pid}/activity` });
    calls = r.statusCode === 200 ? r.json().calls : 0;
    if (calls === 0) await tick();
  }
  assert.ok(calls > 0, `the activity of ${pid} never made a call: a dead thread`);
}

async function metric(app: FastifyInstance, line: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.slice(line.length + 1));
}

describe('--max-activities (worker CPUs)', () => {
  const MAX = 2;
  let sim: Sim;
  let app: FastifyInstance;
  before(async () => {
    sim = await Sim.start({ ...base, cpus: 1, maxBatch: 64, population: 0, maxActivities: MAX });
    app = await appWith(sim, { maxProcesses: base.maxProcesses, maxBatch: 64 });
  });
  after(async () => {
    await app.close();
    await sim.close();
  });

  test('beyond the cap: 429 EAGAIN, counted, nothing changed; a stop frees a place', async () => {
    const pids = [await createIdle(app), await createIdle(app), await createIdle(app)];
    for (const pid of pids.slice(0, MAX))
      assert.equal((await putActivity(app, pid)).statusCode, 200);
    const refused = await putActivity(app, pids[2]);
    assert.equal(refused.statusCode, 429, refused.body);
    assert.equal(refused.json().error, 'EAGAIN');
    const idle = await app.inject({ method: 'GET', url: `/processes/${pids[2]}/activity` });
    assert.equal(idle.statusCode, 404, 'a refused activity leaves the process idle');
    // A create with an activity is refused before anything is created.
    const before = (await app.inject({ method: 'GET', url: '/processes' })).json().total;
    const create = await app.inject({
      method: 'POST',
      url: '/processes',
      headers: json,
      payload: { activity: PROFILE },
    });
    assert.equal(create.statusCode, 429, create.body);
    assert.equal((await app.inject({ method: 'GET', url: '/processes' })).json().total, before);
    assert.equal(await metric(app, 'procfs_activities'), MAX);
    assert.equal(await metric(app, 'procfs_activities_refused_total{reason="limit"}'), 2);
    // Stopping one gives its place back; replacing a running activity needs no extra place.
    const del = await app.inject({ method: 'DELETE', url: `/processes/${pids[0]}/activity` });
    assert.equal(del.statusCode, 204);
    assert.equal((await putActivity(app, pids[2])).statusCode, 200);
    assert.equal((await putActivity(app, pids[2])).statusCode, 200);
    await untilCalling(app, pids[2]);
    // Exiting a busy process gives its place back too.
    await app.inject({ method: 'DELETE', url: `/processes/${pids[1]}` });
    assert.equal(await metric(app, 'procfs_activities'), 1);
  });
});

describe('RCU reader slots exhausted (worker CPUs)', () => {
  // Room for the event loop, the worker CPU and one activity thread; the cap would allow more.
  const SLOTS = 3;
  let sim: Sim;
  let app: FastifyInstance;
  before(async () => {
    const opts = { ...base, cpus: 1, maxBatch: 64, population: 0, maxActivities: 6 };
    sim = await Sim.start({ ...opts, rcuSlots: SLOTS });
    app = await appWith(sim, { maxProcesses: base.maxProcesses, maxBatch: 64 });
  });
  after(async () => {
    await app.close();
    await sim.close();
  });

  test('an activity whose thread cannot start is EAGAIN, counted and released; none is dead', async () => {
    const pids: number[] = [];
    for (let i = 0; i < SLOTS + 1; i++) pids.push(await createIdle(app));
    // The worker CPU claims its slot on its first read.
    await app.inject({ method: 'GET', url: `/proc/${pids[0]}/maps` });
    const accepted: number[] = [];
    let refused = 0;
    for (const pid of pids) {
      const r = await putActivity(app, pid);
      if (r.statusCode === 200) accepted.push(pid);
      else {
        assert.equal(r.statusCode, 429, r.body);
        assert.equal(r.json().error, 'EAGAIN');
        assert.match(r.json().message, /RCU/);
        const idle = await app.inject({ method: 'GET', url: `/processes/${pid}/activity` });
        assert.equal(idle.statusCode, 404, 'no dead activity is left behind');
        refused++;
      }
    }
    assert.ok(refused >= 1, 'more activity threads than RCU slots must be refused');
    assert.ok(accepted.length >= 1);
    for (const pid of accepted) await untilCalling(app, pid);
    assert.equal(await metric(app, 'procfs_activities'), accepted.length);
    assert.equal(
      await metric(app, 'procfs_activities_refused_total{reason="thread_start"}'),
      refused,
    );
    // The refused thread's place (and RCU slot) came back: stop one, and a refused pid may start.
    await app.inject({ method: 'DELETE', url: `/processes/${accepted[0]}/activity` });
    const retry = pids.find((p) => !accepted.includes(p)) as number;
    assert.equal((await putActivity(app, retry)).statusCode, 200);
    await untilCalling(app, retry);
  });
});

test('the default cap leaves RCU slots for every CPU and stays within memory', () => {
  assert.equal(defaultMaxActivities(2, 64 * 2 ** 30), 61);
  assert.equal(defaultMaxActivities(2, 1 * 2 ** 30), 12);
  assert.equal(defaultMaxActivities(70, 64 * 2 ** 30), 1);
  assert.equal(rcuSlotsFor(2, 61), 64);
  assert.equal(rcuSlotsFor(4, 200), 205);
});
