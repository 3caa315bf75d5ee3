/**
 * With no writer, every strategy reads exactly what the direct walker reads (chunk by chunk) and
 * answers every query exactly as the direct target does; it counts no retries and no hazards,
 * and only `lockless` falls back — once per fancy VMA (anon or special-mapping name) per read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TEMPLATE_NAMES } from '../../../src/mm/templates/index.js';
import { PROCMAP_QUERY_COVERING_OR_NEXT_VMA } from '../../../src/procfs/procmap-query.js';
import { ALL_STRATEGIES, strategyByName } from '../../../src/procfs/strategies/strategy.js';
import {
  context,
  directQuery,
  directText,
  lineRange,
  readAll,
  strategyQuery,
  templateMm,
} from './helpers.js';

/** Lines whose name comes from anon-name storage or a special mapping's name op. */
function fancyLines(text: string): number {
  return text.split('\n').filter((l) => /\[(anon:|anon_shmem:|vdso\]|vvar\]|vvar_vclock\])/.test(l))
    .length;
}

for (const name of TEMPLATE_NAMES) {
  test(`${name}: every strategy reads the direct walker's chunks and answers its queries`, () => {
    const mm = templateMm(name);
    const whole = directText(mm);
    assert.ok(whole.length > 0);
    const lines = whole.trimEnd().split('\n');
    const fancy = fancyLines(whole);
    for (const s of ALL_STRATEGIES) {
      for (const limit of [0, 4096, 700, 1]) {
        const ctx = context();
        const got = readAll(s, ctx, mm, limit);
        assert.equal(got.err, 0);
        assert.equal(got.text, directText(mm, limit), `${s.name} limit ${limit}`);
        if (limit === 1) assert.equal(got.chunks.length, lines.length, 'one line per chunk');
        assert.equal(ctx.stats.retries, 0);
        assert.deepEqual(ctx.stats.hazards, [0, 0]);
        const expectFancy = s.name === 'lockless' ? fancy : 0;
        // Per chunk, a VMA that did not fit is fetched again by the next chunk.
        if (limit === 0) assert.equal(ctx.stats.fallbacks[1], expectFancy, `${s.name} fancy`);
        else if (s.name !== 'lockless') assert.equal(ctx.stats.fallbacks[1], 0);
        assert.equal(ctx.stats.fallbacks[0] + ctx.stats.fallbacks[2] + ctx.stats.fallbacks[3], 0);
      }
      const ctx = context();
      for (const line of lines.slice(0, -1)) {
        const [start, end] = lineRange(line);
        for (const addr of [start - 1, start, end - 1, end]) {
          for (const flags of [0, PROCMAP_QUERY_COVERING_OR_NEXT_VMA]) {
            assert.deepEqual(
              strategyQuery(s, ctx, mm, addr, flags),
              directQuery(mm, addr, flags),
              `${s.name} query ${addr.toString(16)} flags ${flags}`,
            );
          }
        }
      }
      assert.equal(ctx.stats.retries, 0);
    }
  });
}

test('strategyByName finds each strategy and rejects unknown names', () => {
  for (const s of ALL_STRATEGIES) assert.equal(strategyByName(s.name), s);
  assert.throws(() => strategyByName('rcu' as never), RangeError);
});
