/**
 * The memory budget (issue 11, --max-memory): a small budget makes creates, forks and mmaps answer
 * ENOMEM (activities EAGAIN) in the errno shape, nothing is partly created, the service stays
 * healthy, and exits give the memory back. On both transports: on worker CPUs the arenas grow on
 * the workers' own (strict) views.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ACTIVITY_THREAD_BYTES } from '../../src/cpus/activity-admission.js';
import { Sim } from '../../src/cpus/sim.js';
import { appWith } from './helpers.js';

const json = { 'content-type': 'application/json' };
const LIMIT = 1024 * 1024; // 1 MiB: a few dozen small processes
const base = { strategy: 'per_vma' as const, maxProcesses: 512, maxVmasPerProcess: 65530 };

async function total(app: FastifyInstance): Promise<number> {
  return (await app.inject({ method: 'GET', url: '/processes' })).json().total;
}

async function memory(
  app: FastifyInstance,
): Promise<{ limit_bytes: number; used_bytes: number; refused: number }> {
  return (await app.inject({ method: 'GET', url: '/config' })).json().memory;
}

async function metric(app: FastifyInstance, line: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.slice(line.length + 1));
}

function create(app: FastifyInstance, payload: object = {}) {
  return app.inject({ method: 'POST', url: '/processes', headers: json, payload });
}

async function healthy(app: FastifyInstance): Promise<void> {
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
}

for (const cpus of [0, 1]) {
  describe(`--max-memory (cpus ${cpus})`, () => {
    let sim: Sim;
    let app: FastifyInstance;
    before(async () => {
      sim = await Sim.start({ ...base, cpus, maxBatch: 4096, population: 0, maxMemory: LIMIT });
      app = await appWith(sim, {
        maxProcesses: base.maxProcesses,
        maxBatch: 4096,
        bodyLimit: 1 << 20,
      });
    });
    after(async () => {
      await app.close();
      await sim.close();
    });

    test('creates, forks and mmaps answer ENOMEM past the budget; exits give it back', async () => {
      const m0 = await memory(app);
      assert.equal(m0.limit_bytes, LIMIT);
      assert.equal(m0.used_bytes, 0);
      // Creates until the budget refuses one (bounded: the limit holds ~50 minimal processes).
      const pids: number[] = [];
      let refused = null;
      for (let i = 0; i < 400 && refused === null; i++) {
        const r = await create(app);
        if (r.statusCode === 201) pids.push(r.json().pid);
        else refused = r;
      }
      assert.ok(refused, 'the budget never refused a create');
      assert.equal(refused.statusCode, 409, refused.body);
      assert.equal(refused.json().error, 'ENOMEM');
      assert.ok(pids.length >= 10, `only ${pids.length} processes fit in 1 MiB`);
      assert.equal(await total(app), pids.length, 'the refused create made no process');
      const full = await memory(app);
      assert.ok(full.used_bytes <= LIMIT, `${full.used_bytes} charged > ${LIMIT}`);
      assert.ok(full.refused >= 1);
      assert.equal(await metric(app, 'procfs_memory_budget_bytes{kind="used"}'), full.used_bytes);
      assert.equal(await metric(app, 'procfs_memory_budget_bytes{kind="limit"}'), LIMIT);
      await healthy(app);

      // A fork does not fit either: ENOMEM, no child.
      const fork = await app.inject({ method: 'POST', url: `/processes/${pids[0]}/fork` });
      assert.equal(fork.statusCode, 409, fork.body);
      assert.equal(fork.json().error, 'ENOMEM');
      assert.equal(await total(app), pids.length);

      // Make room for one process plus a few pages, then grow it with mmaps until ENOMEM.
      for (const pid of pids.splice(0, 2)) {
        assert.equal(
          (await app.inject({ method: 'DELETE', url: `/processes/${pid}` })).statusCode,
          204,
        );
      }
      const victim = pids[0];
      const before = (await app.inject({ method: 'GET', url: `/processes/${victim}` })).json().vmas;
      const calls = Array.from({ length: 1000 }, (_, i) => ({
        op: 'mmap',
        addr: `0x${(0x1000_0000_0000 + i * 0x2000).toString(16)}`,
        length: '0x1000',
        prot: i % 2 ? 'r--' : 'rw-',
        flags: ['private', 'anonymous', 'fixed'],
      }));
      const batch = await app.inject({
        method: 'POST',
        url: `/proc/${victim}/syscalls`,
        headers: json,
        payload: { calls },
      });
      assert.equal(batch.statusCode, 200, batch.body);
      const results: Array<{ error?: string }> = batch.json().results;
      const ok = results.filter((r) => r.error === undefined).length;
      const enomem = results.filter((r) => r.error === 'ENOMEM').length;
      assert.ok(ok > 0 && enomem > 0, `${ok} mapped, ${enomem} ENOMEM`);
      assert.equal(ok + enomem, calls.length);
      const after = (await app.inject({ method: 'GET', url: `/processes/${victim}` })).json().vmas;
      assert.equal(after, before + ok, 'each refused mmap added no VMA');
      assert.ok((await memory(app)).used_bytes <= LIMIT);
      const maps = await app.inject({ method: 'GET', url: `/proc/${victim}/maps` });
      assert.equal(maps.statusCode, 200);
      assert.equal(maps.body.split('\n').length - 1, after + 1, 'every VMA and the gate line');
      await healthy(app);

      // An activity (a ~10 MB thread) cannot fit in 1 MiB: EAGAIN, counted as "memory".
      assert.ok(ACTIVITY_THREAD_BYTES > LIMIT);
      const act = await app.inject({
        method: 'PUT',
        url: `/processes/${pids[1]}/activity`,
        headers: json,
        payload: { profile: 'malloc' },
      });
      assert.equal(act.statusCode, 429, act.body);
      assert.equal(act.json().error, 'EAGAIN');
      assert.equal(await metric(app, 'procfs_activities_refused_total{reason="memory"}'), 1);

      // Everything exited: the budget is back to nothing charged.
      for (const pid of pids) await app.inject({ method: 'DELETE', url: `/processes/${pid}` });
      assert.equal(await total(app), 0);
      assert.equal((await memory(app)).used_bytes, 0);
      assert.equal((await create(app)).statusCode, 201);
    });
  });
}
