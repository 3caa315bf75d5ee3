/**
 * The report's row computation (bench/report/rows.ts) on a recorded run: the raw windows of a
 * `--smoke --only query_point,maps` run (test/fixtures/report/samples-smoke.json). Each checked
 * field is recomputed here by hand from the samples it must come from.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { computeRows, findRow } from '../../bench/report/rows.js';
import { rate, type Sample } from '../../bench/report/samples.js';
import { WRITERS } from '../../bench/workloads/definitions.js';
import { STRATEGIES } from '../../src/metrics/labels.js';

const samples: Sample[] = JSON.parse(
  readFileSync(
    new URL('../../../test/fixtures/report/samples-smoke.json', import.meta.url),
    'utf8',
  ),
);

function one(pred: (s: Sample) => boolean): Sample {
  const found = samples.filter(pred);
  assert.equal(found.length, 1);
  return found[0];
}

test('one row per strategy (and the kernel) × reader × writer of the recorded run', () => {
  const { rows } = computeRows(samples);
  for (const reader of ['query_point', 'maps'] as const) {
    for (const s of STRATEGIES) {
      for (const w of WRITERS) assert.ok(findRow(rows, s, reader, w), `${s}/${reader}/${w}`);
    }
    // This host has no CONFIG_ANON_VMA_NAME: the kernel twin ran cold and hot only.
    for (const w of ['none', 'cold', 'hot'] as const) assert.ok(findRow(rows, 'kernel', reader, w));
  }
  assert.equal(rows.length, 2 * (STRATEGIES.length * WRITERS.length + 3));
});

test('a pair row: rates, ratios to the same rep alone, counters per 1,000 reads', () => {
  const { rows } = computeRows(samples);
  const pair = one(
    (s) =>
      s.kind === 'pair' && s.strategy === 'per_vma' && s.reader === 'maps' && s.writer === 'cold',
  );
  const alone = one(
    (s) => s.kind === 'reader_alone' && s.strategy === 'per_vma' && s.reader === 'maps',
  );
  const wAlone = one(
    (s) => s.kind === 'writer_alone' && s.strategy === 'per_vma' && s.writer === 'cold',
  );
  const row = findRow(rows, 'per_vma', 'maps', 'cold')!;
  const r = pair.r!;
  const c = r.counters!;
  assert.equal(row.reader_ops_per_s, rate(r));
  assert.equal(row.reader_vs_alone, rate(r) / rate(alone.r!));
  assert.equal(row.writer_ops_per_s, rate(pair.w!));
  assert.equal(row.writer_vs_alone, rate(pair.w!) / rate(wAlone.w!));
  assert.equal(row.reader_p99_us, r.p99Ns / 1000);
  assert.equal(row.writer_p99_us, pair.w!.p99Ns / 1000);
  assert.equal(row.retries_per_1k, (c.retries * 1000) / r.ops);
  assert.equal(row.mmap_lock_reads_per_1k, (c.mmapLocks * 1000) / r.ops);
  assert.equal(row.copy_bytes_per_read, c.bytes / r.ops);
  assert.deepEqual(row.fallbacks_per_1k, {
    contention: (c.fallbacks[0] * 1000) / r.ops,
    fancy_vma: (c.fallbacks[1] * 1000) / r.ops,
    detached: (c.fallbacks[2] * 1000) / r.ops,
    retry_limit: (c.fallbacks[3] * 1000) / r.ops,
  });
  assert.deepEqual(row.hazards, {
    use_after_free: c.hazards[0],
    null_deref: c.hazards[1],
    torn: c.torn,
  });
});

test('the hot pairs are compared with the reader alone on the hot VMA', () => {
  const { rows } = computeRows(samples);
  const pair = one(
    (s) =>
      s.kind === 'pair' &&
      s.strategy === 'lockless' &&
      s.reader === 'query_point' &&
      s.writer === 'hot',
  );
  const hotAlone = one(
    (s) =>
      s.kind === 'reader_alone' && s.strategy === 'lockless' && s.reader === 'query_point' && s.hot,
  );
  assert.equal(pair.hot, true);
  assert.equal(
    findRow(rows, 'lockless', 'query_point', 'hot')!.reader_vs_alone,
    rate(pair.r!) / rate(hotAlone.r!),
  );
  // The writer `none` row is the reader alone on all text VMAs, not the hot one.
  const plain = one(
    (s) =>
      s.kind === 'reader_alone' &&
      s.strategy === 'lockless' &&
      s.reader === 'query_point' &&
      !s.hot,
  );
  assert.equal(findRow(rows, 'lockless', 'query_point', 'none')!.reader_ops_per_s, rate(plain.r!));
});

test('maps reads by the mmap_lock strategy take the mmap lock once per 4 KiB chunk', () => {
  const { rows } = computeRows(samples);
  const row = findRow(rows, 'mmap_lock', 'maps', 'none')!;
  const chunks = Math.ceil(row.copy_bytes_per_read! / 4096);
  assert.ok(
    row.mmap_lock_reads_per_1k! >= chunks * 1000,
    `${row.mmap_lock_reads_per_1k} for ${chunks} chunks`,
  );
  assert.equal(findRow(rows, 'mmap_lock', 'query_point', 'none')!.mmap_lock_reads_per_1k, 1000);
  assert.equal(findRow(rows, 'per_vma', 'query_point', 'none')!.mmap_lock_reads_per_1k, 0);
});

test('kernel rows carry rates and ratios but no counters; the control comes from the spin windows', () => {
  const c = computeRows(samples);
  const k = findRow(c.rows, 'kernel', 'query_point', 'cold')!;
  assert.ok(k.reader_ops_per_s > 0 && k.writer_vs_alone! > 0);
  for (const f of [
    'retries_per_1k',
    'fallbacks_per_1k',
    'hazards',
    'mmap_lock_reads_per_1k',
    'copy_bytes_per_read',
  ] as const) {
    assert.equal(k[f], null, f);
  }
  const one1 = one((s) => s.kind === 'spin_alone');
  const two = one((s) => s.kind === 'spin_pair');
  assert.equal(c.control, Math.min(rate(two.r!), rate(two.w!)) / rate(one1.r!));
  // Writer evidence for every simulated pair and writer alone; none for the kernel.
  assert.equal(c.evidence.filter((e) => e.strategy === 'kernel').length, 0);
  assert.equal(c.evidence.length, 2 * STRATEGIES.length * 4 + STRATEGIES.length * 4);
});

test('ratios are medians over repetitions, each against its own repetition', () => {
  const w = (ops: number) => ({ ops, seconds: 1, p99Ns: 1000 });
  const base = { strategy: 'per_vma', reader: 'maps', hot: false } as const;
  const synth: Sample[] = [];
  // rep: alone 100, beside 90 / 50 / 80 -> ratios 0.9, 0.5 (alone 100), 0.4 (alone 200)
  for (const [rep, alone, beside] of [
    [0, 100, 90],
    [1, 100, 50],
    [2, 200, 80],
  ]) {
    synth.push({ ...base, kind: 'reader_alone', writer: 'none', rep, r: w(alone), w: null });
    synth.push({ ...base, kind: 'pair', writer: 'cold', rep, r: w(beside), w: w(10) });
    synth.push({
      ...base,
      kind: 'writer_alone',
      reader: 'none',
      writer: 'cold',
      rep,
      r: null,
      w: w(20),
    });
  }
  const row = findRow(computeRows(synth).rows, 'per_vma', 'maps', 'cold')!;
  assert.equal(row.reader_vs_alone, 0.5);
  assert.equal(row.reader_ops_per_s, 80);
  assert.equal(row.writer_vs_alone, 0.5);
});

test('sleeps per 1,000 ops: summed over the windows, null where a window did not count them', () => {
  const w = (ops: number, sleeps?: number) => ({
    ops,
    seconds: 1,
    p99Ns: 1000,
    ...(sleeps === undefined ? {} : { sleeps }),
  });
  const base = { strategy: 'kernel', reader: 'maps', hot: false } as const;
  const synth: Sample[] = [];
  for (const [rep, readerSleeps, writerSleeps] of [
    [0, 10, 1],
    [1, 30, 3],
  ]) {
    synth.push({ ...base, kind: 'reader_alone', writer: 'none', rep, r: w(100, 0), w: null });
    synth.push({
      ...base,
      kind: 'pair',
      writer: 'cold',
      rep,
      r: w(200, readerSleeps),
      w: w(1000, writerSleeps),
    });
    synth.push({
      ...base,
      kind: 'pair',
      writer: 'hot',
      rep,
      r: w(200, readerSleeps),
      w: w(1000, rep === 0 ? undefined : writerSleeps),
    });
  }
  const { rows } = computeRows(synth);
  const cold = findRow(rows, 'kernel', 'maps', 'cold')!;
  // (10 + 30) sleeps in 400 reads; (1 + 3) in 2,000 writes.
  assert.equal(cold.reader_sleeps_per_1k, 100);
  assert.equal(cold.writer_sleeps_per_1k, 2);
  assert.equal(findRow(rows, 'kernel', 'maps', 'none')!.reader_sleeps_per_1k, 0);
  assert.equal(findRow(rows, 'kernel', 'maps', 'none')!.writer_sleeps_per_1k, null);
  const hot = findRow(rows, 'kernel', 'maps', 'hot')!;
  assert.equal(hot.reader_sleeps_per_1k, 100);
  assert.equal(hot.writer_sleeps_per_1k, null, 'one writer window did not count its sleeps');
  // The recorded run predates the count: no row claims a figure.
  assert.ok(computeRows(samples).rows.every((r) => r.reader_sleeps_per_1k === null));
});

test('the line control: a pair row carries the round trip measured just before it', () => {
  // The recorded run predates the control: add one bounce window before two of its pairs.
  const bounce = (writer: 'cold' | 'hot' | 'close', p50Ns: number | undefined): Sample => ({
    kind: 'bounce',
    strategy: 'per_vma',
    reader: 'maps',
    writer,
    hot: false,
    rep: 0,
    r: { ops: 1000, seconds: 0.001, p99Ns: 0, p50Ns },
    w: { ops: 1000, seconds: 0.001, p99Ns: 0 },
  });
  const before = computeRows(samples);
  assert.equal(before.lineRtt, null);
  assert.ok(before.rows.every((r) => r.line_rtt_ns === null));
  const { rows, lineRtt } = computeRows([
    ...samples,
    bounce('cold', 200),
    bounce('hot', 400),
    // A window without a full batch (a thread hardly ran) measures nothing.
    { ...bounce('close', undefined), strategy: 'per_vma' },
  ]);
  assert.equal(findRow(rows, 'per_vma', 'maps', 'cold')!.line_rtt_ns, 200);
  assert.equal(findRow(rows, 'per_vma', 'maps', 'hot')!.line_rtt_ns, 400);
  assert.equal(findRow(rows, 'per_vma', 'maps', 'close')!.line_rtt_ns, null, 'no full batch');
  assert.equal(findRow(rows, 'per_vma', 'maps', 'none')!.line_rtt_ns, null, 'no pair, no control');
  assert.equal(findRow(rows, 'kernel', 'maps', 'cold')!.line_rtt_ns, null);
  assert.equal(findRow(rows, 'mmap_lock', 'maps', 'cold')!.line_rtt_ns, null, 'not measured');
  assert.deepEqual(lineRtt, {
    windows: 3,
    measured: 2,
    median_ns: 300,
    min_ns: 200,
    max_ns: 400,
  });
  // Windows that all measured nothing: counted, no figure.
  const idle = computeRows([...samples, { ...bounce('close', undefined), strategy: 'per_vma' }]);
  assert.deepEqual(idle.lineRtt, {
    windows: 1,
    measured: 0,
    median_ns: null,
    min_ns: null,
    max_ns: null,
  });
});
