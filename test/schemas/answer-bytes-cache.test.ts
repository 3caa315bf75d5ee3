/**
 * The per-query batch's writer takes the bytes of an answer written for an earlier batch
 * (answer-bytes-cache.ts) only when every field is the same: batch after batch, an answer that
 * differs from an earlier one in a single field (each field in turn) is written as its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueryAnswer } from '../../src/cpus/sim-api.js';
import { formatQueryAnswer } from '../../src/schemas/query.js';
import { QueryEntryBatch } from '../../src/schemas/query-entries.js';
import { queryResultsBytes } from '../../src/schemas/query-results.js';
import { columnsOf } from '../http/fake-sim.js';

const base: QueryAnswer = {
  vmaStart: 0x7f0000000000,
  vmaEnd: 0x7f0000004000,
  vmaFlags: 5,
  vmaPageSize: 4096,
  vmaOffset: 0x1000,
  inode: 42,
  devMajor: 0xfe,
  devMinor: 1,
  vmaName: '/usr/lib/libc.so.6',
  buildId: 'ab12',
};

const variants: Array<Partial<QueryAnswer>> = [
  { vmaEnd: 0x7f0000008000 },
  { vmaFlags: 1 },
  { vmaPageSize: 2 * 1024 * 1024 },
  { vmaOffset: 0 },
  { inode: 43 },
  { devMajor: 0xfd },
  { devMinor: 2 },
  { vmaName: '/usr/lib/libc.so.7' },
  { vmaName: null },
  { buildId: 'ab13' },
  { buildId: null },
];

/** The writer's reply for one batch of `answers`, and what JSON.stringify makes of them. */
function written(answers: QueryAnswer[]): [string, string] {
  const q = new QueryEntryBatch(
    answers.length,
    { addrs: new Float64Array(answers.length), flags: 0, name: true },
    null,
  );
  const got = queryResultsBytes(q, columnsOf(answers)).toString('utf8');
  return [got, JSON.stringify({ results: answers.map(formatQueryAnswer) })];
}

test('an answer one field away from an earlier batch’s is written as its own', () => {
  for (const v of variants) {
    const [a, aWant] = written([base, base]);
    assert.equal(a, aWant);
    const other = { ...base, ...v };
    const [b, bWant] = written([other]);
    assert.equal(b, bWant, JSON.stringify(v));
    const [c, cWant] = written([other, base, other]);
    assert.equal(c, cWant, JSON.stringify(v));
  }
});
