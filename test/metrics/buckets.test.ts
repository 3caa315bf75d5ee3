import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUCKET_BOUNDS_NS,
  BUCKET_BOUNDS_SECONDS,
  bucketIndexForNs,
  INF_BUCKET,
} from '../../src/metrics/buckets.js';

/** Reference: Prometheus `le` semantics by linear scan. */
function naiveBucket(ns: number): number {
  for (let k = 0; k < BUCKET_BOUNDS_NS.length; k++) if (ns <= BUCKET_BOUNDS_NS[k]) return k;
  return INF_BUCKET;
}

describe('duration buckets', () => {
  it('span 100 ns to at least 100 ms with factor 2', () => {
    assert.equal(BUCKET_BOUNDS_NS[0], 100);
    assert.ok(BUCKET_BOUNDS_NS[BUCKET_BOUNDS_NS.length - 1] >= 100e6);
    for (let k = 1; k < BUCKET_BOUNDS_NS.length; k++) {
      assert.equal(BUCKET_BOUNDS_NS[k], 2 * BUCKET_BOUNDS_NS[k - 1]);
    }
  });

  it('seconds bounds are the ns bounds / 1e9', () => {
    BUCKET_BOUNDS_NS.forEach((ns, k) => {
      assert.ok(Math.abs(BUCKET_BOUNDS_SECONDS[k] * 1e9 - ns) <= ns * 1e-12, `bucket ${k}`);
    });
  });

  it('place values exactly on, just below and just above every bound like a linear scan', () => {
    const probes = [0, 0.5, 1, 99, 99.999, 100.001, 1e12, Number.MAX_SAFE_INTEGER];
    for (const b of BUCKET_BOUNDS_NS) probes.push(b - 1, b - 0.25, b, b + 0.25, b + 1);
    for (const ns of probes) assert.equal(bucketIndexForNs(ns), naiveBucket(ns), `ns=${ns}`);
  });

  it('agree with a linear scan on a dense sweep', () => {
    for (let ns = 0; ns < 200_000; ns += 7) assert.equal(bucketIndexForNs(ns), naiveBucket(ns));
    for (let e = 0; e < 2000; e++) {
      const ns = 1.013 ** e;
      assert.equal(bucketIndexForNs(ns), naiveBucket(ns), `ns=${ns}`);
    }
  });
});
