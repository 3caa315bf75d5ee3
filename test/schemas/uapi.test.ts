import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  engineU64,
  hex,
  parseU64,
  toEngineNumber,
  type UapiValueError,
} from '../../src/schemas/uapi.js';

test('hex() prints every safe integer and u64 exactly as lowercase 0x hex', () => {
  // The oracle is BigInt's radix conversion, independent of hex()'s split into its high part and
  // the low 32 bits' four table bytes.
  fc.assert(
    fc.property(fc.maxSafeNat(), (n) => hex(n) === `0x${BigInt(n).toString(16)}`),
    { numRuns: 20_000 },
  );
  for (const n of [
    0,
    1,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1,
    0x7ffffffff000,
    0x7f0080000000,
    0x7f00000a0b0c,
    2 ** 53 - 1,
  ]) {
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

/** The exact path: BigInt parse, then the engine mapping; or the error code it throws. */
function exact(input: string): number | string {
  try {
    return toEngineNumber(parseU64('addr', input));
  } catch (e) {
    return (e as UapiValueError).code;
  }
}

function viaEngineU64(input: string): number | string {
  try {
    return engineU64('addr', input);
  } catch (e) {
    return (e as UapiValueError).code;
  }
}

test('engineU64: the no-BigInt fast path agrees with the exact path on any string', () => {
  const hexChar = fc.constantFrom(...'0123456789abcdefABCDEFxXg -+.'.split(''));
  const strings = fc.oneof(
    fc.array(hexChar, { maxLength: 20 }).map((cs) => `0x${cs.join('')}`),
    fc.array(hexChar, { maxLength: 20 }).map((cs) => cs.join('')),
    fc.bigInt({ min: 0n, max: (1n << 64n) + 5n }).map((b) => `0x${b.toString(16)}`),
    fc.bigInt({ min: 0n, max: (1n << 64n) + 5n }).map((b) => b.toString()),
    fc.string({ maxLength: 18 }),
  );
  fc.assert(
    fc.property(strings, (s) => viaEngineU64(s) === exact(s)),
    { numRuns: 5000 },
  );
  // Edges of the fast path: 13 hex digits / 15 decimal digits, and one more.
  for (const s of ['0x1fffffffffffff', '0xfffffffffffff', '999999999999999', '9999999999999999']) {
    assert.equal(viaEngineU64(s), exact(s), s);
  }
  for (const s of ['', '0x', '0X1g', '-1', '1.5', ' 1', '0x 1'])
    assert.equal(viaEngineU64(s), 'EINVAL', s);
});
