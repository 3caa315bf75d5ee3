/**
 * Byte writers for the numbers in a maps line: lowercase hex with a minimum width (the kernel's
 * `seq_put_hex_ll`) and unsigned decimal (`seq_put_decimal_ull`), written straight into a
 * `Uint8Array` from lookup tables. Never `Number#toString(16)` here: on 48-bit addresses it costs
 * ~224 ns per call (node-perf.md §5), more than the rest of a line.
 *
 * Values are JS numbers: exact non-negative integers below 2^53 (addresses are < TASK_SIZE).
 * Every writer returns the position after the last byte it wrote; callers guarantee capacity.
 */

/** ASCII codes of '0'..'9','a'..'f'. */
export const HEX_DIGIT = new Uint8Array([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

/** For each byte value, its two hex digits packed as (hi << 8) | lo ASCII codes. */
const HEX_PAIR = new Uint16Array(256);
for (let b = 0; b < 256; b++) HEX_PAIR[b] = (HEX_DIGIT[b >> 4] << 8) | HEX_DIGIT[b & 15];

const TWO_POW_32 = 0x1_0000_0000;

/** Number of hex digits of a uint32 (1 for 0). */
export function hexDigits32(v: number): number {
  return v === 0 ? 1 : (35 - Math.clz32(v)) >> 2;
}

/** Number of hex digits of a non-negative integer < 2^53 (1 for 0). */
export function hexDigits(v: number): number {
  if (v < TWO_POW_32) return hexDigits32(v >>> 0);
  return 8 + hexDigits32(Math.floor(v / TWO_POW_32));
}

/** Writes exactly `digits` (<= 8) hex digits of the uint32 `v`; returns the end position. */
function writeHex32Fixed(buf: Uint8Array, pos: number, v: number, digits: number): number {
  if (digits === 8) return writeHex32x8(buf, pos, v);
  const end = pos + digits;
  let p = end;
  // Two digits per table lookup, from the low end.
  while (p - pos >= 2) {
    const pair = HEX_PAIR[v & 0xff];
    buf[--p] = pair & 0xff;
    buf[--p] = pair >> 8;
    v >>>= 8;
  }
  if (p > pos) buf[--p] = HEX_DIGIT[v & 15];
  return end;
}

/** Exactly 8 hex digits of the uint32 `v` (unrolled: the low half of every address). */
export function writeHex32x8(buf: Uint8Array, pos: number, v: number): number {
  let pair = HEX_PAIR[v & 0xff];
  buf[pos + 7] = pair & 0xff;
  buf[pos + 6] = pair >> 8;
  pair = HEX_PAIR[(v >>> 8) & 0xff];
  buf[pos + 5] = pair & 0xff;
  buf[pos + 4] = pair >> 8;
  pair = HEX_PAIR[(v >>> 16) & 0xff];
  buf[pos + 3] = pair & 0xff;
  buf[pos + 2] = pair >> 8;
  pair = HEX_PAIR[v >>> 24];
  buf[pos + 1] = pair & 0xff;
  buf[pos] = pair >> 8;
  return pos + 8;
}

/**
 * `seq_put_hex_ll(v, width)`: lowercase hex, zero-padded to at least `minWidth` digits, never
 * truncated. The halves are `(v / 2^32) >>> 0` and `v >>> 0` (ToUint32 is exact modulo 2^32 for
 * any integral double), with no floating-point division or modulo on the hot path.
 */
export function writeHex(buf: Uint8Array, pos: number, v: number, minWidth: number): number {
  if (v < TWO_POW_32) {
    const lo = v >>> 0;
    const digits = hexDigits32(lo);
    if (digits >= minWidth) return writeHex32Fixed(buf, pos, lo, digits);
    const zeros = minWidth - digits;
    for (let i = 0; i < zeros; i++) buf[pos + i] = 0x30;
    return writeHex32Fixed(buf, pos + zeros, lo, digits);
  }
  const hi = (v / TWO_POW_32) >>> 0;
  const hiDigits = hexDigits32(hi);
  let p = pos;
  for (let i = hiDigits + 8; i < minWidth; i++) buf[p++] = 0x30;
  p = writeHex32Fixed(buf, p, hi, hiDigits);
  return writeHex32x8(buf, p, v >>> 0);
}

const TWO_POW_MINUS_32 = 1 / TWO_POW_32;

/**
 * `writeHex(buf, pos, v, 8)` for a VMA address (< 2^53), the two per maps line: the high half by
 * a multiplication (exact: a power of two) instead of a division, and the common 1–4-digit high
 * halves of user addresses (< 2^48) written straight from the pair table.
 */
export function writeAddress(buf: Uint8Array, pos: number, v: number): number {
  const lo = v >>> 0;
  if (v < TWO_POW_32) return writeHex32x8(buf, pos, lo);
  const hi = (v * TWO_POW_MINUS_32) >>> 0;
  let p = pos;
  if (hi >= 0x1000) {
    if (hi > 0xffff) return writeHex(buf, pos, v, 8); // above user space: the general path
    let pair = HEX_PAIR[hi >>> 8];
    buf[p] = pair >> 8;
    buf[p + 1] = pair & 0xff;
    pair = HEX_PAIR[hi & 0xff];
    buf[p + 2] = pair >> 8;
    buf[p + 3] = pair & 0xff;
    p += 4;
  } else {
    p = writeHex32Fixed(buf, p, hi, hexDigits32(hi));
  }
  return writeHex32x8(buf, p, lo);
}

/** Number of decimal digits of a non-negative integer < 2^53 (1 for 0). */
export function decimalDigits(v: number): number {
  if (v < 1e9) {
    // Comparisons only (inode numbers are almost always in this range).
    if (v < 1e4) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
    if (v < 1e6) return v < 1e5 ? 5 : 6;
    return v < 1e7 ? 7 : v < 1e8 ? 8 : 9;
  }
  let n = 1;
  while (v >= 10) {
    v = Math.floor(v / 10);
    n++;
  }
  return n;
}

/** `seq_put_decimal_ull(v)`: unsigned decimal, no padding. */
export function writeDecimal(buf: Uint8Array, pos: number, v: number): number {
  const n = decimalDigits(v);
  let p = pos + n;
  if (v <= 0x7fffffff) {
    // Smi path: integer ops only.
    let x = v | 0;
    do {
      const q = (x / 10) | 0;
      buf[--p] = 0x30 + (x - q * 10);
      x = q;
    } while (x !== 0);
  } else {
    let x = v;
    do {
      const q = Math.floor(x / 10);
      buf[--p] = 0x30 + (x - q * 10);
      x = q;
    } while (x !== 0);
  }
  return pos + n;
}

/**
 * Copies `src[from, to)` into `buf` at `pos`. A plain loop: names are short, and
 * `buf.set(src.subarray(...))` would allocate a view object per call.
 */
export function writeBytes(
  buf: Uint8Array,
  pos: number,
  src: Uint8Array,
  from: number,
  to: number,
): number {
  const n = to - from;
  for (let i = 0; i < n; i++) buf[pos + i] = src[from + i];
  return pos + n;
}

/** Latin-1/ASCII bytes of a constant string (for names such as `[heap]`). */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}
