/**
 * The compact batch's address parser (no BigInt, no regex on the common path) gives every
 * address the engine number `engineU64` gives it, and EINVAL (a `bad` entry) exactly where
 * `engineU64` refuses it: hex of any length and case, decimal, JSON numbers, junk.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { toCompactQueries } from '../../src/schemas/query-columns.js';
import { engineU64 } from '../../src/schemas/uapi.js';

const hexDigit = fc.constantFrom(...'0123456789abcdefABCDEF');
const address = fc.oneof(
  fc.array(hexDigit, { minLength: 0, maxLength: 20 }).map((d) => `0x${d.join('')}`),
  fc.array(hexDigit, { minLength: 1, maxLength: 3 }).map((d) => `0X${d.join('')}000`),
  fc
    .bigInt({ min: 0n, max: (1n << 64n) - 1n })
    .chain((v) =>
      fc.constantFrom(`0x${v.toString(16)}`, `0x${(v & ~0xfffn).toString(16)}`, `${v}`),
    ),
  fc.integer({ min: -5, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(1.5, 2 ** 60, '0x', '', 'nope', '0xffffffffff600000', '0x-1', ' 0x1'),
  fc.string({ maxLength: 20 }),
);

function expected(a: string | number): number | null {
  try {
    return engineU64('addr', a);
  } catch {
    return null;
  }
}

test('toCompactQueries parses every address as engineU64 does (EINVAL where it refuses)', () => {
  fc.assert(
    fc.property(fc.array(address, { maxLength: 30 }), (addrs) => {
      const q = toCompactQueries({ addrs });
      assert.equal(q.count, addrs.length);
      const want = addrs.map(expected);
      assert.deepEqual(
        want.map((v) => v === null),
        addrs.map((_, i) => q.bad?.[i] === 1),
      );
      assert.deepEqual(
        [...q.batch.addrs],
        want.filter((v) => v !== null),
      );
    }),
    { numRuns: 3000 },
  );
});
