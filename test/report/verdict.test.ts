/**
 * The verdict and the goals are computed from rows, never written by hand: synthetic rows whose
 * numbers are changed must change the sentences and the yes/no accordingly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeGoals } from '../../bench/report/goals.js';
import type { SiblingControl } from '../../bench/report/kernel-twin.js';
import { MECHANISMS } from '../../bench/report/mechanism.js';
import type { Computed, Row } from '../../bench/report/rows.js';
import { computeVerdict } from '../../bench/report/verdict.js';

function row(p: Partial<Row> & Pick<Row, 'strategy' | 'reader' | 'writer'>): Row {
  return {
    reader_ops_per_s: 1000,
    reader_vs_alone: 1,
    writer_ops_per_s: p.writer === 'none' ? null : 500,
    writer_vs_alone: p.writer === 'none' ? null : 1,
    reader_p99_us: 10,
    writer_p99_us: p.writer === 'none' ? null : 5,
    retries_per_1k: 0,
    fallbacks_per_1k: { contention: 0, fancy_vma: 0, detached: 0, retry_limit: 0 },
    hazards: { use_after_free: 0, null_deref: 0, torn: 0 },
    mmap_lock_reads_per_1k: 0,
    copy_bytes_per_read: 104,
    reader_sleeps_per_1k: null,
    writer_sleeps_per_1k: null,
    line_rtt_ns: p.writer === 'none' ? null : 120,
    ...p,
  };
}

/** The kernel twin's writer beside a sibling thread (kernel-twin.ts SiblingControl). */
function sibling(writer: 'cold' | 'hot', w: number, s: number | null): SiblingControl {
  return {
    writer,
    writer_vs_alone: w,
    sibling_vs_alone: s,
    tlb_per_1k_alone: null,
    tlb_per_1k_beside: null,
  };
}

const baseRows = (): Row[] => [
  row({ strategy: 'mmap_lock', reader: 'query_point', writer: 'none', reader_ops_per_s: 200_000 }),
  row({ strategy: 'per_vma', reader: 'query_point', writer: 'none', reader_ops_per_s: 400_000 }),
  row({ strategy: 'lockless', reader: 'query_point', writer: 'none', reader_ops_per_s: 300_000 }),
  row({
    strategy: 'mmap_lock',
    reader: 'query_point',
    writer: 'cold',
    reader_ops_per_s: 50_000,
    reader_vs_alone: 0.25,
    writer_vs_alone: 0.4,
  }),
  row({
    strategy: 'per_vma',
    reader: 'query_point',
    writer: 'cold',
    reader_ops_per_s: 390_000,
    reader_vs_alone: 0.97,
    writer_vs_alone: 0.95,
  }),
  row({
    strategy: 'lockless',
    reader: 'query_point',
    writer: 'cold',
    reader_ops_per_s: 150_000,
    reader_vs_alone: 0.5,
    writer_vs_alone: 0.93,
    retries_per_1k: 480,
  }),
  row({
    strategy: 'kernel',
    reader: 'query_point',
    writer: 'cold',
    reader_vs_alone: 0.98,
    writer_vs_alone: 0.96,
    retries_per_1k: null,
    fallbacks_per_1k: null,
    hazards: null,
    mmap_lock_reads_per_1k: null,
    copy_bytes_per_read: null,
  }),
];

