/**
 * The report's fault rows (bench/report/faults.ts): the two windows of a repetition differ only
 * in the reader (both run three threads, a spinning one in the reader's place), and the goal rows
 * are the ratios of the figures they name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FaultRow, faultGoals, faultWindows } from '../../bench/report/faults.js';

test('without a reader, a spinning thread takes its place: both windows run three threads', () => {
  for (const strategy of ['mmap_lock', 'per_vma'] as const) {
    const { alone, beside } = faultWindows(strategy, 7);
    assert.equal(alone.length, beside.length);
    assert.deepEqual(alone[0], { role: 'faulter', strategy });
    assert.deepEqual(beside[0], alone[0]);
    assert.deepEqual(
      alone.map((c) => c.role),
      ['faulter', 'writer', 'spin'],
    );
    assert.deepEqual(
      beside.map((c) => c.role),
      ['faulter', 'writer', 'reader'],
    );
    const reader = beside[2];
    assert.ok(reader.role === 'reader' && reader.reader === 'maps' && reader.strategy === strategy);
    // Every thread of both windows has its own seed.
    const seeds = [...alone, ...beside].flatMap((c) => ('seed' in c ? [c.seed] : []));
    assert.equal(new Set(seeds).size, seeds.length);
  }
});

test('goal rows: per_vma beside / without, and mmap_lock beside against per_vma beside', () => {
  const row = (strategy: FaultRow['strategy'], alone: number, beside: number): FaultRow => ({
    strategy,
    alone_p99_us: alone,
    beside_p99_us: beside,
    faults_per_s_alone: 1,
    faults_per_s_beside: 1,
  });
  const [pv, ml] = faultGoals([row('mmap_lock', 2, 40), row('per_vma', 2, 2.5)]);
  assert.equal(pv.met, true);
  assert.match(pv.measured, /^1\.25× \(2\.5 vs 2\.0 µs without\)$/);
  assert.equal(ml.met, true);
  // The ratio in parentheses is mmap_lock's own, written next to it.
  assert.equal(ml.measured, 'mmap_lock 40.0 µs (20.00× without a reader) vs per_vma 2.5 µs');
  const [pv2, ml2] = faultGoals([row('mmap_lock', 2, 2), row('per_vma', 2, 3.2)]);
  assert.equal(pv2.met, false);
  assert.equal(ml2.met, false);
  assert.deepEqual(
    faultGoals([row('per_vma', 2, 2)]).map((g) => g.met),
    [true, null],
  );
});
