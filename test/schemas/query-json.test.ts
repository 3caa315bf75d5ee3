/**
 * The hand serialisations equal JSON.stringify of the objects they stand for: the point query's
 * answer, the compact batch's columns and the per-query batch's results, for any answer (names
 * with quotes, backslashes, newlines, non-ASCII; 48-bit and 64-bit values) and any mix of errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type * as api from '../../src/cpus/sim-api.js';
import { type QueryAnswer, SimError } from '../../src/cpus/sim-api.js';
import type { ErrorBody } from '../../src/schemas/errors.js';
import { formatQueryAnswer, queryAnswerJson } from '../../src/schemas/query.js';
import { queryColumnsBytes } from '../../src/schemas/query-columns.js';
import { QueryEntryBatch } from '../../src/schemas/query-entries.js';
import { queryResultsBytes } from '../../src/schemas/query-results.js';
import { hex } from '../../src/schemas/uapi.js';
import { columnsOf } from '../http/fake-sim.js';

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

test('queryColumnsBytes is JSON.stringify of the nine columns, for any mix of answers and errors', () => {
  const outcome = fc.oneof(
    answer,
    fc.constantFrom(2, 3, 22).map((e) => SimError.of(e, 'PROCMAP_QUERY')),
  );
  // Per address: an outcome, or EINVAL (the address did not parse, never sent to the engine).
  const entries = fc.array(fc.option(outcome, { nil: undefined }), { maxLength: 40 });
  fc.assert(
    fc.property(entries, (es) => {
      const parsed = es.filter((e) => e !== undefined);
      const q = {
        count: es.length,
        batch: { addrs: new Float64Array(parsed.length), flags: 0, name: true },
        bad: es.some((e) => e === undefined)
          ? Uint8Array.from(es, (e) => (e === undefined ? 1 : 0))
          : null,
      };
      const col = <T>(f: (a: QueryAnswer) => T) =>
        es.map((e) => (e === undefined || e instanceof SimError ? null : f(e)));
      const expected = JSON.stringify({
        vma_start: col((a) => hex(a.vmaStart)),
        vma_end: col((a) => hex(a.vmaEnd)),
        vma_flags: col((a) => a.vmaFlags),
        vma_offset: col((a) => hex(a.vmaOffset)),
        inode: col((a) => a.inode),
        dev_major: col((a) => a.devMajor),
        dev_minor: col((a) => a.devMinor),
        vma_name: col((a) => a.vmaName),
        errno: es.map((e) => (e === undefined ? 22 : e instanceof SimError ? e.errno : 0)),
      });
      assert.equal(queryColumnsBytes(q, columnsOf(parsed)).toString('utf8'), expected);
    }),
    { numRuns: 1000 },
  );
});

test('queryResultsBytes is JSON.stringify of {results}, for answers, errors and bad entries', () => {
  // Answers often repeat (the writer copies a repeated one) or share a start with other fields.
  const sameStarts = answer.chain((a) =>
    fc.constantFrom(0x1000, 0x7f0000000000).map((vmaStart) => ({ ...a, vmaStart })),
  );
  const entry = fc.oneof(
    answer,
    sameStarts,
    fc.constantFrom(2, 3, 22, 36).map((e) => SimError.of(e, 'PROCMAP_QUERY')),
    fc
      .string({ unit: 'binary', maxLength: 30 })
      .map((m) => ({ error: 'EINVAL', errno: 22, message: `addr: "${m}" is not an address` })),
  );
  type Entry = QueryAnswer | SimError | ErrorBody;
  const entries: fc.Arbitrary<Entry[]> = fc
    .array(entry, { minLength: 1, maxLength: 12 })
    .chain((pool) => fc.array(fc.constantFrom<Entry>(...pool), { maxLength: 40 }));
  fc.assert(
    fc.property(entries, (es) => {
      const isBad = (e: Entry) => !(e instanceof SimError) && !('vmaStart' in e);
      const answered = es.filter((e) => !isBad(e)) as api.QueryOutcome[];
      const bad = es.some(isBad) ? es.map((e) => (isBad(e) ? (e as ErrorBody) : undefined)) : null;
      const q = new QueryEntryBatch(
        es.length,
        { addrs: new Float64Array(answered.length), flags: 0, name: true },
        bad,
      );
      const expected = JSON.stringify({
        results: es.map((e) =>
          e instanceof SimError
            ? { error: e.code, errno: e.errno }
            : 'vmaStart' in e
              ? formatQueryAnswer(e)
              : e,
        ),
      });
      assert.equal(queryResultsBytes(q, columnsOf(answered)).toString('utf8'), expected);
    }),
    { numRuns: 1000 },
  );
});
