/** Keeps bench/sync/primitives.ts runnable: every read side, 1 and 2 threads, tiny counts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  benchAllPrimitives,
  formatPrimitiveResults,
  PRIMITIVE_OPS,
} from '../../bench/sync/primitives.js';

test('the primitive micro-benchmarks run every read side with 1 and 2 threads', async () => {
  const results = await benchAllPrimitives(20_000);
  assert.deepEqual(
    results.map((r) => `${r.op}/${r.threads}`),
    PRIMITIVE_OPS.flatMap((op) => [`${op}/1`, `${op}/2`]),
  );
  for (const r of results) {
    assert.equal(r.nsPerOp.length, r.threads);
    assert.equal(r.cpuNsPerOp.length, r.threads);
    for (const ns of r.nsPerOp) assert.ok(Number.isFinite(ns) && ns > 0, `${r.op}: ${ns}`);
    // schedstat exists on Linux, where the suite runs, so thread CPU time is a number.
    for (const ns of r.cpuNsPerOp) assert.ok(Number.isFinite(ns) && ns >= 0, `${r.op}: ${ns}`);
  }
  const table = formatPrimitiveResults(results);
  assert.equal(table.split('\n').length, 2 + results.length);
});
