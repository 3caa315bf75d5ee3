/**
 * An activity that dies after it started is not silent (issue 11): its status shows
 * `state: "failed"` with the reason, `procfs_activities_died_total` counts it, a log line at
 * error says so, and the service goes on (the process is readable, its activity can be replaced
 * or stopped). The crash is a loop whose second call carries a BigInt length (the HTTP schema
 * never lets one in: it stands for a bug in a call source or the engine): the engine throws a
 * TypeError inside the call, after a first good call. On both transports: a worker thread that dies, and an activity on the event loop.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { Sim } from '../../src/cpus/sim.js';
import type { SyscallCall } from '../../src/cpus/sim-api.js';
import { testConfig } from '../http/helpers.js';

const json = { 'content-type': 'application/json' };
const DEADLINE_MS = 20_000;

const GOOD: SyscallCall = {
  op: 'mmap',
  addr: 0x7000_0000_0000,
  length: 0x1000,
  prot: 3,
  flags: 0x32, // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
  offset: 0,
  file: null,
};

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

for (const cpus of [0, 1]) {
  describe(`an activity that dies after it started (cpus ${cpus})`, () => {
    let sim: Sim;
    let app: FastifyInstance;
    const logs: Array<{ level: number; msg: string; pid?: number; reason?: string }> = [];

    before(async () => {
      sim = await Sim.start({
        strategy: 'per_vma',
        cpus,
        population: 0,
        maxProcesses: 16,
        maxVmasPerProcess: 65530,
        maxBatch: 64,
      });
      const stream = new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
          done();
        },
      });
      app = await buildApp({
        config: testConfig({ cpus }),
        sim,
        logger: { level: 'error', stream },
      });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await sim.close();
    });

    test('shows failed with the reason, is counted and logged, and the service goes on', async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/processes',
        headers: json,
        payload: { template: 'minimal' },
      });
      const pid: number = created.json().pid;
      const died = new Promise<string>((resolve) => {
        const off = sim.onActivityDied((p, reason) => {
          if (p !== pid) return;
          off();
          resolve(reason);
        });
      });
      // The first call runs, then the second throws (BigInt mixed with numbers).
      const broken = [GOOD, { ...GOOD, length: 0x1000n } as unknown as SyscallCall];
      await sim.setActivity(pid, { kind: 'loop', loop: broken, ratePerS: null });
      let timer: NodeJS.Timeout | undefined;
      const reason = await Promise.race([
        died,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no activityDied event')), DEADLINE_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.match(reason, /TypeError/);

      const act = await app.inject({ method: 'GET', url: `/processes/${pid}/activity` });
      assert.equal(act.statusCode, 200, act.body);
      assert.equal(act.json().state, 'failed');
      assert.match(act.json().error, /TypeError/);
      assert.ok(act.json().calls >= 1, `calls ${act.json().calls}`);

      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.equal(metric(metrics, 'procfs_activities_died_total'), 1);
      const line = logs.find((l) => l.msg === 'activity thread died');
      assert.ok(line, `no error log line in ${JSON.stringify(logs)}`);
      assert.equal(line.level, 50);
      assert.equal(line.pid, pid);

      // The process is intact and usable: its maps (the good call's VMA), a new activity, a stop.
      const maps = await app.inject({ method: 'GET', url: `/proc/${pid}/maps` });
      assert.equal(maps.statusCode, 200);
      assert.match(maps.body, /^700000000000-700000001000 rw-p/m);
      const put = await app.inject({
        method: 'PUT',
        url: `/processes/${pid}/activity`,
        headers: json,
        payload: { profile: 'malloc', rate_per_s: 50 },
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json().state, 'running');
      assert.equal(put.json().error, null);
      const del = await app.inject({ method: 'DELETE', url: `/processes/${pid}/activity` });
      assert.equal(del.statusCode, 204);
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    });
  });
}
