/**
 * GET /proc/:pid/smaps, /smaps_rollup and /status through HTTP on both transports (`--cpus 0`
 * and worker CPUs): the same bytes on both, chunked smaps equal to the whole file, the status
 * identity (pid, comm, a fork child's PPid), errno answers for bad input, and the reads counted
 * with their own `op` label and strategy `mmap_lock`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, testConfig } from './helpers.js';
import { repoRoot } from './server-process.js';

const fixture = readFileSync(join(repoRoot(), 'test', 'fixtures', 'real-maps', 'cat.maps'), 'utf8');
const texts = new Map<number, Record<string, string>>();

for (const cpus of [0, 2]) {
  describe(`smaps, smaps_rollup, status with --cpus ${cpus}`, () => {
    let app: FastifyInstance;
    let pid = 0;
    before(async () => {
      const c = testConfig({ maxProcesses: 8 });
      const sim = await Sim.start({ ...c, cpus, population: 0 });
      app = await appWith(sim, { maxProcesses: 8 });
      const r = await app.inject({
        method: 'POST',
        url: '/processes',
        payload: { maps: fixture, comm: 'cat' },
      });
      pid = r.json().pid;
    });
    after(() => app.close());
    const get = (url: string) => app.inject({ method: 'GET', url });

    test('smaps: one block per maps line, in chunks or whole', async () => {
      const r = await get(`/proc/${pid}/smaps`);
      assert.equal(r.statusCode, 200);
      assert.match(r.headers['content-type'] as string, /^text\/plain/);
      const maps = (await get(`/proc/${pid}/maps`)).body.split('\n').filter(Boolean);
      const heads = r.body.split('\n').filter((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l));
      assert.deepEqual(heads, maps);
      assert.equal(r.body.split('\nVmFlags: ').length - 1, maps.length);
      assert.equal((await get(`/proc/${pid}/smaps?chunk=0`)).body, r.body);
      assert.equal((await get(`/proc/${pid}/smaps?chunk=1&strategy=mmap_lock`)).body, r.body);
      texts.set(cpus, { ...texts.get(cpus), smaps: r.body });
    });

    test('smaps_rollup and status', async () => {
      const rollup = (await get(`/proc/${pid}/smaps_rollup`)).body;
      assert.match(rollup, /^5[0-9a-f]+-7ff[0-9a-f]+ ---p 00000000 00:00 0 +\[rollup\]\nRss: /);
      const status = (await get(`/proc/${pid}/status`)).body;
      assert.match(status, new RegExp(`^Name:\\tcat\\n(.*\\n)*Pid:\\t${pid}\\nPPid:\\t0\\n`));
      assert.match(status, /\nVmSize:\t {4}\d{4} kB\n/);
      const child = (await app.inject({ method: 'POST', url: `/processes/${pid}/fork` })).json();
      const childStatus = (await get(`/proc/${child.pid}/status`)).body;
      assert.match(childStatus, new RegExp(`\\nPid:\\t${child.pid}\\nPPid:\\t${pid}\\n`));
      texts.set(cpus, { ...texts.get(cpus), rollup, status });
    });

    test('bad input: errno answers, nothing read', async () => {
      const per = await get(`/proc/${pid}/smaps?strategy=per_vma`);
      assert.equal(per.statusCode, 400);
      assert.equal(per.json().error, 'EINVAL');
      assert.match(per.json().message, /mmap read lock/);
      assert.equal((await get(`/proc/${pid}/smaps_rollup?chunk=x`)).statusCode, 400);
      for (const f of ['smaps', 'smaps_rollup', 'status']) {
        const r = await get(`/proc/999999/${f}`);
        assert.equal(r.statusCode, 404, f);
        assert.equal(r.json().error, 'ESRCH');
      }
    });

    test('reads are counted under their own op, strategy mmap_lock', async () => {
      const m = (await get('/metrics')).body;
      for (const op of ['smaps', 'smaps_rollup', 'status']) {
        const line = m.match(
          new RegExp(`^procfs_reads_total\\{op="${op}",strategy="mmap_lock"\\} (\\d+)`, 'm'),
        );
        assert.ok(line && Number(line[1]) >= 1, `${op}: ${line}`);
      }
    });
  });
}

test('both transports give the same bytes', () => {
  const a = texts.get(0);
  const b = texts.get(2);
  assert.ok(a?.smaps && b?.smaps);
  const strip = (t: string) => t.replace(/^Pid:.*$|^Tgid:.*$|^NS.*$/gm, '');
  assert.equal(b.smaps, a.smaps);
  assert.equal(b.rollup, a.rollup);
  assert.equal(strip(b.status ?? ''), strip(a.status ?? ''));
});
