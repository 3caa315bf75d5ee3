// Smoke test of the microbenchmark module (bench/metrics/overhead.ts): it really records, and
// reports finite per-event costs. The figures themselves are for `npm run bench`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureRecorderOverhead } from '../../bench/metrics/overhead.js';

describe('recorder overhead microbenchmark', () => {
  it('records exactly reps × iterations reads and returns finite ns figures', () => {
    const r = measureRecorderOverhead({ iterations: 20_000, reps: 3 });
    assert.equal(r.recordedReads, 20_000 * 3);
    for (const ns of [...Object.values(r.onNs), ...Object.values(r.offNs), r.loopNs, r.clockNs]) {
      assert.ok(Number.isFinite(ns) && ns >= 0, `ns ${ns}`);
    }
    assert.deepEqual(Object.keys(r.onNs).sort(), [
      'fallback',
      'lockHold',
      'mutation',
      'read',
      'speculation',
    ]);
  });
});
