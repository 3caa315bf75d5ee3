import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstrumentAggregator, type InstrumentTotals } from '../../src/metrics/aggregator.js';
import { Instruments } from '../../src/metrics/instruments.js';
import {
  fallbackReasonId,
  hazardKindId,
  mutationOpId,
  mutationResultId,
  readOpId,
  STRATEGIES,
  strategyId,
} from '../../src/metrics/labels.js';
import { ratesByStrategy, totalRates } from '../../src/metrics/rates.js';

const at = (t: InstrumentTotals, seconds: number): InstrumentTotals => ({
  atNs: seconds * 1e9,
  cells: t.cells,
});

describe('rates between two totals snapshots', () => {
  it('give per-strategy reads, retries, fallbacks, hazards and global mutations per second', () => {
    const instruments = Instruments.create({ capacity: 1 });
    const rec = instruments.recorder();
    const aggregator = new InstrumentAggregator(instruments);
    rec.read(readOpId('maps'), strategyId('per_vma'), 500); // before the window: not counted
    const t0 = at(aggregator.totals(), 10);

    for (let i = 0; i < 4; i++) rec.read(readOpId('maps'), strategyId('per_vma'), 1000);
    for (let i = 0; i < 6; i++) rec.read(readOpId('query'), strategyId('per_vma'), 1000);
    for (let i = 0; i < 8; i++) rec.read(readOpId('query'), strategyId('lockless'), 1000);
    rec.speculation(readOpId('maps'), strategyId('lockless'), 5, 3);
    rec.speculation(readOpId('query'), strategyId('lockless'), 4, 3);
    rec.speculation(readOpId('query'), strategyId('snapshot'), 2, 1);
    rec.fallback(readOpId('maps'), strategyId('per_vma'), fallbackReasonId('contention'));
    rec.fallback(readOpId('query'), strategyId('per_vma'), fallbackReasonId('detached'));
    rec.fallback(readOpId('query'), strategyId('lockless'), fallbackReasonId('fancy_vma'));
    for (let i = 0; i < 4; i++) {
      rec.hazard(
        hazardKindId(i % 2 ? 'null_deref' : 'use_after_free'),
        strategyId('lockless_nofallback'),
      );
    }
    rec.mutation(mutationOpId('mmap'), mutationResultId(0x1000), 2000);
    rec.mutation(mutationOpId('munmap'), mutationResultId(-22), 2000);
    rec.mutation(mutationOpId('fork'), mutationResultId(0), 2000);
    rec.mutation(mutationOpId('brk'), mutationResultId(0), 2000);
    const t1 = at(aggregator.totals(), 12); // a 2-second window

    const rows = ratesByStrategy(t0, t1);
    assert.deepEqual(
      rows.map((r) => r.strategy),
      [...STRATEGIES],
    );
    const row = (s: string) => rows.find((r) => r.strategy === s);
    assert.deepEqual(row('per_vma'), {
      strategy: 'per_vma',
      reads_per_s: 5,
      retries_per_s: 0,
      fallbacks_per_s: 1,
      hazards_per_s: 0,
      mutations_per_s: 2,
    });
    assert.deepEqual(row('lockless'), {
      strategy: 'lockless',
      reads_per_s: 4,
      retries_per_s: 3,
      fallbacks_per_s: 0.5,
      hazards_per_s: 0,
      mutations_per_s: 2,
    });
    assert.equal(row('snapshot')?.retries_per_s, 0.5);
    assert.equal(row('lockless_nofallback')?.hazards_per_s, 2);
    assert.equal(row('mmap_lock')?.reads_per_s, 0);

    assert.deepEqual(totalRates(t0, t1), {
      reads_per_s: 9,
      retries_per_s: 3.5,
      fallbacks_per_s: 1.5,
      hazards_per_s: 2,
      mutations_per_s: 2,
    });
  });

  it('are zero, never negative or infinite, for an empty, reversed or zero-length window', () => {
    const instruments = Instruments.create({ capacity: 1 });
    const aggregator = new InstrumentAggregator(instruments);
    const t0 = at(aggregator.totals(), 1);
    instruments.recorder().read(0, 0, 10);
    const t1 = at(aggregator.totals(), 2);
    assert.equal(totalRates(t0, t1).reads_per_s, 1);
    const zero = {
      reads_per_s: 0,
      retries_per_s: 0,
      fallbacks_per_s: 0,
      hazards_per_s: 0,
      mutations_per_s: 0,
    };
    assert.deepEqual(totalRates(t1, at(t0, 3)), zero); // counts went "down": clamp to 0
    assert.deepEqual(totalRates(t0, at(t1, 1)), zero); // no time elapsed
    assert.deepEqual(totalRates(t1, t0), zero); // time went backwards
  });
});
