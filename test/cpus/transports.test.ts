/**
 * One engine, two transports: the same requests through `--cpus 0` (the engine on the event loop)
 * and through worker CPUs give the same bodies AND the same strategy-specific counts (every
 * series of /metrics except durations), for reads, mutations (results and errnos), fork and exit.
 * Each strategy's own counters must move: `mmap_lock`
 * takes the mmap read lock per chunk, `per_vma`/`snapshot`/`lockless*` count speculation
 * attempts, `lockless` falls back to the mmap lock for a VMA with an anon name or a special
 * mapping (`fancy_vma`) and `lockless_nofallback` never does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import { type ReadsOn, STRATEGIES } from '../../src/cpus/sim-api.js';
import { appWith, testConfig } from '../http/helpers.js';

const TEXT = [
  '00400000-00401000 r--p 00000000 fe:00 1234                               /usr/bin/demo',
  '00401000-00402000 r-xp 00001000 fe:00 1234                               /usr/bin/demo',
  '7f0000000000-7f0000004000 rw-p 00000000 00:00 0 ',
  '7f0000010000-7f0000012000 rw-p 00000000 00:00 0 ',
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]',
  '7ffc00100000-7ffc00102000 r-xp 00000000 00:00 0                          [vdso]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  '',
].join('\n');

const json = { 'content-type': 'application/json' };

/** The same session of requests; returns every body and the /metrics counts. */
async function session(
  cpus: number,
  reads: ReadsOn = 'event-loop',
): Promise<{ bodies: string[]; counts: Map<string, number> }> {
  const sim = await Sim.start({ ...testConfig({ maxBatch: 64 }), cpus, reads, population: 0 });
  const app = await appWith(sim, { cpus, maxBatch: 64 });
  const bodies: string[] = [];
  const send = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) => {
    const r = await app.inject({ method, url, payload, headers: payload ? json : {} });
    bodies.push(`${method} ${url} ${r.statusCode} ${r.body}`);
    return r;
  };
  const created = await send('POST', '/processes', { comm: 'demo', maps: TEXT });
  const pid = created.json().pid as number;
  await send('POST', `/proc/${pid}/anon_name`, {
    addr: '0x7f0000010000',
    length: '0x2000',
    name: 'jit',
  });
  for (const s of STRATEGIES) {
    await send('GET', `/proc/${pid}/maps?strategy=${s}&chunk=150`);
    await send('GET', `/proc/${pid}/procmap_query?addr=0x7f0000010000&name=true&strategy=${s}`);
    await send('POST', `/proc/${pid}/procmap_query?strategy=${s}`, {
      queries: [
        { addr: '0x0', flags: 'COVERING_OR_NEXT_VMA', name: true },
        { addr: '0x7ffc00100000', name: true },
        { addr: '0x500000' },
      ],
    });
  }
  // Mutations, fork and exit: the same results (and errnos) and mutation counts.
  await send('POST', `/proc/${pid}/syscalls`, {
    calls: [
      {
        op: 'mmap',
        addr: '0x7f0000020000',
        length: '0x3000',
        prot: 'rw-',
        flags: ['private', 'anonymous', 'fixed'],
      },
      { op: 'mprotect', addr: '0x7f0000021000', length: '0x1000', prot: 'r--' },
      { op: 'munmap', addr: '0x7f0000022000', length: '0x1000' },
      { op: 'mprotect', addr: '0x7f0000021001', length: '0x1000', prot: 'r--' },
      { op: 'brk', addr: '0x0' },
    ],
  });
  const child = (await send('POST', `/processes/${pid}/fork`)).json().pid as number;
  await send('GET', `/proc/${child}/maps?strategy=per_vma`);
  await send('DELETE', `/processes/${child}`);
  await send('GET', `/proc/${child}/maps`);
  await send('GET', `/proc/${pid + 1}/maps`);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  await app.close();
  const counts = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    // Durations differ from run to run; their counts and every counter must not.
    if (!line.startsWith('procfs_') || /_sum\{|_bucket\{/.test(line)) continue;
    const at = line.lastIndexOf(' ');
    counts.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { bodies, counts };
}

const count = (c: Map<string, number>, series: string) => c.get(series) ?? 0;

test('--cpus 0 and worker CPUs: same answers, same strategy-specific counts', async () => {
  const local = await session(0);
  const noCpuSeries = (c: Map<string, number>) =>
    [...c].filter(([k]) => !k.startsWith('procfs_cpus'));
  // Worker CPUs, with reads on the event loop (the default) and on the workers.
  for (const reads of ['event-loop', 'workers'] as const) {
    const workers = await session(1, reads);
    assert.deepEqual(local.bodies, workers.bodies, reads);
    assert.deepEqual(noCpuSeries(local.counts), noCpuSeries(workers.counts), reads);
  }
  const c = local.counts;
  const mmapReadLocks = (s: string) =>
    count(c, `procfs_lock_wait_seconds_count{lock="mmap_lock",mode="read",strategy="${s}"}`);
  const fancy = (op: string, s: string) =>
    count(c, `procfs_fallbacks_total{op="${op}",strategy="${s}",reason="fancy_vma"}`);
  const attempts = (op: string, s: string) =>
    count(c, `procfs_speculation_attempts_total{op="${op}",strategy="${s}"}`);
  // mmap_lock: one read lock per chunk (several chunks of 150 bytes) and per query.
  assert.ok(mmapReadLocks('mmap_lock') >= 6, `mmap_lock read locks ${mmapReadLocks('mmap_lock')}`);
  assert.equal(attempts('maps', 'mmap_lock'), 0);
  // per_vma: a lock_next_vma attempt per VMA, never the mmap lock without contention.
  assert.ok(attempts('maps', 'per_vma') >= 6);
  assert.equal(mmapReadLocks('per_vma'), 0);
  // snapshot: a validated copy per VMA.
  assert.ok(attempts('maps', 'snapshot') >= 6);
  assert.ok(attempts('query', 'snapshot') >= 4);
  // lockless: the [anon:jit] and [vdso] VMAs go under the mmap lock, in maps and in queries.
  // (>= 2: a line that did not fit a chunk is fetched again by the next one.)
  assert.ok(fancy('maps', 'lockless') >= 2);
  assert.ok(fancy('query', 'lockless') >= 2);
  assert.equal(mmapReadLocks('lockless'), fancy('maps', 'lockless') + fancy('query', 'lockless'));
  // lockless_nofallback reads them speculatively.
  assert.equal(fancy('maps', 'lockless_nofallback'), 0);
  assert.equal(fancy('query', 'lockless_nofallback'), 0);
  assert.ok(attempts('maps', 'lockless_nofallback') >= 6);
  assert.equal(mmapReadLocks('lockless_nofallback'), 0);
  // Queries: per_vma's lock_next_vma per lookup; mmap_lock's lock per query (2 requests + 3
  // in the batch), no attempts; snapshot and lockless attempts per lookup.
  assert.ok(attempts('query', 'per_vma') >= 4);
  assert.equal(attempts('query', 'mmap_lock'), 0);
  assert.ok(attempts('query', 'lockless') >= 4);
  // Every read counted under its own strategy: 1 maps read (per_vma: + the fork child's) and 4
  // queries (1 + 3 in the batch); reads of a pid that is gone count nothing.
  for (const s of STRATEGIES) {
    const maps = s === 'per_vma' ? 2 : 1;
    assert.equal(count(c, `procfs_reads_total{op="maps",strategy="${s}"}`), maps, s);
    assert.equal(count(c, `procfs_reads_total{op="query",strategy="${s}"}`), 4, s);
  }
  // The mutations ran (and failed) the same way: mmap, split, unmap, an unaligned EINVAL, brk.
  const mutations = (op: string, result: string) =>
    count(c, `procfs_mutations_total{op="${op}",result="${result}"}`);
  assert.equal(mutations('mmap', 'ok'), 1);
  assert.equal(mutations('mprotect', 'ok'), 1);
  assert.equal(mutations('mprotect', 'EINVAL'), 1);
  assert.equal(mutations('munmap', 'ok'), 1);
  assert.equal(mutations('fork', 'ok'), 1);
  assert.equal(mutations('exit', 'ok'), 1);
  // No contention on one thread: no contention fallbacks, no retries, no hazards.
  for (const [k, v] of c) {
    if (/reason="contention"|_retries_total|procfs_hazards_total/.test(k)) assert.equal(v, 0, k);
  }
});
