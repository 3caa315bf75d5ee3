/**
 * The point-query answer memo (src/schemas/answer-json-memo.ts) gives what building the JSON
 * gives, for any sequence of answers: the same answer again (a hit), one value changed (every
 * field, one at a time), another answer in the same slot.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { QueryAnswer } from '../../src/cpus/sim-api.js';
import { AnswerJsonMemo } from '../../src/schemas/answer-json-memo.js';
import { buildQueryAnswerJson } from '../../src/schemas/query.js';

const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
// Few pages, so that answers meet in the same slot and the same page often.
const page = fc.integer({ min: 0, max: 600 }).map((p) => 0x7f0000000000 + p * 4096);
const answer: fc.Arbitrary<QueryAnswer> = fc.record({
  vmaStart: page,
  vmaEnd: page,
  vmaFlags: fc.integer({ min: 0, max: 15 }),
  vmaPageSize: fc.constantFrom(4096, 2 * 1024 * 1024),
  vmaOffset: fc.oneof(fc.constant(0), u53),
  inode: fc.oneof(fc.constant(0), u53),
  devMajor: fc.integer({ min: 0, max: 3 }),
  devMinor: fc.integer({ min: 0, max: 3 }),
  vmaName: fc.option(fc.constantFrom('/usr/bin/node', '/usr/bin/nodf', '[heap]', 'a"b\\c\n'), {
    nil: null,
  }),
  buildId: fc.option(fc.constantFrom('00ff', '00fe'), { nil: null }),
});

/** The answer with one field changed (`k`), as a VMA that changed in that one value. */
function changed(a: QueryAnswer, k: keyof QueryAnswer): QueryAnswer {
  const v = a[k];
  if (typeof v === 'number') return { ...a, [k]: v + (k === 'vmaStart' ? 64 * 4096 : 1) };
  if (k === 'vmaName') return { ...a, vmaName: v === null ? '' : `${v}x` };
  return { ...a, buildId: v === null ? '' : `${v}0` };
}

test('memo.json(a) is buildQueryAnswerJson(a) for any sequence of answers', () => {
  fc.assert(
    fc.property(fc.array(answer, { minLength: 1, maxLength: 60 }), (answers) => {
      const memo = new AnswerJsonMemo(buildQueryAnswerJson);
      for (const a of answers) {
        assert.equal(memo.json(a), buildQueryAnswerJson(a));
        assert.equal(memo.json({ ...a }), buildQueryAnswerJson(a)); // equal values: a hit
      }
      assert.ok(memo.hits >= answers.length);
    }),
    { numRuns: 300 },
  );
});

test('a change of any one value is written anew, never served from the memo', () => {
  const keys = [
    'vmaStart',
    'vmaEnd',
    'vmaFlags',
    'vmaPageSize',
    'vmaOffset',
    'inode',
    'devMajor',
    'devMinor',
    'vmaName',
    'buildId',
  ] as const satisfies readonly (keyof QueryAnswer)[];
  fc.assert(
    fc.property(answer, fc.constantFrom(...keys), (a, k) => {
      const memo = new AnswerJsonMemo(buildQueryAnswerJson);
      memo.json(a);
      const b = changed(a, k);
      const hits = memo.hits;
      assert.equal(memo.json(b), buildQueryAnswerJson(b), k);
      assert.equal(memo.hits, hits, `${k} changed but the memo answered`);
    }),
    { numRuns: 500 },
  );
});
