/**
 * Replaying a recorded program as a busy process (POST /processes {replay}), through inject() on
 * both transports (the event loop, and an activity thread beside worker CPUs): the Node and JVM
 * start-ups end with the maps the traced process had, every result as recorded; madvise lines run
 * (the modelled advices; others are counted); a looping replay undoes each pass so the next one
 * matches again; unreadable traces are refused and create nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, testConfig } from './helpers.js';
import { repoRoot } from './server-process.js';

const json = { 'content-type': 'application/json' };
const read = (name: string, file: string) =>
  readFileSync(join(repoRoot(), 'test', 'fixtures', 'traces', name, file), 'utf8');

interface ReplayView {
  calls: number;
  trace_calls: number;
  mismatches: number;
  done: boolean;
  unmodelled: Record<string, number>;
}
interface ActivityView {
  replay: ReplayView;
  iterations: number;
}

/** Polls the activity until `ok` holds (each poll yields to the activity; bounded by a deadline). */
async function waitActivity(
  app: FastifyInstance,
  pid: number,
  ok: (a: ActivityView) => boolean,
  deadlineMs = 60_000,
): Promise<ActivityView> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await app.inject({ method: 'GET', url: `/processes/${pid}/activity` });
    assert.equal(r.statusCode, 200, r.body);
    const a = r.json() as ActivityView;
    if (ok(a)) return a;
    if (Date.now() > until) assert.fail(`activity never got there: ${r.body.slice(0, 400)}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

for (const cpus of [0, 1])
  describe(`replay, --cpus ${cpus}`, () => {
    let sim: Sim;
    let app: FastifyInstance;
    before(async () => {
      const c = testConfig({ bodyLimit: 1 << 20 });
      sim = await Sim.start({ ...c, cpus, population: 0 });
      app = await appWith(sim, { bodyLimit: 1 << 20, cpus });
    });
    after(async () => {
      await app.close();
      await sim.close();
    });

    for (const name of ['node-startup', 'jvm-startup'])
      test(`${name} ends with the traced maps, 0 mismatches`, async () => {
        const r = await app.inject({
          method: 'POST',
          url: '/processes',
          headers: json,
          payload: {
            maps: read(name, 'initial-maps.txt'),
            final_maps: read(name, 'final-maps.txt'),
            replay: read(name, 'trace.txt'),
            speed: 0,
          },
        });
        assert.equal(r.statusCode, 201, r.body);
        const { pid } = r.json() as { pid: number };
        const a = await waitActivity(app, pid, (x) => x.replay.done);
        assert.equal(a.replay.mismatches, 0);
        assert.equal(a.replay.calls, a.replay.trace_calls);
        assert.equal(a.iterations, 1);
        assert.ok(a.replay.trace_calls > 300);
        const maps = await app.inject({ method: 'GET', url: `/proc/${pid}/maps` });
        // Intended difference: unlink is not a memory syscall, so a file the program deleted is
        // not " (deleted)" here (the JVM's hsperfdata file).
        assert.equal(maps.body, read(name, 'final-maps.txt').replaceAll(' (deleted)\n', '\n'));
      });

    test('madvise lines run: advices applied, results compared, unmodelled advices counted', async () => {
      const B = 0x7f0000000000;
      const trace = [
        `mmap(0x${B.toString(16)}, 4194304, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x${B.toString(16)}`,
        `madvise(0x${B.toString(16)}, 2097152, MADV_HUGEPAGE) = 0`,
        `madvise(0x${(B + 0x200000).toString(16)}, 2097152, MADV_NOHUGEPAGE) = 0`,
        `madvise(0x${(B + 0x1000).toString(16)}, 4096, MADV_DONTNEED) = 0`,
        // Recorded EINVAL, but the engine succeeds: a mismatch, counted; the replay goes on.
        `madvise(0x${B.toString(16)}, 4096, MADV_DONTNEED) = -1 EINVAL (Invalid argument)`,
        // The kernel's own answer for a hole (ENOMEM): reproduced, not a mismatch.
        `madvise(0x${(B + 0x800000).toString(16)}, 4096, MADV_HUGEPAGE) = -1 ENOMEM (Cannot allocate memory)`,
        `madvise(0x${(B + 0x3ff000).toString(16)}, 4096, MADV_DONTFORK) = 0`,
        `madvise(0x${B.toString(16)}, 4096, MADV_FREE) = 0`,
      ].join('\n');
      const r = await app.inject({
        method: 'POST',
        url: '/processes',
        headers: json,
        payload: { replay: trace, speed: 0 },
      });
      assert.equal(r.statusCode, 201, r.body);
      const { pid } = r.json() as { pid: number };
      const a = await waitActivity(app, pid, (x) => x.replay.done);
      assert.equal(a.replay.trace_calls, 7);
      assert.equal(a.replay.calls, 7);
      assert.equal(a.replay.mismatches, 1);
      assert.deepEqual(a.replay.unmodelled, { 'madvise(MADV_FREE)': 1 });
      const smaps = (await app.inject({ method: 'GET', url: `/proc/${pid}/smaps` })).body;
      const flags = (start: number) => {
        const at = smaps.indexOf(`${start.toString(16)}-`);
        assert.ok(at >= 0, `a VMA at ${start.toString(16)}`);
        return /^VmFlags: (.*)$/m.exec(smaps.slice(at))![1]!.split(' ');
      };
      assert.ok(flags(B).includes('hg'), 'MADV_HUGEPAGE applied (the VMA was split)');
      assert.ok(flags(B + 0x200000).includes('nh'), 'MADV_NOHUGEPAGE applied');
      assert.ok(flags(B + 0x3ff000).includes('dc'), 'MADV_DONTFORK applied (split off the end)');
    });

    test('a looping replay undoes each pass: 8 passes later it matches the recording and holds no more', async () => {
      const name = 'node-startup';
      const r = await app.inject({
        method: 'POST',
        url: '/processes',
        headers: json,
        payload: {
          maps: read(name, 'initial-maps.txt'),
          final_maps: read(name, 'final-maps.txt'),
          replay: read(name, 'trace.txt'),
          speed: 0,
          loop: true,
        },
      });
      assert.equal(r.statusCode, 201, r.body);
      const { pid } = r.json() as { pid: number };
      const a = await waitActivity(app, pid, (x) => x.iterations >= 8);
      assert.equal(a.replay.done, false);
      assert.equal(a.replay.mismatches, 0);
      const vmas = (await app.inject({ method: 'GET', url: `/processes/${pid}` })).json() as {
        vmas: number;
      };
      // Passes do not pile up: a pass leaves ~60 VMAs behind unless it is undone, so 8 passes
      // would hold ~500; one pass in flight holds at most about twice the traced end state.
      const traced = read(name, 'final-maps.txt').split('\n').length;
      assert.ok(vmas.vmas < 2.5 * traced, `${vmas.vmas} VMAs after 8 passes`);
      assert.equal(
        (await app.inject({ method: 'DELETE', url: `/processes/${pid}/activity` })).statusCode,
        204,
      );
    });

    test('unreadable traces and misplaced fields are EINVAL, and create nothing', async () => {
      const before = (
        (await app.inject({ method: 'GET', url: '/processes' })).json() as { total: number }
      ).total;
      const bad: Array<[Record<string, unknown>, RegExp]> = [
        [{ replay: 'brk(NULL) = 0x1000\nmmap(NULL, 4096, PROT_RE' }, /line 2/],
        [{ replay: 'madvise(0x1000, 4096, MADV_FREE) = 0' }, /no call the engine models/],
        [{ replay: 'brk(NULL) = 0x1000', activity: { profile: 'jit' } }, /not both/],
        [{ speed: 2 }, /go with "replay"/],
        [{ final_maps: '' }, /go with "replay"/],
      ];
      for (const [payload, re] of bad) {
        const res = await app.inject({ method: 'POST', url: '/processes', headers: json, payload });
        assert.equal(res.statusCode, 400, res.body);
        const body = res.json() as { error: string; message: string };
        assert.equal(body.error, 'EINVAL');
        assert.match(body.message, re);
      }
      const res = await app.inject({
        method: 'POST',
        url: '/processes',
        headers: json,
        payload: { replay: 'brk(NULL) = 0x1000', speed: -1 },
      });
      assert.equal(res.statusCode, 400);
      const now = (
        (await app.inject({ method: 'GET', url: '/processes' })).json() as { total: number }
      ).total;
      assert.equal(now, before);
    });
  });
