/**
 * `npm run report -- --quick --smoke --only query_point` on real threads (30 ms windows): the
 * three outputs exist and hang together, every strategy's own counters moved, nothing is torn,
 * and the kernel twin ran or said why not (printed: it depends on the host).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Row } from '../../bench/report/rows.js';
import { WRITERS } from '../../bench/workloads/definitions.js';
import { STRATEGIES } from '../../src/metrics/labels.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../bench/report/run.js', import.meta.url));

test('npm run report -- --quick --smoke --only query_point', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'procfs-sim-report-'));
  try {
    await run(
      process.execPath,
      [script, '--quick', '--smoke', '--only', 'query_point', '--out', out],
      {
        timeout: 120_000,
      },
    );
    const j = JSON.parse(readFileSync(path.join(out, 'latest.json'), 'utf8'));
    assert.equal(j.quick, true);
    assert.ok(j.machine.cpus >= 1 && typeof j.machine.kernel === 'string');
    const rows = j.rows as Row[];
    for (const r of rows) {
      assert.deepEqual(Object.keys(r).sort(), [
        'copy_bytes_per_read',
        'fallbacks_per_1k',
        'hazards',
        'line_rtt_ns',
        'mmap_lock_reads_per_1k',
        'reader',
        'reader_ops_per_s',
        'reader_p99_us',
        'reader_sleeps_per_1k',
        'reader_vs_alone',
        'retries_per_1k',
        'strategy',
        'writer',
        'writer_ops_per_s',
        'writer_p99_us',
        'writer_sleeps_per_1k',
        'writer_vs_alone',
      ]);
      assert.equal(r.reader, 'query_point');
      assert.ok(r.reader_ops_per_s > 0, `${r.strategy}/${r.writer}`);
    }
    const row = (s: string, w: string) => rows.find((r) => r.strategy === s && r.writer === w);
    for (const s of STRATEGIES) {
      for (const w of WRITERS) {
        const r = row(s, w);
        assert.ok(r, `${s}/${w}`);
        assert.equal(r.hazards!.torn, 0, `${s}/${w} torn`);
        assert.equal(r.copy_bytes_per_read, 104, 'one struct procmap_query per ioctl, no name');
        if (w !== 'none') assert.ok(r.writer_ops_per_s! > 0 && r.writer_vs_alone! > 0);
        // The line control ran before every pair, and only there (a window in which the other
        // thread never ran, on a busy machine, has no round trip: null).
        if (w === 'none') assert.equal(r.line_rtt_ns, null);
        else assert.ok(r.line_rtt_ns === null || r.line_rtt_ns > 0, `${s}/${w}`);
      }
    }
    // Each strategy's own counters: the mmap_lock reader locks once per query, per_vma never
    // (text VMAs, no fallback without a writer on them).
    assert.equal(row('mmap_lock', 'none')!.mmap_lock_reads_per_1k, 1000);
    assert.equal(row('per_vma', 'none')!.mmap_lock_reads_per_1k, 0);
    // Sleeps: counted in every simulated window. A reader sleeps only on the mmap read lock (a
    // sleep is an acquisition that waited), so never more often than it takes it, and per_vma
    // alone never does; a writer's sleeps are its waits in the writer evidence, summed.
    for (const r of rows.filter((x) => x.strategy !== 'kernel')) {
      const what = `${r.strategy}/${r.writer}`;
      assert.ok(r.reader_sleeps_per_1k !== null && r.reader_sleeps_per_1k >= 0, what);
      assert.ok(r.reader_sleeps_per_1k <= r.mmap_lock_reads_per_1k!, what);
      if (r.writer === 'none') continue;
      const ev = j.writer_evidence.find(
        (e: { strategy: string; reader: string; writer: string }) =>
          e.strategy === r.strategy && e.reader === r.reader && e.writer === r.writer,
      );
      const waits = ev.mmap_waits_per_1k + ev.vma_waits_per_1k + ev.grace_waits_per_1k;
      assert.ok(Math.abs(r.writer_sleeps_per_1k! - waits) < 1e-9, what);
    }
    // Alone, nobody holds the mmap lock against a reader: the mmap_lock reader takes it on every
    // query and never sleeps.
    assert.equal(row('per_vma', 'none')!.reader_sleeps_per_1k, 0);
    assert.equal(row('mmap_lock', 'none')!.reader_sleeps_per_1k, 0);
    // One line control window before each pair; on a loaded machine (this suite runs two test
    // files at once on two CPUs) a window may measure nothing, so only what was measured is held
    // to be consistent.
    const pairs = rows.filter((r) => r.strategy !== 'kernel' && r.writer !== 'none').length;
    assert.equal(j.line_rtt.windows, pairs);
    assert.ok(j.line_rtt.measured <= j.line_rtt.windows);
    if (j.line_rtt.measured > 0) {
      assert.ok(j.line_rtt.min_ns > 0);
      assert.ok(j.line_rtt.min_ns <= j.line_rtt.median_ns);
      assert.ok(j.line_rtt.median_ns <= j.line_rtt.max_ns);
    } else assert.equal(j.line_rtt.median_ns, null);
    assert.match(readFileSync(path.join(out, 'REPORT.md'), 'utf8'), /^Line control: /m);
    assert.ok(
      j.line_rtt.min_ns <= j.line_rtt.median_ns && j.line_rtt.median_ns <= j.line_rtt.max_ns,
    );
    const kernel = rows.filter((r) => r.strategy === 'kernel');
    for (const r of kernel) assert.equal(r.line_rtt_ns, null);
    t.diagnostic(
      `kernel twin: ${kernel.length} rows; unsupported here: ${JSON.stringify(j.kernel.unsupported)}; error: ${j.kernel.error}`,
    );
    if (
      j.kernel.error === null &&
      !j.kernel.unsupported.some((u: { name: string }) => u.name === 'PROCMAP_QUERY')
    ) {
      for (const w of ['none', 'cold', 'hot']) assert.ok(row('kernel', w), `kernel/${w}`);
      // The twin counts its threads' sleeps too (voluntary context switches).
      for (const r of rows.filter((x) => x.strategy === 'kernel')) {
        assert.ok(
          r.reader_sleeps_per_1k !== null && r.reader_sleeps_per_1k >= 0,
          `kernel/${r.writer}`,
        );
        if (r.writer !== 'none') assert.ok(r.writer_sleeps_per_1k! >= 0, `kernel/${r.writer}`);
      }
      // The twin's writers also ran beside a sibling thread with no reader (its control).
      const sibling = j.kernel.sibling as Array<{ writer: string; writer_vs_alone: number }>;
      assert.deepEqual(
        sibling.map((c) => c.writer).sort(),
        ['close', 'cold', 'hot', 'names'].filter(
          (w) =>
            w === 'cold' ||
            w === 'hot' ||
            !j.kernel.unsupported.some((u: { name: string }) => u.name === 'anon_names'),
        ),
      );
      for (const c of sibling) assert.ok(c.writer_vs_alone > 0, JSON.stringify(c));
      t.diagnostic(`kernel twin, writer beside a sibling thread: ${JSON.stringify(sibling)}`);
    }
    assert.ok(
      j.goals.length >= 10 &&
        j.goals.every((g: { met: unknown }) => g.met === null || typeof g.met === 'boolean'),
    );
    // The fault workload ran under both strategies and its goal rows are computed.
    for (const f of j.faults as Array<{
      strategy: string;
      alone_p99_us: number;
      faults_per_s_beside: number;
    }>) {
      assert.ok(f.alone_p99_us > 0 && f.faults_per_s_beside > 0, JSON.stringify(f));
    }
    assert.deepEqual(
      (j.faults as Array<{ strategy: string }>).map((f) => f.strategy),
      ['mmap_lock', 'per_vma'],
    );
    assert.ok(
      j.goals.some((g: { goal: string }) => /mmap_lock maps reader slows faults/.test(g.goal)),
    );
    const md = readFileSync(path.join(out, 'REPORT.md'), 'utf8');
    assert.match(md, /fault p99 beside a per_vma maps reader/);
    assert.match(md, /## Goals/);
    assert.match(md, /## Verdict[\s\S]*\*\*query_point\.\*\* Alone, \w+ reads fastest at/);
    const svg = readFileSync(path.join(out, 'chart.svg'), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok((svg.match(/<rect /g) ?? []).length > 40, 'bars drawn');
    const samples = JSON.parse(readFileSync(path.join(out, 'samples.json'), 'utf8'));
    assert.ok(samples.length > 50);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
