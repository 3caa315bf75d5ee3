/**
 * POST /proc/:pid/madvise and the madvise op of /syscalls on both transports (in-process and
 * worker CPUs): MADV_HUGEPAGE splits the VMA (VmFlags hg, THPeligible 1) and a write then faults
 * a whole 2 MiB huge page in one fault (AnonHugePages), errno for bad advice and holes, the
 * mutation counted in the metrics, GET /config naming the THP mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, testConfig } from './helpers.js';

const json = { 'content-type': 'application/json' };
const BASE = 0x100000000000;
const M2 = 0x200000;
const hex = (n: number) => `0x${n.toString(16)}`;

for (const cpus of [0, 1]) {
  describe(`madvise through HTTP (--cpus ${cpus}, THP madvise)`, () => {
    let app: FastifyInstance;
    let pid = 0;
    before(async () => {
      const c = testConfig({ maxProcesses: 4 });
      const sim = await Sim.start({ ...c, cpus, population: 0, thp: 'madvise' });
      app = await appWith(sim, { maxProcesses: 4 });
      pid = (await post('/processes', { template: 'minimal' })).json().pid;
      const r = await post(`/proc/${pid}/mmap`, {
        addr: hex(BASE),
        length: hex(4 * M2),
        prot: 'rw-',
        flags: ['private', 'anonymous', 'fixed'],
      });
      assert.equal(r.statusCode, 200, r.body);
    });
    after(() => app.close());

    const post = async (url: string, payload?: unknown) =>
      app.inject({ method: 'POST', url, headers: json, payload: payload as object });
    const smaps = async () =>
      (await app.inject({ method: 'GET', url: `/proc/${pid}/smaps` })).body
        .split(/\n(?=[0-9a-f]+-)/)
        .filter((b) => b.startsWith(BASE.toString(16).slice(0, 4)));

    test('hugepage: hg and THPeligible on the advised part; one fault maps 2 MiB', async () => {
      assert.equal((await app.inject({ method: 'GET', url: '/config' })).json().thp, 'madvise');
      let r = await post(`/proc/${pid}/madvise`, {
        addr: hex(BASE + M2),
        length: hex(2 * M2),
        advice: 'hugepage',
      });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), {});
      r = await post(`/proc/${pid}/touch`, { addr: hex(BASE), length: hex(4 * M2), write: true });
      assert.equal(r.json().faults, 512 + 2 + 512);
      const blocks = await smaps();
      assert.equal(blocks.length, 3);
      assert.match(blocks[1], /^100000200000-100000600000 rw-p /);
      assert.match(
        blocks[1],
        /\nAnonHugePages:\s+4096 kB\n[\s\S]*\nTHPeligible:\s+1\nVmFlags: rd wr mr mw me ac hg \n?$/,
      );
      assert.match(blocks[0], /\nAnonHugePages:\s+0 kB\n[\s\S]*\nTHPeligible:\s+0\n/);
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /procfs_mutations_total\{op="madvise",result="ok"\} [1-9]/);
    });

    test('the /syscalls op: numbers or names, errno per call; dontneed drops Rss', async () => {
      const r = await post(`/proc/${pid}/syscalls`, {
        calls: [
          { op: 'madvise', addr: hex(BASE + M2), length: hex(4096), advice: 15 },
          { op: 'madvise', addr: hex(BASE + 1), length: hex(4096), advice: 'nohugepage' },
          { op: 'madvise', addr: hex(BASE), length: hex(4096), advice: 999 },
          { op: 'madvise', addr: hex(BASE + 4 * M2), length: hex(4096), advice: 'hugepage' },
          { op: 'madvise', addr: hex(BASE), length: hex(M2), advice: 'dontneed' },
          { op: 'madvise', addr: hex(BASE), length: hex(M2), advice: 'sequential' },
        ],
      });
      assert.equal(r.statusCode, 200, r.body);
      const res = r.json().results;
      assert.deepEqual(res[0], {});
      assert.deepEqual(
        [res[1].error, res[2].error, res[3].error, res[5].error],
        ['EINVAL', 'EINVAL', 'ENOMEM', 'EINVAL'],
      );
      assert.deepEqual(res[4], {});
      const blocks = await smaps();
      assert.match(blocks[0], /\nRss:\s+0 kB\n/);
      assert.match(
        blocks[1],
        /^100000200000-100000201000 rw-p [\s\S]*VmFlags: rd wr mr mw me ac nh \n?$/,
      );
      // The one-page VMA split the first huge page's PMD.
      assert.match(blocks[2], /\nAnonHugePages:\s+2048 kB\n/);
    });

    test('a bad body is EINVAL, an unknown pid ESRCH', async () => {
      let r = await post(`/proc/${pid}/madvise`, { addr: hex(BASE), length: 1, advice: 'huge' });
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error, 'EINVAL');
      r = await post('/proc/99999/madvise', { addr: hex(BASE), length: 1, advice: 'hugepage' });
      assert.equal(r.statusCode, 404);
    });
  });
}
