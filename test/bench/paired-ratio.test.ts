/**
 * The bench's paired ratios (bench/lib/figure.ts): the goal is judged on the median of the
 * per-pair ratios, not on the ratio of the two medians, which may come from different minutes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pairedRatioFigure } from '../../bench/lib/figure.js';

const base = { id: 'x', section: 's', what: 'w', unit: 'req/s', baselineName: 'hello' };

test('the ratio is the median of the per-pair ratios; value and baseline are each side’s median', () => {
  // Pairs taken in a slow, a fast and a middling minute: per-pair ratios 0.5, 1.5, 1.2.
  const f = pairedRatioFigure({ ...base, goal: { op: '>=', ratio: 1 } }, [
    [10, 20],
    [30, 20],
    [12, 10],
  ]);
  assert.equal(f.value, 12);
  assert.equal(f.baseline?.value, 20);
  assert.equal(f.ratio, 1.2); // the ratio of the medians would be 0.6
  assert.equal(f.met, true);
  assert.match(f.note ?? '', /median of 3 paired runs' ratios \(0\.50–1\.50\)/);
});

test('a "lower is better" goal is checked against the same paired ratio', () => {
  const f = pairedRatioFigure({ ...base, unit: 'ns', goal: { op: '<=', ratio: 0.5 }, note: 'n' }, [
    [40, 100],
    [70, 100],
    [30, 50],
    [20, 50],
  ]);
  // Ratios 0.4, 0.7, 0.6, 0.4: median (0.4 + 0.6) / 2 = 0.5.
  assert.equal(f.ratio, 0.5);
  assert.equal(f.met, true);
  assert.ok(f.note?.startsWith('n; ratio: median of 4'));
});
