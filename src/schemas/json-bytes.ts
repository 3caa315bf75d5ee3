/**
 * JSON written straight into bytes, for the batch answers (thousands of values per reply): the
 * hex and decimal writers of the maps formatter (src/procfs/hex.ts), each value byte for byte
 * what `JSON.stringify` gives for the API's value (`hex()` strings, numbers, names). A reply is
 * written into a reused scratch buffer, grown as needed, then copied out at its exact size: a
 * string reply of that size would be flattened, measured and UTF-8 encoded again on its way out.
 */
import { writeAddress, writeDecimal, writeHex } from '../procfs/hex.js';

const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;

/** A reply being written: `buf` has room for what the caller `reserve`d. */
export class JsonBytes {
  buf: Buffer = scratch;
  pos = 0;

  /** Makes room for `n` more bytes (growing the shared scratch, keeping what is written). */
  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.buf.length));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    scratch = bigger;
  }

  /** The reply: a copy of what was written, at its size (in a Buffer from `alloc`). */
  done(alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
    const reply = alloc(this.pos);
    this.buf.copy(reply, 0, 0, this.pos);
    return reply;
  }

  /** ASCII text (keys, punctuation). */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  bytes(src: Uint8Array): void {
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < src.length; i++) b[p + i] = src[i];
    this.pos = p + src.length;
  }

  /** A whole piece at once (native copy: for pieces of a hundred bytes or more). */
  copy(src: Buffer): void {
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  comma(): void {
    this.buf[this.pos++] = 0x2c;
  }

  null(): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = 0x6e;
    b[p + 1] = 0x75;
    b[p + 2] = 0x6c;
    b[p + 3] = 0x6c;
    this.pos = p + 4;
  }

  /** `"0x…"` as `hex()` writes it (lowercase, no padding), for any integral double < 2^64. */
  hexString(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = 0x22;
    b[p + 1] = 0x30;
    b[p + 2] = 0x78;
    // At or above 2^32 a value has at least 9 digits: the maps line's 8-digit minimum is moot.
    const end = v >= TWO_32 ? writeAddress(b, p + 3, v) : writeHex(b, p + 3, v, 1);
    b[end] = 0x22;
    this.pos = end + 1;
  }

  /** A JSON number as `String(v)` writes it (decimal digits below 2^53), for v >= 0. */
  number(v: number): void {
    if (v < TWO_53) this.pos = writeDecimal(this.buf, this.pos, v);
    else this.ascii(String(v));
  }
}

/** Most bytes `JsonBytes.number` writes (`String` of a double: at most 24 characters). */
export const MAX_NUMBER_BYTES = 24;
/** Most bytes `JsonBytes.hexString` writes: `"0x` + 16 digits + `"`. */
export const MAX_HEX_STRING_BYTES = 20;

let scratch = Buffer.allocUnsafeSlow(1 << 16);

/** JSON string literals (as UTF-8 bytes) of the names seen lately: a batch repeats a few names. */
const nameJson = new Map<string, Buffer>();
const NAME_CACHE_SIZE = 1024;

/** `JSON.stringify(name)` as UTF-8 bytes (cached). */
export function jsonName(name: string): Buffer {
  let j = nameJson.get(name);
  if (j === undefined) {
    j = Buffer.from(JSON.stringify(name), 'utf8');
    if (nameJson.size >= NAME_CACHE_SIZE) nameJson.clear();
    nameJson.set(name, j);
  }
  return j;
}
