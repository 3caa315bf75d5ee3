/**
 * The compact batch (`{"addrs":[…]}`, answered column-wise by the engine's batch path) against
 * point queries (GET, one ioctl each) over random addresses, for every strategy, on `--cpus 0`
 * and on worker CPUs (reads on the event loop, and on the workers): every column entry equals the
 * point query's answer, and the batch moves every counter of its strategy (reads, speculation
 * attempts, fallbacks, mmap lock acquisitions) exactly as the same point queries do — a batch
 * counts one read per address; only durations are per batch. The same for the per-query batch
 * (`{"queries":[…]}`, per-entry flags, name and build-id requests, entries that do not parse).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { type ReadsOn, STRATEGIES } from '../../src/cpus/sim-api.js';
import { appWith, BATCH_COLUMNS as COLUMNS, testConfig } from './helpers.js';
import { repoRoot } from './server-process.js';

const json = { 'content-type': 'application/json' };
const FLAGS = [
  '0',
  'COVERING_OR_NEXT_VMA',
  'COVERING_OR_NEXT_VMA|FILE_BACKED_VMA',
  'COVERING_OR_NEXT_VMA|VMA_EXECUTABLE',
  'VMA_WRITABLE',
];
const ADDRESSES = 100;

/** A small deterministic PRNG (mulberry32): the same addresses on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Random addresses: in VMAs, at their edges, in gaps, anywhere below 2^47, above it. */
function randomAddresses(maps: string, seed: number): string[] {
  const rand = prng(seed);
  const ranges = maps
    .trimEnd()
    .split('\n')
    .map((l) =>
      l
        .split(' ')[0]
        .split('-')
        .map((h) => BigInt(`0x${h}`)),
    );
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const big = (bits: number) => BigInt(Math.floor(rand() * 2 ** 26)) << BigInt(bits - 26);
  const out: string[] = [];
  for (let i = 0; i < ADDRESSES; i++) {
    const [start, end] = pick(ranges);
    const kind = Math.floor(rand() * 6);
    const a =
      kind === 0
        ? start
        : kind === 1
          ? end
          : kind === 2
            ? start + ((end - start) * BigInt(Math.floor(rand() * 1000))) / 1000n
            : kind === 3
              ? start - 1n
              : kind === 4
                ? big(47)
                : big(64);
    out.push(`0x${a.toString(16)}`);
  }
  // Sorted runs and repeats too (a batch may take shortcuts there; it must not change answers).
  const sorted = [...out].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  return [...out, ...sorted.slice(0, 30), ...sorted.slice(0, 10)];
}

/** Every counter of /metrics (no durations: their sums and buckets differ by design). */
async function counters(app: FastifyInstance): Promise<Map<string, number>> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!/^procfs_(reads|speculation|fallbacks|hazards|lock_wait_seconds_count)/.test(line)) {
      continue;
    }
    if (/_sum\{|_bucket\{/.test(line)) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) d.set(k, v - (before.get(k) ?? 0));
  return d;
}

/**
 * The per-query batch (`{"queries":[…]}`, each entry its own flags, name and build-id requests,
 * a few entries that do not parse) against the same point queries: each result is the point
 * query's body byte for byte (or its error and errno), and the batch counts as they do.
 */
async function perQueryParity(
  app: FastifyInstance,
  pid: number,
  strategy: string,
  addrs: string[],
  where: string,
): Promise<void> {
  const entries = addrs.map((addr, i) => ({
    addr:
      i % 3 === 0
        ? addr
        : i % 3 === 1
          ? BigInt(addr).toString()
          : addr.toUpperCase().replace('0X', '0x'),
    flags: FLAGS[i % FLAGS.length],
    name: i % 4 !== 1,
    build_id: i % 5 === 2 ? 0 : 1,
  }));
  // Entries that do not parse: EINVAL in their own result, with the point query's message.
  const bad = [{ addr: '0x10000000000000000' }, { addr: '0x1000', flags: 'NOPE' }];
  const queries = [...entries.slice(0, 7), bad[0], ...entries.slice(7), bad[1]];
  const c0 = await counters(app);
  const r = await app.inject({
    method: 'POST',
    url: `/proc/${pid}/procmap_query?strategy=${strategy}`,
    headers: json,
    payload: { queries },
  });
  assert.equal(r.statusCode, 200, r.body);
  const { results } = r.json();
  assert.equal(results.length, queries.length);
  const c1 = await counters(app);
  for (const [i, q] of queries.entries()) {
    const params = new URLSearchParams({
      addr: q.addr,
      flags: ('flags' in q && q.flags) || '0',
      strategy,
      name: String('name' in q ? q.name : true),
      build_id: String('build_id' in q ? q.build_id === 1 : true),
    });
    const one = await app.inject({ method: 'GET', url: `/proc/${pid}/procmap_query?${params}` });
    const at = `${where}: per-query entry ${i} ${JSON.stringify(q)}`;
    if (one.statusCode === 200) assert.equal(JSON.stringify(results[i]), one.body, at);
    else {
      const e = one.json();
      const parsed = !bad.includes(q);
      assert.deepEqual(results[i], parsed ? { error: e.error, errno: e.errno } : e, at);
    }
  }
  const c2 = await counters(app);
  const batch = delta(c1, c0);
  assert.equal(
    batch.get(`procfs_reads_total{op="query",strategy="${strategy}"}`),
    entries.length,
    where,
  );
  assert.deepEqual(batch, delta(c2, c1), `${where}: the per-query batch counts as its queries`);
}

