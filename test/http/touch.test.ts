/**
 * POST /proc/:pid/touch and the touch op of /syscalls on both transports (in-process and worker
 * CPUs): faults and their lock path, EFAULT with the reason, bad input as errno, and the fault
 * metrics moving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, testConfig } from './helpers.js';

const json = { 'content-type': 'application/json' };
const BASE = 0x100000000000;
const hex = (n: number) => `0x${n.toString(16)}`;

for (const cpus of [0, 1]) {
  describe(`touch through HTTP (--cpus ${cpus})`, () => {
    let sim: Sim;
    let app: FastifyInstance;
    let pid = 0;
    before(async () => {
      const c = testConfig({ maxProcesses: 4 });
      sim = await Sim.start({ ...c, cpus, population: 0 });
      app = await appWith(sim, { maxProcesses: 4 });
      pid = (await post('/processes', { template: 'minimal' })).json().pid;
      const r = await post(`/proc/${pid}/mmap`, {
        addr: hex(BASE),
        length: hex(16 * 4096),
        prot: 'rw-',
        flags: ['private', 'anonymous', 'fixed'],
      });
      assert.equal(r.statusCode, 200, r.body);
    });
    after(() => app.close());

    const post = async (url: string, payload?: unknown) =>
      app.inject({ method: 'POST', url, headers: json, payload: payload as object });

    const faultsOk = async () => {
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const m = /procfs_faults_total\{path="vma_lock",result="ok"\} (\d+)/.exec(text);
      return Number(m?.[1] ?? -1);
    };

    test('a write of 4 pages takes 4 faults under the per-VMA lock; again, none', async () => {
      const before = await faultsOk();
      let r = await post(`/proc/${pid}/touch`, { addr: hex(BASE), length: 4 * 4096, write: true });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { faults: 4, path: 'vma_lock' });
      r = await post(`/proc/${pid}/touch`, { addr: hex(BASE), length: 4 * 4096, write: true });
      assert.deepEqual(r.json(), { faults: 0, path: null });
      assert.equal((await faultsOk()) - before, 4, 'procfs_faults_total moved by the faults');
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(
        text,
        /procfs_fault_duration_seconds_count\{path="vma_lock",strategy="per_vma"\} \d+/,
      );
    });

    test('EFAULT with the reason, nothing changed; bad input is EINVAL', async () => {
      let r = await post(`/proc/${pid}/touch`, { addr: hex(BASE + 15 * 4096), length: 8192 });
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error, 'EFAULT');
      assert.match(r.json().message, /no VMA/);
      r = await post(`/proc/${pid}/touch`, { addr: hex(BASE + 8 * 4096), length: 4096, write: 1 });
      assert.equal(r.json().error, 'EINVAL');
      r = await post(`/proc/${pid}/touch`, { addr: 'zz', length: 1 });
      assert.equal(r.json().error, 'EINVAL');
      // The page before the hole was not touched by the refused call.
      r = await post(`/proc/${pid}/touch`, { addr: hex(BASE + 15 * 4096), length: 1, write: true });
      assert.deepEqual(r.json(), { faults: 1, path: 'vma_lock' });
    });

    test('the touch op in a /syscalls batch', async () => {
      const r = await post(`/proc/${pid}/syscalls`, {
        calls: [
          { op: 'touch', addr: hex(BASE + 4 * 4096), length: 4096, write: true },
          { op: 'mprotect', addr: hex(BASE + 4 * 4096), length: 4096, prot: 'r--' },
          { op: 'touch', addr: hex(BASE + 4 * 4096), length: 4096, write: true },
        ],
      });
      assert.equal(r.statusCode, 200, r.body);
      const results = r.json().results;
      assert.deepEqual(results[0], { faults: 1, path: 'vma_lock' });
      assert.equal(results[2].error, 'EFAULT');
      assert.match(results[2].message, /PROT_WRITE/);
    });
  });
}
