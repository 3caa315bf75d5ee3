/**
 * Routes through inject(), against a recording fake sim (routes-fixture.ts): procfs reads: maps
 * streaming, point and batch PROCMAP_QUERY (flags, addresses, answer shape, errors).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimError } from '../../src/cpus/sim-api.js';
import { FakeSim } from './fake-sim.js';
import { useRoutesFixture } from './routes-fixture.js';

const fx = useRoutesFixture();

describe('procfs reads', () => {
  test('maps streams the sim chunks as text/plain with strategy and chunk', async () => {
    fx.sim.mapsChunks = ['a-b line1\n', 'c-d line2\n'];
    const r = await fx.app.inject({ method: 'GET', url: '/proc/1/maps?strategy=lockless&chunk=0' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.equal(r.body, 'a-b line1\nc-d line2\n');
    assert.deepEqual(fx.sim.log.at(-1)?.args, { strategy: 'lockless', chunk: 0 });
    const d = await fx.app.inject({ method: 'GET', url: '/proc/1/maps' });
    assert.deepEqual(fx.sim.log.at(-1)?.args, { strategy: undefined, chunk: 4096 });
    assert.equal(d.statusCode, 200);
  });

  test('maps: bad strategy is EINVAL, missing pid ESRCH', async () => {
    const s = await fx.app.inject({ method: 'GET', url: '/proc/1/maps?strategy=bogus' });
    assert.equal(s.statusCode, 400);
    assert.equal(s.json().error, 'EINVAL');
    const p = await fx.app.inject({ method: 'GET', url: '/proc/77/maps' });
    assert.equal(p.statusCode, 404);
    assert.equal(p.json().error, 'ESRCH');
  });

  test('point query: flags by name, hex address, answer shape', async () => {
    const r = await fx.app.inject({
      method: 'GET',
      url: '/proc/1/procmap_query?addr=0x7f0000001234&flags=COVERING_OR_NEXT_VMA|VMA_EXECUTABLE&strategy=snapshot&build_id=0',
    });
    assert.equal(r.statusCode, 200);
    const { opts, queries } = fx.sim.log.at(-1)!.args as {
      opts: unknown;
      queries: unknown[];
    };
    assert.deepEqual(opts, { strategy: 'snapshot' });
    assert.deepEqual(queries, [{ addr: 0x7f0000001234, flags: 0x14, name: true, buildId: false }]);
    assert.deepEqual(r.json(), {
      vma_start: '0x7f0000001000',
      vma_end: '0x7f0000002000',
      vma_flags: 5,
      vma_flags_names: ['VMA_READABLE', 'VMA_EXECUTABLE'],
      vma_page_size: 4096,
      vma_offset: '0x0',
      inode: 7,
      dev_major: 254,
      dev_minor: 1,
      vma_name: '/usr/lib/libc.so.6',
      build_id: null,
    });
  });

  test('point query errors: engine ENOENT is 404, an unknown flag name 400', async () => {
    fx.sim.queryAnswer = () => new SimError(2, 'ENOENT', 'no VMA');
    const r = await fx.app.inject({ method: 'GET', url: '/proc/1/procmap_query?addr=0' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error, 'ENOENT');
    const f = await fx.app.inject({
      method: 'GET',
      url: '/proc/1/procmap_query?addr=0&flags=NOPE',
    });
    assert.equal(f.statusCode, 400);
    assert.match(f.json().message, /unknown flag "NOPE"/);
    // A name left empty (a trailing |, a space alone) is named as such, with what was given.
    for (const [flags, given] of [
      ['VMA_READABLE%7C', 'VMA_READABLE|'],
      ['%20', ' '],
    ]) {
      const e = await fx.app.inject({
        method: 'GET',
        url: `/proc/1/procmap_query?addr=0&flags=${flags}`,
      });
      assert.equal(e.statusCode, 400);
      assert.equal(e.json().error, 'EINVAL');
      assert.match(
        e.json().message,
        new RegExp(`empty flag name in "${given.replace('|', '\\|')}"`),
      );
    }
    const m = await fx.app.inject({ method: 'GET', url: '/proc/1/procmap_query' });
    assert.equal(m.statusCode, 400);
    assert.match(m.json().message, /addr/);
  });

  test('a numeric flags value above 32 bits stays invalid for the engine', async () => {
    fx.sim.queryAnswer = new FakeSim().queryAnswer;
    await fx.app.inject({ method: 'GET', url: '/proc/1/procmap_query?addr=0&flags=0x100000010' });
    const { queries } = fx.sim.log.at(-1)!.args as { queries: Array<{ flags: number }> };
    assert.notEqual(queries[0].flags & ~0x3f, 0);
  });

  test('batch query: in order, per-entry errors, bad entries do not reach the engine', async () => {
    fx.sim.queryAnswer = (q) =>
      q.addr === 0
        ? new SimError(2, 'ENOENT', 'none')
        : new FakeSim().queryAnswer({ ...q, name: false });
    const r = await fx.app.inject({
      method: 'POST',
      url: '/proc/1/procmap_query?strategy=mmap_lock',
      payload: {
        queries: [
          { addr: '0x1000' },
          { addr: 0 },
          { addr: '0x2000', flags: 'BAD' },
          { addr: '4096', flags: 16, name: 0 },
        ],
      },
    });
    assert.equal(r.statusCode, 200);
    const { results } = r.json();
    assert.equal(results.length, 4);
    assert.equal(results[0].vma_start, '0x1000');
    assert.deepEqual(results[1], { error: 'ENOENT', errno: 2 });
    assert.equal(results[2].error, 'EINVAL');
    assert.equal(results[3].vma_start, '0x1000');
    const { opts, queries } = fx.sim.log.at(-1)!.args as { opts: unknown; queries: unknown[] };
    assert.deepEqual(opts, { strategy: 'mmap_lock' });
    assert.equal(queries.length, 3);
  });
});
