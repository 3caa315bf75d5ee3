/**
 * proc-maps-race (kernel.md §4) on real threads, for every strategy and each of the selftest's
 * three modifications of the VMA whose line ends a 4096-byte chunk: a writer thread loops the
 * modification and its restore while two reader threads read the chunked file and query. Every
 * line is a line of the before or after state, no line common to both is missing, each boundary
 * pair is the modified, the restored, or the allowed duplicate pair, each query answers the old
 * or the new VMA — and the readers really met the writer (retries, fallbacks or lock waits > 0).
 * Run from dist/ (workers are .js).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STRATEGIES } from '../../src/metrics/labels.js';
import type { ReaderData, ReaderResult, WriterData, WriterResult } from './race.worker.js';
import { controlBuffer, runWorker, STOP } from './race-control.js';
import { buildRace, MODS } from './race-layout.js';

const READERS = 2;

for (const mod of MODS) {
  test(`${mod} race: every strategy keeps every line whole and every boundary valid`, async (t) => {
    const spec = buildRace(mod);
    const before = new Set(spec.beforeLines);
    const after = new Set(spec.afterLines);
    const control = controlBuffer();
    const writerData: WriterData = {
      role: 'writer',
      control,
      mmBuffer: spec.mmBuffer,
      globals: spec.globals,
      rcu: spec.rcu,
      round: [
        { call: spec.modify, result: spec.modifyResult },
        { call: spec.restore, result: spec.restoreResult },
      ],
    };
    const readerData: ReaderData = {
      role: 'reader',
      control,
      strategies: [...STRATEGIES],
      spec,
      allowed: [...new Set([...before, ...after])],
      required: [...before].filter((l) => after.has(l)),
      minIterations: 40,
      minRounds: 40,
      capMs: 4000,
      needHazards: false,
      queryNames: null,
    };
    const w = runWorker<WriterResult>(t, writerData);
    const readers = Array.from({ length: READERS }, () => runWorker<ReaderResult[]>(t, readerData));
    const results = await Promise.all(readers);
    Atomics.store(control, STOP, 1);
    const wr = await w;
    assert.equal(wr.bad, null);
    assert.ok(wr.rounds > 0);
    for (const strategy of STRATEGIES) {
      await t.test(strategy, () => {
        for (const perReader of results) {
          const r = perReader.find((x) => x.strategy === strategy);
          assert.ok(r);
          t.diagnostic(
            `${strategy}: ${r.iterations} reads, ${r.rounds} rounds, ${JSON.stringify(r.stats)}`,
          );
          assert.deepEqual(r.samples, [], `${r.failures} failures`);
          assert.equal(r.failures, 0);
          assert.ok(r.stats.contention > 0, `no contention observed: ${JSON.stringify(r)}`);
          assert.ok(r.iterations >= 40, `${r.iterations} iterations`);
          assert.deepEqual(r.stats.hazards, [0, 0], 'no names churn here');
        }
      });
    }
  });
}
