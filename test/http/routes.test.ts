/**
 * Every route through inject(), against a recording fake sim: what the route hands the engine
 * (u64 parsing, prot/flag bits, per-request strategy) and how it shapes the reply.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SimError, type SyscallCall } from '../../src/cpus/sim-api.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

let sim: FakeSim;
let app: FastifyInstance;
before(async () => {
  sim = new FakeSim([1, 2]);
  app = await appWith(sim);
});
after(() => app.close());
beforeEach(() => {
  sim.log.length = 0;
});

const lastSyscalls = () =>
  sim.log.filter((l) => l.method === 'syscalls').at(-1)?.args as SyscallCall[];

describe('processes', () => {
  test('list with offset/limit', async () => {
    const r = await app.inject({ method: 'GET', url: '/processes?offset=1&limit=1' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { total: 2, processes: [{ pid: 2, comm: 'init', vmas: 3 }] });
  });

  test('create from a template, with an activity', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/processes',
      payload: { comm: 'java', template: 'jvm', activity: { profile: 'jit', rate_per_s: 50 } },
    });
    assert.equal(r.statusCode, 201);
    assert.equal(r.json().comm, 'java');
    const opts = sim.log.at(-1)!.args as Record<string, unknown>;
    assert.deepEqual(opts.activity, { kind: 'profile', profile: 'jit', ratePerS: 50 });
    assert.equal(opts.template, 'jvm');
  });

  test('create with no body at all', async () => {
    const r = await app.inject({ method: 'POST', url: '/processes' });
    assert.equal(r.statusCode, 201);
  });

  test('template and maps together is EINVAL; unknown template is EINVAL', async () => {
    const both = await app.inject({
      method: 'POST',
      url: '/processes',
      payload: { template: 'bash', maps: '' },
    });
    assert.equal(both.statusCode, 400);
    const unknown = await app.inject({
      method: 'POST',
      url: '/processes',
      payload: { template: 'emacs' },
    });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error, 'EINVAL');
  });

  test('inspect: hex addresses, activity null when idle', async () => {
    const r = await app.inject({ method: 'GET', url: '/processes/1' });
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
    const f = await app.inject({ method: 'POST', url: '/processes/1/fork' });
    assert.equal(f.statusCode, 201);
    const child = f.json().pid;
    assert.notEqual(child, 1);
    const d = await app.inject({ method: 'DELETE', url: `/processes/${child}` });
    assert.equal(d.statusCode, 204);
    assert.equal(d.body, '');
    const again = await app.inject({ method: 'GET', url: `/processes/${child}` });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error, 'ESRCH');
  });

  test('activity put/get/delete; loop entries parsed like /syscalls', async () => {
    const put = await app.inject({
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
    const spec = sim.log.at(-1)!.args as { kind: string; loop: SyscallCall[] };
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
    const get = await app.inject({ method: 'GET', url: '/processes/2/activity' });
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().loop[0].op, 'mmap');
    assert.deepEqual(get.json().loop[0].flags, ['private', 'anonymous']);
    assert.equal(get.json().started_at, '2026-01-01T00:00:00.000Z');
    const inspect = await app.inject({ method: 'GET', url: '/processes/2' });
    assert.equal(inspect.json().activity.calls, 0);
    const del = await app.inject({ method: 'DELETE', url: '/processes/2/activity' });
    assert.equal(del.statusCode, 204);
    const gone = await app.inject({ method: 'GET', url: '/processes/2/activity' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error, 'ENOENT');
    const del2 = await app.inject({ method: 'DELETE', url: '/processes/2/activity' });
    assert.equal(del2.statusCode, 404);
  });

  test('a loop longer than max-batch is E2BIG', async () => {
    const loop = Array.from({ length: 9 }, () => ({ op: 'brk', addr: 0 }));
    const r = await app.inject({ method: 'PUT', url: '/processes/2/activity', payload: { loop } });
    assert.equal(r.statusCode, 400);
    assert.deepEqual([r.json().error, r.json().errno], ['E2BIG', 7]);
  });

  test('a bad loop entry names its index; loop and profile together are EINVAL', async () => {
    const bad = await app.inject({
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
    const both = await app.inject({
      method: 'PUT',
      url: '/processes/2/activity',
      payload: { loop: [{ op: 'brk', addr: 0 }], profile: 'malloc' },
    });
    assert.equal(both.statusCode, 400);
  });
});

describe('procfs reads', () => {
  test('maps streams the sim chunks as text/plain with strategy and chunk', async () => {
    sim.mapsChunks = ['a-b line1\n', 'c-d line2\n'];
    const r = await app.inject({ method: 'GET', url: '/proc/1/maps?strategy=lockless&chunk=0' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.equal(r.body, 'a-b line1\nc-d line2\n');
    assert.deepEqual(sim.log.at(-1)?.args, { strategy: 'lockless', chunk: 0 });
    const d = await app.inject({ method: 'GET', url: '/proc/1/maps' });
    assert.deepEqual(sim.log.at(-1)?.args, { strategy: undefined, chunk: 4096 });
    assert.equal(d.statusCode, 200);
  });

  test('maps: bad strategy is EINVAL, missing pid ESRCH', async () => {
    const s = await app.inject({ method: 'GET', url: '/proc/1/maps?strategy=bogus' });
    assert.equal(s.statusCode, 400);
    assert.equal(s.json().error, 'EINVAL');
    const p = await app.inject({ method: 'GET', url: '/proc/77/maps' });
    assert.equal(p.statusCode, 404);
    assert.equal(p.json().error, 'ESRCH');
  });

  test('point query: flags by name, hex address, answer shape', async () => {
    const r = await app.inject({
      method: 'GET',
      url: '/proc/1/procmap_query?addr=0x7f0000001234&flags=COVERING_OR_NEXT_VMA|VMA_EXECUTABLE&strategy=snapshot&build_id=0',
    });
    assert.equal(r.statusCode, 200);
    const { opts, queries } = sim.log.at(-1)!.args as {
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
    sim.queryAnswer = () => new SimError(2, 'ENOENT', 'no VMA');
    const r = await app.inject({ method: 'GET', url: '/proc/1/procmap_query?addr=0' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error, 'ENOENT');
    const f = await app.inject({ method: 'GET', url: '/proc/1/procmap_query?addr=0&flags=NOPE' });
    assert.equal(f.statusCode, 400);
    assert.match(f.json().message, /NOPE/);
    const m = await app.inject({ method: 'GET', url: '/proc/1/procmap_query' });
    assert.equal(m.statusCode, 400);
    assert.match(m.json().message, /addr/);
  });

  test('a numeric flags value above 32 bits stays invalid for the engine', async () => {
    sim.queryAnswer = new FakeSim().queryAnswer;
    await app.inject({ method: 'GET', url: '/proc/1/procmap_query?addr=0&flags=0x100000010' });
    const { queries } = sim.log.at(-1)!.args as { queries: Array<{ flags: number }> };
    assert.notEqual(queries[0].flags & ~0x3f, 0);
  });

  test('batch query: in order, per-entry errors, bad entries do not reach the engine', async () => {
    sim.queryAnswer = (q) =>
      q.addr === 0
        ? new SimError(2, 'ENOENT', 'none')
        : new FakeSim().queryAnswer({ ...q, name: false });
    const r = await app.inject({
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
    const { opts, queries } = sim.log.at(-1)!.args as { opts: unknown; queries: unknown[] };
    assert.deepEqual(opts, { strategy: 'mmap_lock' });
    assert.equal(queries.length, 3);
  });
});

describe('mutations', () => {
  beforeEach(() => {
    sim.syscallAnswer = new FakeSim().syscallAnswer;
  });

  test('mmap of a file: fields converted, result hex', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/proc/1/mmap',
      payload: {
        addr: '0x7f0000000000',
        length: '0x2000',
        prot: 'r-x',
        flags: ['private', 'fixed'],
        path: '/usr/lib/libz.so.1',
        offset: '0x1000',
        dev: 'fe:01',
        inode: 1234,
      },
    });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { addr: '0x7f0000000000' });
    assert.deepEqual(lastSyscalls(), [
      {
        op: 'mmap',
        addr: 0x7f0000000000,
        length: 0x2000,
        prot: 5,
        flags: 0x12,
        offset: 0x1000,
        file: {
          path: '/usr/lib/libz.so.1',
          devMajor: 0xfe,
          devMinor: 1,
          inode: 1234,
          writable: true,
        },
      },
    ]);
  });

  test('u64 values above 2^53: exact when aligned, else an equivalent stand-in', async () => {
    await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: '0xffffffffff600000', length: '18446744073709551615' },
    });
    const [call] = lastSyscalls() as Array<{ addr: number; length: number }>;
    // 4096-multiples are exact doubles.
    assert.equal(BigInt(call.addr), 0xffffffffff600000n);
    // 2^64-1: unaligned, and PAGE_ALIGN wraps it to 0 mod 2^64, as for the kernel.
    assert.notEqual(call.length % 4096, 0);
    assert.equal(((BigInt(call.length) + 4095n) % 2n ** 64n) & ~4095n, 0n);
    await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: '0x20000000000001', length: '0x1000' },
    });
    const [c2] = lastSyscalls() as Array<{ addr: number }>;
    assert.notEqual(c2.addr % 4096, 0);
    assert.equal(Math.ceil(c2.addr / 4096) * 4096, 0x20000000001000);
  });

  test('mprotect, mremap, brk, anon_name: conversions and reply bodies', async () => {
    const mp = await app.inject({
      method: 'POST',
      url: '/proc/1/mprotect',
      payload: { addr: 4096, length: 4096, prot: '---' },
    });
    assert.deepEqual(mp.json(), {});
    assert.deepEqual(lastSyscalls(), [{ op: 'mprotect', addr: 4096, length: 4096, prot: 0 }]);
    sim.syscallAnswer = () => 0x7f1234560000;
    const mr = await app.inject({
      method: 'POST',
      url: '/proc/1/mremap',
      payload: {
        old_addr: '0x1000',
        old_size: '0x1000',
        new_size: '0x3000',
        flags: ['maymove', 'fixed', 'dontunmap'],
        new_addr: '0x9000',
      },
    });
    assert.deepEqual(mr.json(), { addr: '0x7f1234560000' });
    assert.deepEqual(lastSyscalls(), [
      {
        op: 'mremap',
        oldAddr: 0x1000,
        oldSize: 0x1000,
        newSize: 0x3000,
        flags: 7,
        newAddr: 0x9000,
      },
    ]);
    sim.syscallAnswer = () => 0x555555559000;
    const b = await app.inject({ method: 'POST', url: '/proc/1/brk', payload: { addr: '0x0' } });
    assert.deepEqual(b.json(), { brk: '0x555555559000' });
    sim.syscallAnswer = () => 0;
    const n = await app.inject({
      method: 'POST',
      url: '/proc/1/anon_name',
      payload: { addr: '0x1000', length: '0x1000', name: null },
    });
    assert.deepEqual(n.json(), {});
    assert.deepEqual(lastSyscalls(), [
      { op: 'anon_name', addr: 0x1000, length: 0x1000, name: null },
    ]);
  });

  test('bad prot and unknown flag names are EINVAL', async () => {
    for (const payload of [
      { length: 4096, prot: 'rwz', flags: ['private', 'anonymous'] },
      { length: 4096, prot: 'rw-', flags: ['private', 'sparkly'] },
    ]) {
      const r = await app.inject({ method: 'POST', url: '/proc/1/mmap', payload });
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error, 'EINVAL');
    }
  });

  test('/syscalls: in order, a failing or malformed call does not stop the rest', async () => {
    sim.syscallAnswer = (c) =>
      c.op === 'munmap' ? new SimError(22, 'EINVAL', 'unaligned') : c.op === 'mmap' ? 0x10000 : 0;
    const r = await app.inject({
      method: 'POST',
      url: '/proc/1/syscalls',
      payload: {
        calls: [
          { op: 'mmap', length: 4096, prot: 'rw-', flags: ['private', 'anonymous'] },
          { op: 'munmap', addr: '0x10001', length: 4096 },
          { op: 'mprotect', addr: '0x10000' },
          { op: 'brk', addr: 0 },
        ],
      },
    });
    assert.equal(r.statusCode, 200);
    const { results } = r.json();
    assert.deepEqual(results[0], { addr: '0x10000' });
    assert.deepEqual(results[1], { error: 'EINVAL', errno: 22, message: 'unaligned' });
    assert.equal(results[2].error, 'EINVAL');
    assert.match(results[2].message, /mprotect/);
    assert.deepEqual(results[3], { brk: '0x0' });
    assert.deepEqual(
      lastSyscalls().map((c) => c.op),
      ['mmap', 'munmap', 'brk'],
    );
  });
});

describe('service', () => {
  test('config get and strategy switch', async () => {
    const g = await app.inject({ method: 'GET', url: '/config' });
    assert.equal(g.json().strategy, 'per_vma');
    assert.equal(g.json().max_batch, 8);
    const p = await app.inject({
      method: 'PUT',
      url: '/config/strategy',
      payload: { strategy: 'lockless_nofallback' },
    });
    assert.equal(p.statusCode, 200);
    assert.equal(p.json().strategy, 'lockless_nofallback');
    assert.equal(sim.strategy, 'lockless_nofallback');
    const bad = await app.inject({
      method: 'PUT',
      url: '/config/strategy',
      payload: { strategy: 'yolo' },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(sim.strategy, 'lockless_nofallback');
    sim.strategy = 'per_vma';
  });

  test('healthz', async () => {
    const r = await app.inject({ method: 'GET', url: '/healthz' });
    assert.deepEqual(r.json(), { status: 'ok' });
  });

  test('metrics: engine families, gauges, default and HTTP metrics; no pid label', async () => {
    await app.inject({ method: 'GET', url: '/proc/1/maps' });
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/plain/);
    assert.match(r.body, /# TYPE procfs_reads_total counter/);
    const n = sim.procs.size;
    assert.match(r.body, new RegExp(`\nprocfs_processes ${n}\n`));
    assert.match(r.body, new RegExp(`\nprocfs_vmas ${3 * n}\n`));
    assert.match(r.body, /http_request_duration_seconds_bucket\{.*route="\/proc\/:pid\/maps"/);
    assert.match(r.body, /process_cpu_user_seconds_total/);
    assert.doesNotMatch(r.body, /pid="/);
  });

  test('docs: OpenAPI document lists every route, UI served', async () => {
    const r = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json();
    for (const path of [
      '/processes',
      '/processes/{pid}',
      '/processes/{pid}/fork',
      '/processes/{pid}/activity',
      '/proc/{pid}/maps',
      '/proc/{pid}/procmap_query',
      '/proc/{pid}/mmap',
      '/proc/{pid}/munmap',
      '/proc/{pid}/mprotect',
      '/proc/{pid}/mremap',
      '/proc/{pid}/brk',
      '/proc/{pid}/anon_name',
      '/proc/{pid}/syscalls',
      '/config',
      '/config/strategy',
      '/metrics',
      '/healthz',
    ]) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    assert.ok(ui.statusCode === 200 || ui.statusCode === 302);
  });
});
