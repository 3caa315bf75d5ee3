// Smoke test of the microbenchmark module (bench/metrics/overhead.ts): it really records, and
// reports finite per-event costs. The figures themselves are for `npm run bench`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureParallelRecording, measureRecorderOverhead } from '../../bench/metrics/overhead.js';

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

describe('parallel recording microbenchmark', () => {
  it('records exactly (1 + threads) × iterations reads from worker threads', async () => {
    const r = await measureParallelRecording({ iterations: 50_000, threads: 2 });
    assert.equal(r.recordedReads, 3 * 50_000);
    assert.equal(r.together.length, 2);
    for (const ns of [r.alone, ...r.together]) assert.ok(Number.isFinite(ns) && ns > 0, `ns ${ns}`);
  });
});
