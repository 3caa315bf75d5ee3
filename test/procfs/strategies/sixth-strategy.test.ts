/**
 * Adding a strategy is one new file plus one line. The test copies the sources (src/, routes/,
 * package.json) into a temporary directory, adds ONE file, `src/procfs/strategies/sixth-test.ts`
 * (a strategy that takes the mmap read lock around every single VMA), and ONE line, its name
 * appended to STRATEGIES in src/metrics/labels.ts, and changes nothing else. Then:
 *   - the copy type-checks and builds with the repo's tsc (no other list to extend);
 *   - through the real app (`--cpus 0`, and worker CPUs reading), `?strategy=sixth_test` is
 *     accepted by the schemas (an unknown name still is not), answers maps and PROCMAP_QUERY
 *     exactly as `mmap_lock` does, and /metrics has its label in every strategy family (the
 *     instrument layout grew) with its own counters moved: one mmap read lock and one
 *     speculation attempt per VMA read, reads counted under its name.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../http/server-process.js';

const run = promisify(execFile);

/** The whole new strategy: what a contributor writes. */
const STRATEGY_FILE = `/** sixth_test: the mmap read lock around each VMA's lookup and copy (a test strategy). */
import type { MmStruct } from '../../mm/mm-struct.js';
import type { ByteSink } from '../byte-sink.js';
import { type MapsPosition, readMapsChunk } from '../maps-text.js';
import type { QueryTarget } from '../procmap-query.js';
import { captureVma } from '../vma-capture.js';
import type { VmaView } from '../vma-view.js';
import { defineStrategy } from './read-strategy.js';
import type { ReaderContext } from './reader-context.js';

function lockedNext(ctx: ReaderContext, mm: MmStruct, from: number, view: VmaView): number {
  ctx.attempt();
  ctx.mmapReadLock(mm);
  const id = mm.findVma(from);
  if (id !== 0) captureVma(mm, id, view);
  ctx.mmapReadUnlock(mm);
  return id === 0 ? 0 : 1;
}

export default defineStrategy('sixth_test', {
  readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
    const walker = {
      hasGate: true,
      next: (from: number, view: VmaView) => lockedNext(ctx, mm, from, view),
    };
    return readMapsChunk(pos, limit, walker, sink, ctx.view);
  },
  queryTarget(ctx: ReaderContext, mm: MmStruct): QueryTarget {
    return {
      alive: () => true,
      setup: () => 0,
      next: (addr: number, view: VmaView) => lockedNext(ctx, mm, addr, view),
      teardown() {},
      buildId: (fileId: number) => mm.files.buildId(fileId),
    };
  },
});
`;

/** Runs in the copy: the app over both transports; prints what it saw as JSON. */
const DRIVER = `
import { Sim } from './dist/src/cpus/sim.js';
import { buildApp } from './dist/src/app.js';
import { defaultConfig } from './dist/src/config.js';

const TEXT = [
  '00600000-00602000 r--p 00000000 fe:01 77                                 /opt/sixth/bin',
  '00602000-00603000 r-xp 00002000 fe:01 77                                 /opt/sixth/bin',
  '7f1000000000-7f1000008000 rw-p 00000000 00:00 0 ',
  '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  '',
].join('\\n');
const out = {};
for (const [name, cpus, reads] of [['event loop', 0, 'event-loop'], ['workers', 1, 'workers']]) {
  const config = defaultConfig({ port: 0, cpus, population: 0, maxEventLoopDelayMs: 0, logLevel: 'silent' });
  const sim = await Sim.start({ ...config, cpus, reads, population: 0 });
  const app = await buildApp({ config, sim });
  await app.ready();
  const get = (url) => app.inject({ method: 'GET', url });
  const json = { 'content-type': 'application/json' };
  const pid = (await app.inject({ method: 'POST', url: '/processes', headers: json, payload: { maps: TEXT } })).json().pid;
  const q = (s) => app.inject({ method: 'POST', url: '/proc/' + pid + '/procmap_query?strategy=' + s, headers: json,
    payload: { queries: [{ addr: '0x0', flags: 'COVERING_OR_NEXT_VMA', name: true }, { addr: '0x500000' }] } });
  const r = {
    maps: (await get('/proc/' + pid + '/maps?strategy=sixth_test&chunk=200')).body,
    mapsRef: (await get('/proc/' + pid + '/maps?strategy=mmap_lock')).body,
    unknown: (await get('/proc/' + pid + '/maps?strategy=seventh')).statusCode,
    query: (await q('sixth_test')).body,
    queryRef: (await q('mmap_lock')).body,
  };
  r.metrics = (await get('/metrics')).body.split('\\n').filter((l) => l.includes('strategy="sixth_test"'));
  await app.close();
  out[name] = r;
}
console.log(JSON.stringify(out));
`;