test('the fastest reader, its ratio and the writer cost are named with their numbers', () => {
  const [v] = computeVerdict(baseRows());
  assert.equal(v.reader, 'query_point');
  const text = v.sentences.join(' ');
  assert.match(text, /Alone, per_vma reads fastest at 400\.0 k ops\/s \(2\.00× mmap_lock/);
  assert.match(
    text,
    /Beside the cold writer, per_vma reads fastest at 390\.0 k ops\/s \(0\.97× alone\) and leaves the writer 0\.95× its solo rate/,
  );
  assert.match(
    text,
    /the writer fares best beside per_vma \(0\.95×\) and worst beside mmap_lock \(0\.40×\)/,
  );
  assert.match(
    text,
    /host kernel on the same pair: reader 0\.98× alone, writer 0\.96× alone \(per_vma: reader 0\.97×, writer 0\.95×\)/,
  );
  assert.match(
    text,
    /Retries appear for lockless; the most is 480 per 1,000 reads \(lockless beside the cold writer\)/,
  );
  assert.match(text, /No strategy fell back/);
  assert.match(text, /No hazard in any row/);
  assert.match(text, /No torn line or answer in any of the 6 rows/);
});

test("the kernel's writer beside a sibling thread, when measured, is quoted with its pair", () => {
  const text = computeVerdict(baseRows(), [sibling('cold', 0.26, 0.5)])[0].sentences.join(' ');
  assert.match(
    text,
    /host kernel on the same pair: reader 0\.98× alone, writer 0\.96× alone \(beside a sibling thread and no reader: writer 0\.26×, the sibling 0\.50×; per_vma: reader 0\.97×, writer 0\.95×\)\./,
  );
  // Another writer's figure is not borrowed.
  const other = computeVerdict(baseRows(), [sibling('hot', 0.5, null)])[0].sentences.join(' ');
  assert.doesNotMatch(other, /sibling/);
});

test('sleeps, where both sides counted them, are quoted for the kernel and per_vma', () => {
  const rows = baseRows();
  rows[4] = { ...rows[4], reader_sleeps_per_1k: 253.4, writer_sleeps_per_1k: 18 };
  rows[6] = { ...rows[6], reader_sleeps_per_1k: 45.2, writer_sleeps_per_1k: 3.25 };
  const text = computeVerdict(rows)[0].sentences.join(' ');
  assert.match(
    text,
    /host kernel on the same pair: reader 0\.98× alone, writer 0\.96× alone, asleep 45 per 1,000 reads and 3\.25 per 1,000 writes \(per_vma: reader 0\.97×, writer 0\.95×, asleep 253 per 1,000 reads and 18 per 1,000 writes\)\./,
  );
  // None at all reads as 0.
  rows[6] = { ...rows[6], reader_sleeps_per_1k: 0, writer_sleeps_per_1k: 0 };
  assert.match(
    computeVerdict(rows)[0].sentences.join(' '),
    /writer 0\.96× alone, asleep 0 per 1,000 reads and 0 per 1,000 writes \(/,
  );
  rows[6] = { ...rows[6], reader_sleeps_per_1k: 45.2, writer_sleeps_per_1k: 3.25 };
  // A side that did not count them says nothing about sleeps.
  rows[4] = { ...rows[4], writer_sleeps_per_1k: null };
  const partial = computeVerdict(rows)[0].sentences.join(' ');
  assert.match(partial, /per_vma: reader 0\.97×, writer 0\.95×\)/);
  assert.match(partial, /writer 0\.96× alone, asleep 45 per 1,000 reads/);
});

test('the sentences follow the numbers when they change', () => {
  const rows = baseRows();
  rows[5] = { ...rows[5], reader_ops_per_s: 900_000, reader_vs_alone: 3 };
  rows[4] = { ...rows[4], hazards: { use_after_free: 0, null_deref: 0, torn: 2 } };
  rows.push(
    row({
      strategy: 'lockless_nofallback',
      reader: 'query_point',
      writer: 'names',
      hazards: { use_after_free: 7, null_deref: 0, torn: 0 },
    }),
    row({
      strategy: 'lockless',
      reader: 'query_point',
      writer: 'names',
      fallbacks_per_1k: { contention: 0, fancy_vma: 12.5, detached: 0, retry_limit: 1 },
    }),
  );
  let text = computeVerdict(rows)[0].sentences.join(' ');
  assert.match(
    text,
    /Beside the cold writer, lockless reads fastest at 900\.0 k ops\/s \(3\.00× alone\)/,
  );
  assert.match(text, /TORN output: per_vma beside cold \(2\)/);
  assert.match(
    text,
    /Hazards: lockless_nofallback beside names \(7 use_after_free, 0 null_deref\)/,
  );
  assert.match(
    text,
    /Fallbacks to the mmap lock peak at 14 per 1,000 reads \(lockless beside the names writer, mostly fancy_vma\)/,
  ); // Writer `none`: the reader alone.
  rows.push(
    row({
      strategy: 'lockless',
      reader: 'query_point',
      writer: 'none',
      fallbacks_per_1k: { contention: 0, fancy_vma: 20, detached: 0, retry_limit: 0 },
    }),
  );
  text = computeVerdict(rows)[0].sentences.join(' ');
  assert.match(text, /peak at 20 per 1,000 reads \(lockless alone, mostly fancy_vma\)/);
});

function computed(rows: Row[]): Computed {
  return {
    rows,
    evidence: [],
    writerAlone: [{ strategy: 'per_vma', writer: 'cold', ops_per_s: 500, p99_us: 4 }],
    control: 1,
    lineRtt: null,
  };
}

test('goals are yes/no from the rows, "not measured" when their rows are missing', () => {
  const rows = baseRows();
  rows.push(
    row({
      strategy: 'per_vma',
      reader: 'maps',
      writer: 'cold',
      writer_vs_alone: 0.8,
      reader_vs_alone: 0.95,
      writer_p99_us: 5,
    }),
  );
  const all = new Set<string>(MECHANISMS);
  const goals = computeGoals(computed(rows), all, () => false);
  const g = (prefix: string) => goals.find((x) => x.goal.startsWith(prefix))!;
  assert.equal(g('cold writer + 1 maps reader: per_vma writer').met, false);
  assert.equal(g('cold writer + 1 maps reader: per_vma writer').measured, '0.80×');
  assert.equal(g('cold writer + 1 query_point reader: per_vma writer').met, true);
  assert.equal(g('cold writer + 1 query_point reader: lockless writer').met, true);
  assert.equal(g('cold writer + 1 query_point reader: lockless_nofallback writer').met, null);
  assert.equal(g('cold writer + 1 maps reader: per_vma reader').met, true);
  // p99 5 µs beside vs 4 µs alone = 1.25x <= 1.5
  assert.equal(g('per_vma writer p99').met, true);
  assert.match(g('per_vma writer p99').measured, /^1\.25×/);
  assert.equal(g('hazards only').met, true);
  assert.equal(g('no torn').met, true);
  assert.equal(g("every row's mechanism").met, true);
  // Missing kernel twins: query_point rows of per_vma have one for cold only.
  assert.equal(g('a kernel twin').met, false);
  assert.equal(
    computeGoals(computed(rows), all, () => true).find((x) => x.goal.startsWith('a kernel twin'))!
      .met,
    true,
  );

  rows.push(
    row({
      strategy: 'lockless',
      reader: 'maps',
      writer: 'names',
      hazards: { use_after_free: 1, null_deref: 0, torn: 0 },
    }),
  );
  const bad = computeGoals(computed(rows), new Set(['cpu_share']), () => true);
  assert.equal(bad.find((x) => x.goal.startsWith('hazards only'))!.met, false);
  assert.match(
    bad.find((x) => x.goal.startsWith('hazards only'))!.measured,
    /lockless\/maps\/names/,
  );
  assert.equal(bad.find((x) => x.goal.startsWith("every row's mechanism"))!.met, false);
});
