/**
 * The fuzzers' judge (bench/robustness/hostile-client.ts) catches what it must: a 5xx, a 503
 * without Retry-After, an error body outside the errno shape, a refused request that changed the
 * victim's maps or the process count — and lets through the partial failures Linux itself has
 * (mprotect ENOMEM on the victim) — so a green fuzz run means something. Also: the route-tree
 * reader follows fastify's format (a route it could not read would escape the coverage test).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FuzzFixture, fuzzFixture } from '../../bench/robustness/fuzz-fixture.js';
import type { HostileRequest } from '../../bench/robustness/http-requests.js';
import { parseRouteTree, routeKeyString } from '../../bench/robustness/route-table.js';

const req = (route: string, pid?: HostileRequest['pid']): HostileRequest => ({
  route,
  method: route.split(' ')[0],
  path: route.split(' ')[1],
  pid,
  query: '',
  headers: {},
});
const errno = { error: 'EINVAL', errno: 22, message: 'bad' };

describe('the fuzz checker', () => {
  let fx: FuzzFixture;
  before(async () => {
    fx = await fuzzFixture();
  });
  after(() => fx.close());

  test('flags 5xx, 503 without Retry-After and bodies outside the errno shape', async () => {
    const r = req('GET /proc/:pid/maps', 'victim');
    assert.match((await fx.client.check(r, 500, {}, errno, '')) ?? '', /5xx/);
    const busy = { error: 'EBUSY', errno: 16, message: 'x' };
    assert.match((await fx.client.check(r, 503, {}, busy, '')) ?? '', /Retry-After/);
    assert.equal(await fx.client.check(r, 503, { 'retry-after': '2' }, busy, ''), null);
    for (const body of [
      undefined,
      { error: 'Bad Request', statusCode: 400 },
      { error: 'EINVAL', message: 'x' },
    ]) {
      assert.match((await fx.client.check(r, 400, {}, body, '')) ?? '', /errno shape/);
    }
    assert.equal(await fx.client.check(r, 400, {}, errno, ''), null);
  });

  test('flags a refused request that changed the victim, except Linux partial failures', async () => {
    const mmap = {
      op: 'mmap' as const,
      addr: 0x6000_0000_0000,
      length: 0x1000,
      prot: 3,
      flags: 0x32,
      offset: 0,
      file: null,
    };
    await fx.sim.syscalls(fx.client.victim, [mmap]);
    assert.match(
      (await fx.client.check(req('POST /proc/:pid/munmap', 'victim'), 400, {}, errno, '')) ?? '',
      /victim maps changed/,
    );
    await fx.client.resync();
    await fx.sim.syscalls(fx.client.victim, [
      { op: 'mprotect', addr: 0x6000_0000_0000, length: 0x1000, prot: 1 },
    ]);
    const enomem = { error: 'ENOMEM', errno: 12, message: 'hole' };
    assert.equal(
      await fx.client.check(req('POST /proc/:pid/mprotect', 'victim'), 409, {}, enomem, ''),
      null,
    );
    const child = await fx.sim.forkProcess(fx.client.victim);
    assert.match(
      (await fx.client.check(req('GET /processes/:pid', 'missing'), 404, {}, errno, '')) ?? '',
      /process count/,
    );
    await fx.sim.exitProcess(child.pid);
    fx.client.tally.violations.length = 0;
  });

  test('reads every route of a fastify route tree', () => {
    const tree = [
      '└── / (GET, HEAD)',
      '    ├── a (POST)',
      '    │   └── /:pid (GET, DELETE)',
      '    └── b/c (PUT)',
      '',
    ].join('\n');
    assert.deepEqual(parseRouteTree(tree).map(routeKeyString), [
      'GET /',
      'HEAD /',
      'POST /a',
      'GET /a/:pid',
      'DELETE /a/:pid',
      'PUT /b/c',
    ]);
    assert.throws(() => parseRouteTree('  odd indent (GET)'), /cannot read/);
  });
});
