/**
 * The churn soak: through HTTP (`inject`), a bounded loop of create-from-template → fork →
 * mutate the child (anonymous, shared-anonymous and file mmaps of a path new to each cycle,
 * mprotect splits, anon names, munmap, brk) → every 10th cycle an activity started and stopped
 * → exit of both. Afterwards the engine's counts are back exactly (processes, VMAs, running
 * activities, live file-table entries) and the resident set is compared with its baseline after
 * a forced collection (RSS is noisy, so the bound on it is loose; the counts are exact); the
 * growth rate is taken over the second half, once the first cycles' one-off growth is over.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import type { SimApi } from '../../src/cpus/sim-api.js';

const TEMPLATES = ['bash', 'node', 'jvm', 'minimal'];
const json = { 'content-type': 'application/json', host: 'localhost' };

/** The counts that must come back exactly. */
export interface EngineCounts {
  processes: number;
  vmas: number;
  activities: number;
  /** Live file-table entries (null when the engine does not report its file table). */
  files: number | null;
}

export interface ChurnResult {
  cycles: number;
  before: EngineCounts;
  after: EngineCounts;
  rssBefore: number;
  /** RSS halfway, after a collection. */
  rssMid: number;
  rssAfter: number;
  /**
   * RSS growth over the second half scaled to 1,000 cycles, MB (1e6 bytes): the slope once worker
   * heaps and allocator caches have settled (a leak keeps it up; a plateau does not).
   */
  rssGrowthMbPer1000: number;
  ms: number;
}

/** Node's documented way to reach gc() without --expose-gc on the command line. */
export function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function engineCounts(sim: SimApi): Promise<EngineCounts> {
  const g = await sim.gauges();
  return {
    processes: g.processes,
    vmas: g.vmas,
    activities: g.activities ?? 0,
    files: g.fileTable ? g.fileTable.live : null,
  };
}

async function call(app: FastifyInstance, method: string, url: string, body?: unknown) {
  const r = await app.inject({
    method: method as 'POST',
    url,
    headers: json,
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
  return r.body === '' ? undefined : r.json();
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The child's mutations of cycle `i`: every op, and a file path no earlier cycle used. */
function mutations(i: number) {
  const base = 0x3000_0000_0000;
  const calls: unknown[] = [];
  for (let k = 0; k < 8; k++) {
    calls.push({
      op: 'mmap',
      addr: hex(base + k * 0x10000),
      length: '0x8000',
      prot: 'rw-',
      flags: ['private', 'anonymous', 'fixed'],
    });
  }
  calls.push(
    { op: 'mprotect', addr: hex(base + 0x1000), length: '0x1000', prot: 'r--' },
    { op: 'anon_name', addr: hex(base + 0x10000), length: '0x8000', name: `churn ${i}` },
    { op: 'mmap', length: '0x4000', prot: 'rw-', flags: ['shared', 'anonymous'] },
    {
      op: 'mmap',
      length: '0x2000',
      prot: 'r--',
      flags: ['private'],
      path: `/churn/lib${i}.so`,
      dev: 'fe:01',
      inode: 1000 + i,
    },
    { op: 'munmap', addr: hex(base + 0x20000), length: '0x10000' },
    { op: 'brk', addr: '0x0' },
  );
  return calls;
}

async function cycle(app: FastifyInstance, i: number): Promise<void> {
  const parent = (
    await call(app, 'POST', '/processes', {
      template: TEMPLATES[i % TEMPLATES.length],
      comm: `churn${i}`,
    })
  ).pid;
  const child = (await call(app, 'POST', `/processes/${parent}/fork`)).pid;
  const { results } = await call(app, 'POST', `/proc/${child}/syscalls`, { calls: mutations(i) });
  const failed = (results as Array<{ error?: string }>).filter((r) => r.error);
  if (failed.length > 0) throw new Error(`cycle ${i}: ${JSON.stringify(failed)}`);
  if (i % 10 === 0) {
    await call(app, 'PUT', `/processes/${parent}/activity`, {
      profile: 'malloc',
      rate_per_s: 1000,
    });
    await call(app, 'DELETE', `/processes/${parent}/activity`);
  }
  await call(app, 'DELETE', `/processes/${child}`);
  await call(app, 'DELETE', `/processes/${parent}`);
}

/**
 * Runs `warmup` cycles (JIT, worker heaps, allocator thresholds), collects, then `cycles` more
 * with a collection every 50, and compares.
 */
export async function churnSoak(
  app: FastifyInstance,
  sim: SimApi,
  opts: { cycles: number; warmup: number },
): Promise<ChurnResult> {
  const gc = forcedGc();
  for (let i = 0; i < opts.warmup; i++) await cycle(app, i);
  gc();
  const before = await engineCounts(sim);
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const half = Math.floor(opts.cycles / 2);
  let rssMid = rssBefore;
  for (let i = 0; i < opts.cycles; i++) {
    await cycle(app, opts.warmup + i);
    if (i % 50 === 49) gc();
    if (i === half - 1) {
      gc();
      rssMid = process.memoryUsage().rss;
    }
  }
  const ms = performance.now() - t0;
  gc();
  const after = await engineCounts(sim);
  const rssAfter = process.memoryUsage().rss;
  return {
    cycles: opts.cycles,
    before,
    after,
    rssBefore,
    rssMid,
    rssAfter,
    rssGrowthMbPer1000: ((rssAfter - rssMid) / 1e6) * (1000 / (opts.cycles - half)),
    ms,
  };
}
