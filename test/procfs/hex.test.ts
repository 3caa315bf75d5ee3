import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decimalDigits,
  hexDigits,
  writeAddress,
  writeDecimal,
  writeHex,
} from '../../src/procfs/hex.js';
import { prng } from './fake-vmas.js';

const latin1 = (b: Uint8Array, n: number) =>
  Buffer.from(b.buffer, b.byteOffset, n).toString('latin1');

/** The oracle: printf("%0*lx") behaviour via toString(16) + padStart (fine in a test). */
function refHex(v: number, width: number): string {
  return v.toString(16).padStart(width, '0');
}

test('writeHex matches %0Nlx for edge values and every width 1..16', () => {
  const values = [
    0,
    1,
    0xf,
    0x10,
    0xff,
    0xfff,
    0x1000,
    0xffffffff,
    0x100000000,
    0x7ffffffff000,
    0xfffffffffffff,
    2 ** 53 - 1,
    0xffffffffff600000,
    0xffffffffff601000,
  ];
  const buf = new Uint8Array(64);
  for (const v of values) {
    for (let w = 1; w <= 16; w++) {
      const end = writeHex(buf, 3, v, w);
      assert.equal(latin1(buf.subarray(3), end - 3), refHex(v, w), `v=${v} w=${w}`);
    }
  }
});

test('writeHex and hexDigits agree with toString(16) on random 53-bit values', () => {
  const rnd = prng(1);
  const buf = new Uint8Array(32);
  for (let i = 0; i < 20_000; i++) {
    const bits = 1 + Math.floor(rnd() * 53);
    const v = Math.floor(rnd() * 2 ** bits);
    const w = Math.floor(rnd() * 12);
    const end = writeHex(buf, 0, v, w);
    assert.equal(latin1(buf, end), refHex(v, w));
    assert.equal(hexDigits(v), v.toString(16).length);
  }
});

test('writeAddress is %08lx for every address width: 32-bit, user (< 2^48), above, and page multiples near 2^64', () => {
  const rnd = prng(3);
  const buf = new Uint8Array(32);
  const values = [
    0,
    0xfff,
    2 ** 32 - 1,
    2 ** 32,
    0xfff_ffff_ffff,
    0x1000_0000_0000,
    0x7fff_ffff_f000,
  ];
  values.push(2 ** 48, 2 ** 53 - 1, 0xffffffffff600000, 2 ** 64 - 4096);
  for (let i = 0; i < 20_000; i++)
    values.push(Math.floor(rnd() * 2 ** (1 + Math.floor(rnd() * 53))));
  for (const v of values) {
    const end = writeAddress(buf, 2, v);
    assert.equal(latin1(buf.subarray(2), end - 2), refHex(v, 8), `0x${v.toString(16)}`);
  }
});

test('writeDecimal matches String(n) incl. values above 2^31 and 2^32', () => {
  const rnd = prng(2);
  const buf = new Uint8Array(32);
  const values = [0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1];
  for (let i = 0; i < 5000; i++) values.push(Math.floor(rnd() * 2 ** (1 + Math.floor(rnd() * 53))));
  for (const v of values) {
    const end = writeDecimal(buf, 1, v);
    assert.equal(latin1(buf.subarray(1), end - 1), String(v));
    assert.equal(decimalDigits(v), String(v).length);
  }
});
