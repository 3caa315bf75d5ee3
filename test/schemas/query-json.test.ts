/**
 * The point query's hand serialisation equals JSON.stringify of the object the schema describes,
 * for any answer (names with quotes, backslashes, newlines, non-ASCII; 48-bit and 64-bit values).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { QueryAnswer } from '../../src/cpus/sim-api.js';
import { formatQueryAnswer, queryAnswerJson } from '../../src/schemas/query.js';

const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const page = fc.integer({ min: 0, max: 2 ** 52 / 4096 - 1 }).map((p) => p * 4096);
const answer: fc.Arbitrary<QueryAnswer> = fc.record({
  vmaStart: page,
  vmaEnd: fc.oneof(page, fc.constant(0xffffffffff601000)),
  vmaFlags: fc.integer({ min: 0, max: 15 }),
  vmaPageSize: fc.constantFrom(4096, 2 * 1024 * 1024),
  vmaOffset: u53,
  inode: u53,
  devMajor: fc.integer({ min: 0, max: 0xfff }),
  devMinor: fc.integer({ min: 0, max: 0xfffff }),
  vmaName: fc.option(fc.string({ unit: 'binary' }), { nil: null }),
  buildId: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789abcdef') }), { nil: null }),
});

test('queryAnswerJson(a) is JSON.stringify(formatQueryAnswer(a)), field order included', () => {
  fc.assert(
    fc.property(answer, (a) => {
      assert.equal(queryAnswerJson(a), JSON.stringify(formatQueryAnswer(a)));
    }),
    { numRuns: 2000 },
  );
  const named: QueryAnswer = {
    vmaStart: 0x7f0000000000,
    vmaEnd: 0x7f0000001000,
    vmaFlags: 5,
    vmaPageSize: 4096,
    vmaOffset: 0,
    inode: 1,
    devMajor: 0xfe,
    devMinor: 1,
    vmaName: '/tmp/a "b"\n\\c é',
    buildId: null,
  };
  assert.deepEqual(JSON.parse(queryAnswerJson(named)), formatQueryAnswer(named));
});