async function parity(cpus: number, reads: ReadsOn): Promise<void> {
  const limits = { maxBatch: 1024, bodyLimit: 1 << 20 };
  const sim = await Sim.start({ ...testConfig({ ...limits, cpus }), cpus, reads, population: 0 });
  const app = await appWith(sim, { ...limits, cpus });
  try {
    // node: a typical layout; edge: deleted files, an escaped newline in a path, shmem.
    const layouts = ['node-host.maps', 'edge-host.maps'].map((f) =>
      readFileSync(join(repoRoot(), 'test/fixtures/real-maps', f), 'utf8'),
    );
    const procs: Array<{ pid: number; text: string }> = [];
    for (const maps of layouts) {
      const pid = (
        await app.inject({ method: 'POST', url: '/processes', headers: json, payload: { maps } })
      ).json().pid as number;
      // An anon-named VMA: lockless takes the mmap lock for it (fancy_vma), nofallback does not.
      const stack = maps.split('\n').find((l) => l.endsWith('[stack]')) as string;
      const named = await app.inject({
        method: 'POST',
        url: `/proc/${pid}/anon_name`,
        headers: json,
        payload: { addr: `0x${stack.split('-')[0]}`, length: '0x1000', name: 'jit' },
      });
      assert.equal(named.statusCode, 200, named.body);
      const text = (await app.inject({ method: 'GET', url: `/proc/${pid}/maps` })).body;
      procs.push({ pid, text });
    }

    for (const [n, strategy] of STRATEGIES.entries()) {
      for (const [p, { pid, text }] of procs.entries()) {
        const addrs = randomAddresses(
          text,
          1000 * cpus + 10 * n + p + (reads === 'workers' ? 7 : 0),
        );
        const flags = FLAGS[(n + p) % FLAGS.length];
        const where = `${strategy}, cpus ${cpus}, reads ${reads}, flags ${flags}, process ${p}`;
        const c0 = await counters(app);
        const r = await app.inject({
          method: 'POST',
          url: `/proc/${pid}/procmap_query?strategy=${strategy}`,
          headers: json,
          payload: { addrs, flags },
        });
        assert.equal(r.statusCode, 200, r.body);
        const cols = r.json();
        const c1 = await counters(app);
        let answered = 0;
        for (const [i, addr] of addrs.entries()) {
          const q = new URLSearchParams({ addr, flags, strategy, build_id: 'false' });
          const one = await app.inject({ method: 'GET', url: `/proc/${pid}/procmap_query?${q}` });
          const body = one.json();
          if (one.statusCode !== 200) {
            assert.equal(cols.errno[i], body.errno, `${where}: ${addr}`);
            for (const c of COLUMNS) assert.equal(cols[c][i], null, `${where}: ${c} at ${addr}`);
            continue;
          }
          answered++;
          assert.equal(cols.errno[i], 0, `${where}: ${addr}`);
          for (const c of COLUMNS)
            assert.deepEqual(cols[c][i], body[c], `${where}: ${c} at ${addr}`);
        }
        assert.ok(answered > 0 && answered < addrs.length, `${where}: ${answered} answered`);
        const c2 = await counters(app);
        const batch = delta(c1, c0);
        assert.equal(
          batch.get(`procfs_reads_total{op="query",strategy="${strategy}"}`),
          addrs.length,
        );
        assert.deepEqual(batch, delta(c2, c1), `${where}: the batch counts as its point queries`);
        await perQueryParity(app, pid, strategy, addrs, where);
      }
    }
  } finally {
    await app.close();
  }
}

for (const [cpus, reads] of [
  [0, 'event-loop'],
  [1, 'event-loop'],
  [1, 'workers'],
] as const) {
  test(`compact and per-query batch = point queries, every strategy, cpus ${cpus}, reads ${reads}`, () =>
    parity(cpus, reads));
}
