import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { engineU64, hex, parseU64 } from '../../src/schemas/uapi.js';

test('hex() prints every safe integer and u64 exactly as lowercase 0x hex', () => {
  // The oracle is BigInt's radix conversion, independent of hex()'s split into 32-bit halves.
  fc.assert(
    fc.property(fc.maxSafeNat(), (n) => hex(n) === `0x${BigInt(n).toString(16)}`),
    { numRuns: 20_000 },
  );
  for (const n of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 0x7ffffffff000, 2 ** 53 - 1]) {
    assert.equal(hex(n), `0x${BigInt(n).toString(16)}`);
  }
  assert.equal(hex(0xffffffffff600000n), '0xffffffffff600000');
});

test('u64 inputs: hex and decimal strings and safe integers parse to the same value', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (n) => {
      const hexIn = `0x${n.toString(16)}`;
      return (
        engineU64('addr', n) === n &&
        engineU64('addr', hexIn) === n &&
        engineU64('addr', String(n)) === n &&
        parseU64('addr', hexIn) === BigInt(n)
      );
    }),
  );
});