test('a sixth strategy = one new file + one line in STRATEGIES', async () => {
  const repo = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'procfs-sim-sixth-'));
  try {
    for (const d of ['src', 'routes']) cpSync(join(repo, d), join(dir, d), { recursive: true });
    cpSync(join(repo, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const tsconfig = JSON.parse(readFileSync(join(repo, 'tsconfig.json'), 'utf8'));
    tsconfig.include = ['src/**/*.ts', 'routes/**/*.ts'];
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));

    // The one file.
    writeFileSync(join(dir, 'src/procfs/strategies/sixth-test.ts'), STRATEGY_FILE);
    // The one line.
    const labels = join(dir, 'src/metrics/labels.ts');
    const before = readFileSync(labels, 'utf8');
    const after = before.replace(
      "  'lockless_nofallback',\n] as const;",
      "  'lockless_nofallback',\n  'sixth_test',\n] as const;",
    );
    assert.notEqual(after, before, 'STRATEGIES no longer ends with lockless_nofallback');
    assert.equal(after.split('\n').length, before.split('\n').length + 1);
    writeFileSync(labels, after);

    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', dir], { maxBuffer: 1 << 24 }).catch((e) => {
      assert.fail(`the copy with a sixth strategy does not type-check:\n${e.stdout}${e.stderr}`);
    });
    writeFileSync(join(dir, 'driver.mjs'), DRIVER);
    const { stdout } = await run(process.execPath, [join(dir, 'driver.mjs')], {
      cwd: dir,
      maxBuffer: 1 << 24,
    });
    const seen = JSON.parse(stdout) as Record<string, Record<string, string & string[]>>;
    for (const [transport, r] of Object.entries(seen)) {
      assert.equal(r.maps, r.mapsRef, transport);
      assert.ok(r.maps.endsWith('[vsyscall]\n'), transport);
      assert.equal(Number(r.unknown), 400, `${transport}: an unknown strategy is refused`);
      assert.equal(r.query, r.queryRef, transport);
      const metric = (series: string) => {
        const line = r.metrics.find((l: string) => l.startsWith(series));
        assert.ok(line, `${transport}: no series ${series}`);
        return Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      // 5 lines in chunks of 200 bytes: every VMA read under its own lock; a line that did not
      // fit is looked up again, so at least 4 VMA reads.
      const lockWaits = metric(
        'procfs_lock_wait_seconds_count{lock="mmap_lock",mode="read",strategy="sixth_test"}',
      );
      const attempts = metric('procfs_speculation_attempts_total{op="maps",strategy="sixth_test"}');
      assert.ok(attempts >= 4, `${transport}: ${attempts} attempts`);
      // Queries: 2 lookups (COVERING_OR_NEXT_VMA walks), each under the lock.
      const queryAttempts = metric(
        'procfs_speculation_attempts_total{op="query",strategy="sixth_test"}',
      );
      assert.ok(queryAttempts >= 2, `${transport}: ${queryAttempts} query attempts`);
      assert.equal(lockWaits, attempts + queryAttempts, transport);
      assert.equal(metric('procfs_reads_total{op="maps",strategy="sixth_test"}'), 1, transport);
      // The label exists in the fallback family from the start (layout derived from STRATEGIES).
      assert.equal(
        metric('procfs_fallbacks_total{op="maps",strategy="sixth_test",reason="contention"}'),
        0,
      );
    }
    assert.deepEqual(Object.keys(seen), ['event loop', 'workers']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
