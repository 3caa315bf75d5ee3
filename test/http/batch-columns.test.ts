/**
 * The compact batch PROCMAP_QUERY (API.md "Batch queries, compact form") over the real engine
 * through inject(): every column entry equals the per-query answer for the same address, errors
 * land in `errno` with null elsewhere, bad flags and oversize batches are refused whole.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, BATCH_COLUMNS as COLUMNS, testConfig } from './helpers.js';
import { repoRoot } from './server-process.js';

const json = { 'content-type': 'application/json' };

describe('compact batch PROCMAP_QUERY', () => {
  let sim: Sim;
  let app: FastifyInstance;
  const pids: number[] = [];
  before(async () => {
    // Imported processes (no activity threads): the two forms must see the same address space.
    const c = testConfig({ maxBatch: 1024, bodyLimit: 1 << 20 });
    sim = await Sim.start({ ...c, cpus: 0, population: 0 });
    app = await appWith(sim, { maxBatch: 1024, bodyLimit: 1 << 20 });
    for (const file of ['java-host.maps', 'node-host.maps']) {
      const maps = readFileSync(join(repoRoot(), 'test', 'fixtures', 'real-maps', file), 'utf8');
      const r = await app.inject({
        method: 'POST',
        url: '/processes',
        headers: json,
        payload: { maps },
      });
      pids.push(r.json().pid);
    }
  });
  after(() => app.close());

  const post = (pid: number, payload: unknown) =>
    app.inject({
      method: 'POST',
      url: `/proc/${pid}/procmap_query`,
      headers: json,
      payload: payload as object,
    });

  /** Addresses: every VMA's start, a byte inside, its end (a gap or the next VMA), 0, 2^64-1. */
  async function addressesOf(pid: number): Promise<string[]> {
    const text = (await app.inject({ method: 'GET', url: `/proc/${pid}/maps` })).body;
    const addrs = ['0x0', '0xffffffffffffffff'];
    for (const line of text.trimEnd().split('\n')) {
      const [start, end] = line.split(' ')[0].split('-');
      addrs.push(`0x${start}`, `0x${(BigInt(`0x${start}`) + 5n).toString(16)}`, `0x${end}`);
    }
    return addrs;
  }

  for (const flags of ['0', 'COVERING_OR_NEXT_VMA', 'COVERING_OR_NEXT_VMA|FILE_BACKED_VMA']) {
    test(`flags ${flags}: each column entry equals the per-query answer`, async () => {
      for (const pid of pids) {
        const addrs = await addressesOf(pid);
        const r = await post(pid, { addrs, flags });
        assert.equal(r.statusCode, 200);
        const cols = r.json();
        assert.deepEqual(Object.keys(cols), [...COLUMNS, 'errno']);
        for (const c of [...COLUMNS, 'errno']) assert.equal(cols[c].length, addrs.length, c);
        const per = await post(pid, {
          queries: addrs.map((addr) => ({ addr, flags, build_id: false })),
        });
        const results = per.json().results;
        let answered = 0;
        addrs.forEach((addr, i) => {
          const one = results[i];
          if ('errno' in one) {
            assert.equal(cols.errno[i], one.errno, addr);
            for (const c of COLUMNS) assert.equal(cols[c][i], null, `${c} at ${addr}`);
          } else {
            answered++;
            assert.equal(cols.errno[i], 0, addr);
            for (const c of COLUMNS) assert.deepEqual(cols[c][i], one[c], `${c} at ${addr}`);
          }
        });
        assert.ok(answered > 0 && answered < addrs.length, `${answered} of ${addrs.length}`);
      }
    });
  }

  test('a bad address is EINVAL in its own entry; name:false leaves names null', async () => {
    const addrs = await addressesOf(pids[0]);
    const r = await post(pids[0], { addrs: [addrs[2], 'nope', -1, addrs[3]], name: false });
    assert.equal(r.statusCode, 200);
    const cols = r.json();
    assert.deepEqual(cols.errno, [0, 22, 22, 0]);
    assert.deepEqual(cols.vma_name, [null, null, null, null]);
    assert.equal(cols.vma_start[1], null);
    assert.equal(cols.vma_start[0], cols.vma_start[3]);
  });

  test('an address that is not a u64 is its own EINVAL in both forms, whatever the body path', async () => {
    const [a, b] = (await addressesOf(pids[0])).slice(2, 4);
    const bad: unknown[] = ['nope', '', '0x', '0x10000000000000000', 'x'.repeat(64), -1, 2 ** 64];
    const addrs = [a, ...bad, b];
    const point = async (addr: string) =>
      (
        await app.inject({ method: 'GET', url: `/proc/${pids[0]}/procmap_query?addr=${addr}` })
      ).json();
    const compact = (await post(pids[0], { addrs })).json();
    assert.deepEqual(compact.errno, [0, ...bad.map(() => 22), 0]);
    const answers = [await point(a), await point(b)];
    /** The per-query results: the point query's answer for a and b, EINVAL naming each bad one. */
    const check = (results: Record<string, unknown>[], bads: unknown[], what: string) => {
      assert.equal(results.length, bads.length + 2, what);
      assert.deepEqual([results[0], results[results.length - 1]], answers, what);
      bads.forEach((x, i) => {
        const r = results[i + 1];
        assert.deepEqual([r.error, r.errno], ['EINVAL', 22], what);
        assert.match(String(r.message), /^addr: /, what);
        assert.ok(String(r.message).includes(String(x)), `${what}: ${r.message}`);
      });
    };
    // Bodies as JSON.stringify writes them (the byte scanner reads the string addresses and hands
    // the negative number on), and the same body written with escapes (the scanner declines it).
    const plain = JSON.stringify({ queries: addrs.map((addr) => ({ addr })) });
    const escaped = plain.replaceAll('"addr"', '"\\u0061ddr"');
    const cases: [string, unknown[]][] = [
      [plain, bad],
      [escaped, bad],
      [JSON.stringify({ queries: [{ addr: a }, { addr: 'nope' }, { addr: b }] }), ['nope']],
    ];
    for (const [payload, bads] of cases) {
      const url = `/proc/${pids[0]}/procmap_query`;
      const r = await app.inject({ method: 'POST', url, headers: json, payload });
      assert.equal(r.statusCode, 200, payload);
      check(r.json().results, bads, payload);
    }
    // A value of another type is a body the schema refuses, in either form.
    for (const body of [{ queries: [{ addr: a }, { addr: true }] }, { addrs: [a, true] }]) {
      const r = await post(pids[0], body);
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error, 'EINVAL');
    }
  });

  test('unknown flags, a batch over --max-batch and extra fields are refused whole', async () => {
    const bad = await post(pids[0], { addrs: ['0x0'], flags: 'NOPE' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, 'EINVAL');
    const big = await post(pids[0], { addrs: new Array(1025).fill('0x0') });
    assert.equal(big.statusCode, 400);
    assert.equal(big.json().error, 'E2BIG');
    const extra = await post(pids[0], { addrs: ['0x0'], queries: [] });
    assert.equal(extra.statusCode, 400);
    const missing = await post(4040, { addrs: ['0x0'] });
    const missingPer = await post(4040, { queries: [{ addr: '0x0' }] });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), missingPer.json());
  });
});
