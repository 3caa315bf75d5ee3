/**
 * Routes through inject(), against a recording fake sim (routes-fixture.ts): processes: list,
 * create (templates, maps, activities), inspect, fork, exit, activity changes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SyscallCall } from '../../src/cpus/sim-api.js';
import { useRoutesFixture } from './routes-fixture.js';

const fx = useRoutesFixture();

describe('processes', () => {
  test('list with offset/limit', async () => {
    const r = await fx.app.inject({ method: 'GET', url: '/processes?offset=1&limit=1' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { total: 2, processes: [{ pid: 2, comm: 'init', vmas: 3 }] });
  });

  test('create from a template, with an activity', async () => {
    const r = await fx.app.inject({
      method: 'POST',
      url: '/processes',
      payload: { comm: 'java', template: 'jvm', activity: { profile: 'jit', rate_per_s: 50 } },
    });
    assert.equal(r.statusCode, 201);
    assert.equal(r.json().comm, 'java');
    const opts = fx.sim.log.at(-1)!.args as Record<string, unknown>;
    assert.deepEqual(opts.activity, { kind: 'profile', profile: 'jit', ratePerS: 50 });
    assert.equal(opts.template, 'jvm');
  });

  test('create with no body at all', async () => {
    const r = await fx.app.inject({ method: 'POST', url: '/processes' });
    assert.equal(r.statusCode, 201);
  });

  test('template and maps together is EINVAL; unknown template is EINVAL', async () => {
    const both = await fx.app.inject({
      method: 'POST',
      url: '/processes',
      payload: { template: 'bash', maps: '' },
    });
    assert.equal(both.statusCode, 400);
    const unknown = await fx.app.inject({
      method: 'POST',
      url: '/processes',
      payload: { template: 'emacs' },
    });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error, 'EINVAL');
  });

  test('inspect: hex addresses, activity null when idle', async () => {
    const r = await fx.app.inject({ method: 'GET', url: '/processes/1' });
    assert.deepEqual(r.json(), {
      pid: 1,
      comm: 'init',
      vmas: 3,
      brk: { start: '0x555555554000', end: '0x555555575000' },
      start_stack: '0x7ffffffde000',
      pkeys: false,
      activity: null,
    });
  });

  test('fork then exit; the exited pid is ESRCH', async () => {
    const f = await fx.app.inject({ method: 'POST', url: '/processes/1/fork' });
    assert.equal(f.statusCode, 201);
    const child = f.json().pid;
    assert.notEqual(child, 1);
    const d = await fx.app.inject({ method: 'DELETE', url: `/processes/${child}` });
    assert.equal(d.statusCode, 204);
    assert.equal(d.body, '');
    const again = await fx.app.inject({ method: 'GET', url: `/processes/${child}` });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error, 'ESRCH');
  });

  test('activity put/get/delete; loop entries parsed like /syscalls', async () => {
    const put = await fx.app.inject({
      method: 'PUT',
      url: '/processes/2/activity',
      payload: {
        loop: [
          { op: 'mmap', length: 8192, prot: 'rw-', flags: ['private', 'anonymous'] },
          { op: 'munmap', addr: '0x7f0000000000', length: '8192' },
        ],
      },
    });
    assert.equal(put.statusCode, 200);
    const spec = fx.sim.log.at(-1)!.args as { kind: string; loop: SyscallCall[] };
    assert.equal(spec.kind, 'loop');
    assert.deepEqual(spec.loop[0], {
      op: 'mmap',
      addr: 0,
      length: 8192,
      prot: 3,
      flags: 0x22,
      offset: 0,
      file: null,
    });
    assert.deepEqual(spec.loop[1], { op: 'munmap', addr: 0x7f0000000000, length: 8192 });
    const get = await fx.app.inject({ method: 'GET', url: '/processes/2/activity' });
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().loop[0].op, 'mmap');
    assert.deepEqual(get.json().loop[0].flags, ['private', 'anonymous']);
    assert.equal(get.json().started_at, '2026-01-01T00:00:00.000Z');
    const inspect = await fx.app.inject({ method: 'GET', url: '/processes/2' });
    assert.equal(inspect.json().activity.calls, 0);
    const del = await fx.app.inject({ method: 'DELETE', url: '/processes/2/activity' });
    assert.equal(del.statusCode, 204);
    const gone = await fx.app.inject({ method: 'GET', url: '/processes/2/activity' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error, 'ENOENT');
    const del2 = await fx.app.inject({ method: 'DELETE', url: '/processes/2/activity' });
    assert.equal(del2.statusCode, 404);
  });

  test('a loop longer than max-batch is E2BIG', async () => {
    const loop = Array.from({ length: 9 }, () => ({ op: 'brk', addr: 0 }));
    const r = await fx.app.inject({
      method: 'PUT',
      url: '/processes/2/activity',
      payload: { loop },
    });
    assert.equal(r.statusCode, 400);
    assert.deepEqual([r.json().error, r.json().errno], ['E2BIG', 7]);
  });

  test('a bad loop entry names its index; loop and profile together are EINVAL', async () => {
    const bad = await fx.app.inject({
      method: 'PUT',
      url: '/processes/2/activity',
      payload: {
        loop: [
          { op: 'brk', addr: 0 },
          { op: 'munmap', addr: 'x' },
        ],
      },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /loop\[1\]/);
    const both = await fx.app.inject({
      method: 'PUT',
      url: '/processes/2/activity',
      payload: { loop: [{ op: 'brk', addr: 0 }], profile: 'malloc' },
    });
    assert.equal(both.statusCode, 400);
  });
});
