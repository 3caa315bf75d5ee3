/**
 * The HTTP contract over the real engine (Sim on the event loop, through inject()): import round trip, fork,
 * exit, Linux errno through the statuses, PROCMAP_QUERY walk == maps text, limits, activities,
 * per-request strategy in the metrics, and parallel chunked reads racing a busy process.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, testConfig } from './helpers.js';
import { repoRoot } from './server-process.js';

const fixture = (name: string) =>
  readFileSync(join(repoRoot(), 'test', 'fixtures', 'real-maps', name), 'utf8');

const json = { 'content-type': 'application/json' };

describe('the in-process Sim through HTTP', () => {
  let sim: Sim;
  let app: FastifyInstance;
  before(async () => {
    const c = testConfig({ maxProcesses: 12, maxBatch: 4096 });
    sim = await Sim.start({ ...c, cpus: 0, population: 4 });
    app = await appWith(sim, { maxProcesses: 12, maxBatch: 4096 });
  });
  after(() => app.close());

  const post = async (url: string, payload?: unknown) =>
    app.inject({ method: 'POST', url, headers: json, payload: payload as object });
  const create = async (payload: unknown) =>
    (await post('/processes', payload)).json().pid as number;
  const maps = async (pid: number, q = '') =>
    (await app.inject({ method: 'GET', url: `/proc/${pid}/maps${q}` })).body;

  test('the population is there, pid 1 first', async () => {
    const r = (await app.inject({ method: 'GET', url: '/processes' })).json();
    assert.equal(r.total, 4);
    assert.deepEqual(
      r.processes.map((p: { pid: number; comm: string }) => [p.pid, p.comm]),
      [
        [1, 'bash'],
        [2, 'node'],
        [3, 'bash'],
        [4, 'java'],
      ],
    );
    const text = await maps(1);
    assert.equal(text.split('\n').length - 1, r.processes[0].vmas + 1);
  });

  for (const file of ['bash.maps', 'cat.maps', 'java-host.maps', 'node-host.maps']) {
    test(`import of ${file} reads back byte for byte, in chunks and whole`, async () => {
      const text = fixture(file);
      const pid = await create({ maps: text, comm: 'imported' });
      assert.equal(await maps(pid), text);
      assert.equal(await maps(pid, '?chunk=0'), text);
      assert.equal(await maps(pid, '?chunk=1&strategy=mmap_lock'), text);
      await app.inject({ method: 'DELETE', url: `/processes/${pid}` });
    });
  }

  test('an import that is not a maps text is EINVAL, and creates nothing', async () => {
    const before = (await app.inject({ method: 'GET', url: '/processes' })).json().total;
    const r = await post('/processes', { maps: 'hello\n' });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error, 'EINVAL');
    assert.equal((await app.inject({ method: 'GET', url: '/processes' })).json().total, before);
  });

  test('fork copies the address space; exit makes the pid ESRCH everywhere', async () => {
    const child = (await post('/processes/1/fork')).json().pid;
    assert.equal(await maps(child), await maps(1));
    assert.equal(
      (await app.inject({ method: 'DELETE', url: `/processes/${child}` })).statusCode,
      204,
    );
    for (const [method, url] of [
      ['GET', `/proc/${child}/maps`],
      ['GET', `/proc/${child}/procmap_query?addr=0`],
      ['GET', `/processes/${child}`],
      ['DELETE', `/processes/${child}`],
      ['POST', `/processes/${child}/fork`],
    ] as const) {
      const r = await app.inject({ method, url });
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.json().error, 'ESRCH', url);
    }
    const m = await post(`/proc/${child}/brk`, { addr: 0 });
    assert.equal(m.json().error, 'ESRCH');
  });

  test('mutations change the maps text; Linux errno map to the documented statuses', async () => {
    const pid = await create({ template: 'minimal' });
    const base = '0x100000000000';
    const mm = await post(`/proc/${pid}/mmap`, {
      addr: base,
      length: '0x3000',
      prot: 'rw-',
      flags: ['private', 'anonymous', 'fixed_noreplace'],
    });
    assert.deepEqual(mm.json(), { addr: base });
    assert.match(await maps(pid), /^100000000000-100000003000 rw-p 00000000 00:00 0 $/m);
    const again = await post(`/proc/${pid}/mmap`, {
      addr: base,
      length: '0x1000',
      prot: 'rw-',
      flags: ['private', 'anonymous', 'fixed_noreplace'],
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error, 'EEXIST');
    const split = await post(`/proc/${pid}/mprotect`, {
      addr: '0x100000001000',
      length: '0x1000',
      prot: 'r--',
    });
    assert.equal(split.statusCode, 200);
    const text = await maps(pid);
    assert.match(text, /^100000000000-100000001000 rw-p/m);
    assert.match(text, /^100000001000-100000002000 r--p/m);
    const named = await post(`/proc/${pid}/anon_name`, {
      addr: base,
      length: '0x1000',
      name: 'my buf',
    });
    assert.equal(named.statusCode, 200);
    assert.match(
      await maps(pid),
      /^100000000000-100000001000 rw-p 00000000 00:00 0 {26}\[anon:my buf\]$/m,
    );
    const unaligned = await post(`/proc/${pid}/munmap`, { addr: '0x100000000001', length: 4096 });
    assert.equal(unaligned.statusCode, 400);
    assert.equal(unaligned.json().error, 'EINVAL');
    const hole = await post(`/proc/${pid}/mprotect`, {
      addr: '0x200000000000',
      length: 4096,
      prot: 'r--',
    });
    assert.equal(hole.statusCode, 409);
    assert.equal(hole.json().error, 'ENOMEM');
    const ro = await post(`/proc/${pid}/mmap`, {
      length: 4096,
      prot: 'rw-',
      flags: ['shared'],
      path: '/etc/hostname',
      dev: 'fe:00',
      inode: 42,
      writable: false,
    });
    assert.equal(ro.statusCode, 403);
    assert.equal(ro.json().error, 'EACCES');
    const nofd = await post(`/proc/${pid}/mmap`, { length: 4096, prot: 'r--', flags: ['private'] });
    assert.equal(nofd.json().error, 'EBADF');
    const huge = await post(`/proc/${pid}/munmap`, { addr: '0xffffffffff600000', length: 4096 });
    assert.equal(huge.json().error, 'EINVAL');
    const brk0 = await post(`/proc/${pid}/brk`, { addr: '0x0' });
    const detail = (await app.inject({ method: 'GET', url: `/processes/${pid}` })).json();
    assert.deepEqual(brk0.json(), { brk: detail.brk.end });
  });

  test('brk near 2^64 answers the unchanged break and leaves the maps as they were', async () => {
    const before = await maps(1);
    const cur = (await post('/proc/1/brk', { addr: 0 })).json().brk as string;
    for (const addr of ['0xffffffffffffffff', '0xfffffffffffff001', '0xfffffffffffff800']) {
      const r = await post('/proc/1/brk', { addr });
      assert.equal(r.statusCode, 200, addr);
      assert.deepEqual(r.json(), { brk: cur }, addr);
    }
    const batch = await post('/proc/1/syscalls', {
      calls: [{ op: 'brk', addr: '0xffffffffffffffff' }],
    });
    assert.deepEqual(batch.json(), { results: [{ brk: cur }] });
    assert.equal(await maps(1), before);
  });

  test('a COVERING_OR_NEXT_VMA walk by batch query is the maps text minus [vsyscall]', async () => {
    // pid 2 is busy (a JIT): stop it, or the layout may change between the two requests.
    await app.inject({ method: 'DELETE', url: '/processes/2/activity' });
    const text = await maps(2);
    const lines = text.trimEnd().split('\n');
    const queries = [{ addr: '0x0', flags: 'COVERING_OR_NEXT_VMA' }];
    for (const l of lines) {
      const end = l.split(' ')[0].split('-')[1];
      queries.push({ addr: `0x${end}`, flags: 'COVERING_OR_NEXT_VMA' });
    }
    const r = await post('/proc/2/procmap_query', { queries });
    const results = r.json().results as Array<{
      vma_start?: string;
      vma_end?: string;
      error?: string;
    }>;
    const ranges = results
      .filter((x) => x.vma_start)
      .map((x) => `${x.vma_start?.slice(2)}-${x.vma_end?.slice(2)}`);
    const expected = lines.slice(0, -1).map((l) =>
      l
        .split(' ')[0]
        .split('-')
        .map((h) => BigInt(`0x${h}`).toString(16))
        .join('-'),
    );
    // Each query after the i-th line's end returns line i+1; the first returns line 0.
    assert.deepEqual(ranges, expected);
    assert.deepEqual(results.at(-1), { error: 'ENOENT', errno: 2 });
    assert.deepEqual(results.at(-2), { error: 'ENOENT', errno: 2 });
  });

  test('the process limit answers 429 EAGAIN with Retry-After', async () => {
    let last = await post('/processes', { template: 'minimal' });
    for (let i = 0; i < 20 && last.statusCode === 201; i++) {
      last = await post('/processes', { template: 'minimal' });
    }
    assert.equal(last.statusCode, 429);
    assert.equal(last.json().error, 'EAGAIN');
    assert.ok(last.headers['retry-after']);
    const fork = await post('/processes/1/fork');
    assert.equal(fork.statusCode, 429);
  });

  test('a per-request strategy is what the read is counted under', async () => {
    await maps(1, '?strategy=lockless_nofallback');
    await app.inject({
      method: 'GET',
      url: '/proc/1/procmap_query?addr=0&flags=16&strategy=snapshot',
    });
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(m, /procfs_reads_total\{op="maps",strategy="lockless_nofallback"\} [1-9]/);
    assert.match(m, /procfs_reads_total\{op="query",strategy="snapshot"\} [1-9]/);
    assert.match(m, /procfs_mutations_total\{op="mmap",result="ok"\} [1-9]/);
  });
});
