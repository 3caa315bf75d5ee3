/**
 * Path and query integers are exact or EINVAL (no `1.9` → 1, `3e0` → 3, `""` → 0, `1e5` → 100000),
 * and u64 strings have a length bound checked before they are parsed. Each refused request
 * reaches no engine call.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseU64, U64_MAX_CHARS } from '../../src/schemas/uapi.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

/** Engine calls other than reads of the process list. */
function engineCalls(sim: FakeSim) {
  return sim.log.filter((l) => l.method !== 'listProcesses');
}

describe('exact path and query integers', () => {
  const refused: Array<[string, string]> = [
    ['DELETE', '/processes/1.9'],
    ['DELETE', '/processes/3e0'],
    ['GET', '/processes/3e0'],
    ['GET', '/processes/0x3'],
    ['GET', '/processes/%203'],
    ['POST', '/processes/1.0/fork'],
    ['GET', '/proc/1e0/maps'],
    ['GET', '/proc/1/maps?chunk=1.9'],
    ['GET', '/proc/1/maps?chunk='],
    ['GET', '/proc/1/maps?chunk=4096&chunk=8192'],
    ['GET', '/proc/1/procmap_query?addr='],
    ['GET', '/proc/1/procmap_query?addr=1e5'],
    ['GET', '/proc/1/procmap_query?addr=1.5'],
    ['GET', '/proc/1/procmap_query?addr=-1'],
    ['GET', '/proc/1/procmap_query?addr=0x1000&flags=toString'],
    ['GET', '/processes?limit=1.5'],
    ['GET', '/processes?offset=1e1'],
  ];
  for (const [method, url] of refused) {
    test(`${method} ${url} is 400 EINVAL and reaches no engine call`, async () => {
      const sim = new FakeSim([1, 3]);
      const app = await appWith(sim);
      try {
        const r = await app.inject({ method: method as 'GET', url });
        assert.equal(r.statusCode, 400, r.body);
        assert.equal(r.json().error, 'EINVAL');
        assert.equal(r.json().errno, 22);
        assert.deepEqual(engineCalls(sim), []);
        assert.ok(sim.procs.has(1) && sim.procs.has(3), 'no process was deleted');
      } finally {
        await app.close();
      }
    });
  }

  test('exact forms are still taken: decimal pids and integers, hex and decimal addresses', async () => {
    const sim = new FakeSim([1, 3]);
    const app = await appWith(sim);
    try {
      for (const url of [
        '/processes/3',
        '/proc/1/maps?chunk=0',
        '/proc/1/maps?chunk=4096',
        '/proc/1/procmap_query?addr=0x1000',
        '/proc/1/procmap_query?addr=4096&flags=1',
        '/processes?offset=0&limit=2',
      ]) {
        const r = await app.inject({ method: 'GET', url });
        assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      }
      const q = sim.log.filter((l) => l.method === 'query');
      assert.equal(q.length, 2);
      const addrOf = (i: number) => (q[i].args as { queries: Array<{ addr: number }> }).queries[0];
      assert.equal(addrOf(0).addr, 0x1000);
      assert.equal(addrOf(1).addr, 4096);
      const del = await app.inject({ method: 'DELETE', url: '/processes/3' });
      assert.equal(del.statusCode, 204);
      assert.equal(sim.procs.has(3), false);
    } finally {
      await app.close();
    }
  });
});

describe('u64 digit bound', () => {
  test('parseU64 refuses an over-long string before parsing it', () => {
    assert.equal(parseU64('addr', `0x${'0'.repeat(U64_MAX_CHARS - 3)}1`), 1n);
    assert.throws(() => parseU64('addr', '9'.repeat(U64_MAX_CHARS + 1)), /too long/);
  });

  test('a 60,000-digit address in a body is EINVAL, and the engine is not called', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { bodyLimit: 4 * 1024 * 1024 });
    try {
      // Under the 64 KiB a single call's body may have (src/schemas/body-limits.ts).
      const digits = '7'.repeat(60_000);
      for (const [url, payload] of [
        ['/proc/1/brk', `{"addr":"${digits}"}`],
        ['/proc/1/procmap_query', `{"queries":[{"addr":"${digits}"}]}`],
        ['/proc/1/syscalls', `{"calls":[{"op":"brk","addr":"${digits}"}]}`],
      ] as const) {
        const r = await app.inject({
          method: 'POST',
          url,
          payload,
          headers: { 'content-type': 'application/json' },
        });
        if (url.endsWith('/syscalls')) {
          assert.equal(r.statusCode, 200, r.body);
          assert.equal(r.json().results[0].error, 'EINVAL');
        } else {
          assert.equal(r.statusCode, 400, r.body);
          assert.equal(r.json().error, 'EINVAL');
        }
      }
      assert.equal(sim.log.filter((l) => l.method === 'query').length, 0);
      for (const l of sim.log.filter((c) => c.method === 'syscalls')) assert.deepEqual(l.args, []);
    } finally {
      await app.close();
    }
  });
});
