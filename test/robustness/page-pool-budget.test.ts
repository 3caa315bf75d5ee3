/**
 * A hostile client and the global page-state pool (issue 11: no client can exhaust a shared table
 * for others). Every touched stretch of pages is a 32-byte record of one pool shared by all
 * processes; touching every other page of a large mapping makes one record per page. The records
 * are charged to --max-memory as the pool's used front grows, so a client meets the memory budget
 * (ENOMEM, counted, nothing else changed), never a pool of its own that would starve everyone
 * while the budget shows room. Fork copies page state too: a parent whose pages do not fit again
 * answers ENOMEM and creates nothing. Once the hostile process exits, its records are reused by
 * the others. On both transports (worker CPUs fault on their own views of the pool).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { RECORD_BYTES } from '../../src/mm/pages/page-pool.js';
import { appWith } from '../http/helpers.js';

const json = { 'content-type': 'application/json' };
const LIMIT = 1024 * 1024; // 1 MiB: at most 32,768 page-state records
const BATCH = 4096;
const HOSTILE = 0x1000_0000_0000;
const VICTIM = 0x2000_0000_0000;
const hex = (n: number) => `0x${n.toString(16)}`;

interface Memory {
  limit_bytes: number;
  used_bytes: number;
  refused: number;
}

describe('page-state pool under a hostile client', () => {
  for (const cpus of [0, 1]) {
    describe(`cpus ${cpus}`, () => {
      let sim: Sim;
      let app: FastifyInstance;
      const post = (url: string, payload: object) =>
        app.inject({ method: 'POST', url, headers: json, payload });
      const memory = async (): Promise<Memory> =>
        (await app.inject({ method: 'GET', url: '/config' })).json().memory;
      const total = async (): Promise<number> =>
        (await app.inject({ method: 'GET', url: '/processes' })).json().total;
      const rss = async (pid: number): Promise<string> => {
        const text = (await app.inject({ method: 'GET', url: `/proc/${pid}/smaps_rollup` })).body;
        return text.split('\n').find((l) => l.startsWith('Rss:')) ?? text;
      };
      async function createWithMapping(addr: number, length: number): Promise<number> {
        const r = await post('/processes', { template: 'minimal' });
        assert.equal(r.statusCode, 201, r.body);
        const pid: number = r.json().pid;
        const m = await post(`/proc/${pid}/mmap`, {
          addr: hex(addr),
          length: hex(length),
          prot: 'rw-',
          flags: ['private', 'anonymous', 'fixed', 'noreserve'],
        });
        assert.equal(m.statusCode, 200, m.body);
        return pid;
      }

      before(async () => {
        const opts = { strategy: 'per_vma' as const, maxProcesses: 64, maxVmasPerProcess: 65530 };
        sim = await Sim.start({ ...opts, cpus, maxBatch: BATCH, population: 0, maxMemory: LIMIT });
        app = await appWith(sim, { maxBatch: BATCH, bodyLimit: BATCH * 256 });
      });
      after(async () => {
        await app.close();
        await sim.close();
      });

      test('touches are charged to --max-memory and refused ENOMEM past it', async () => {
        const victim = await createWithMapping(VICTIM, 64 * 4096);
        let r = await post(`/proc/${victim}/touch`, {
          addr: hex(VICTIM),
          length: 4096,
          write: true,
        });
        assert.equal(r.statusCode, 200, r.body);
        const victimRss = await rss(victim);

        // Every other page of 1 GiB, from the top down: one record per page.
        const hostile = await createWithMapping(HOSTILE, 1 << 30);
        let page = (1 << 30) / 4096 - 2;
        const m0 = await memory();
        let refusedAt = -1;
        let touched = 0;
        const touchBatch = async () => {
          const calls = [];
          for (let i = 0; i < BATCH; i++, page -= 2) {
            calls.push({
              op: 'touch',
              addr: hex(HOSTILE + page * 4096),
              length: 4096,
              write: true,
            });
          }
          const res = await post(`/proc/${hostile}/syscalls`, { calls });
          assert.equal(res.statusCode, 200, res.body);
          const results: Array<{ error?: string }> = res.json().results;
          const bad = results.findIndex((x) => x.error !== undefined);
          if (bad >= 0) {
            assert.equal(results[bad].error, 'ENOMEM', JSON.stringify(results[bad]));
            refusedAt = touched + bad;
          }
          touched += BATCH;
        };
        await touchBatch();
        const m1 = await memory();
        assert.ok(
          m1.used_bytes - m0.used_bytes >= BATCH * RECORD_BYTES,
          `${BATCH} page runs charged ${m1.used_bytes - m0.used_bytes} bytes to the budget`,
        );
        // Over half the budget in page runs: a fork must copy them all, which does not fit (its
        // arena alone would): ENOMEM, nothing created, the parent as it was.
        while ((await memory()).used_bytes < LIMIT * 0.55 && refusedAt < 0) await touchBatch();
        assert.equal(refusedAt, -1, 'refused before half the budget was used');
        const n = await total();
        const forkRss = await rss(hostile);
        const fork = await app.inject({ method: 'POST', url: `/processes/${hostile}/fork` });
        assert.equal(fork.statusCode, 409, fork.body);
        assert.equal(fork.json().error, 'ENOMEM');
        assert.equal(await total(), n, 'the refused fork made no process');
        assert.equal(await rss(hostile), forkRss, 'the refused fork left the parent as it was');

        // Touch on until the budget refuses (bounded: the budget holds LIMIT / 32 records).
        const maxBatches = Math.ceil(LIMIT / RECORD_BYTES / BATCH) + 2;
        for (let b = 0; b < maxBatches && refusedAt < 0; b++) await touchBatch();
        assert.ok(refusedAt > 0, 'the page-state pool grew past --max-memory without an ENOMEM');
        const full = await memory();
        assert.ok(full.used_bytes <= LIMIT, `${full.used_bytes} charged > ${LIMIT}`);
        assert.ok(full.refused > m0.refused, 'the refusal is counted');

        // A refused fault changes nothing.
        const before = await rss(hostile);
        r = await post(`/proc/${hostile}/touch`, {
          addr: hex(HOSTILE + (page - 64) * 4096),
          length: 4096,
          write: true,
        });
        assert.equal(r.statusCode, 409, r.body);
        assert.equal(r.json().error, 'ENOMEM');
        assert.equal(await rss(hostile), before);
        const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
        assert.match(metrics, /procfs_faults_total\{[^}]*result="ENOMEM"[^}]*\} [1-9]/);

        // The victim keeps its page; the service is healthy.
        assert.equal(await rss(victim), victimRss);
        assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);

        // Once the hostile process is gone, its records serve the others.
        r = await app.inject({ method: 'DELETE', url: `/processes/${hostile}` });
        assert.equal(r.statusCode, 204);
        r = await post(`/proc/${victim}/touch`, {
          addr: hex(VICTIM + 4096),
          length: 63 * 4096,
          write: false,
        });
        assert.equal(r.statusCode, 200, r.body);
        assert.ok((await memory()).used_bytes <= LIMIT);
      });
    });
  }
});
