/**
 * Little-endian byte writer and reader for the snapshot format (src/mm/image, src/state). The
 * writer grows by doubling; the reader throws `ImageFormatError` on any read past the end, so a
 * truncated payload is refused instead of being read as zeros.
 */

export class ImageFormatError extends Error {
  override name = 'ImageFormatError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  /** u32 length, then the bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** UTF-8, length-prefixed. */
  string(s: string): void {
    this.bytes(encoder.encode(s));
  }
  /** A column of doubles (count known to the reader). */
  f64s(a: Float64Array, n: number): void {
    this.room(8 * n);
    for (let i = 0; i < n; i++) this.view.setFloat64(this.pos + 8 * i, a[i], true);
    this.pos += 8 * n;
  }
  u32s(a: Uint32Array, n: number): void {
    this.room(4 * n);
    for (let i = 0; i < n; i++) this.view.setUint32(this.pos + 4 * i, a[i], true);
    this.pos += 4 * n;
  }
  u8s(a: Uint8Array, n: number): void {
    this.room(n);
    this.buf.set(a.subarray(0, n), this.pos);
    this.pos += n;
  }

  /** The written bytes (a view; valid until the next write). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new ImageFormatError(`payload ends inside ${what} (offset ${this.pos})`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bytes(what: string, max: number): Uint8Array {
    const n = this.u32(what);
    if (n > max) throw new ImageFormatError(`${what}: length ${n} exceeds ${max}`);
    this.need(n, what);
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  string(what: string, max: number): string {
    return decoder.decode(this.bytes(what, max));
  }
  f64s(n: number, what: string): Float64Array {
    this.need(8 * n, what);
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = this.view.getFloat64(this.pos + 8 * i, true);
    this.pos += 8 * n;
    return a;
  }
  u32s(n: number, what: string): Uint32Array {
    this.need(4 * n, what);
    const a = new Uint32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.view.getUint32(this.pos + 4 * i, true);
    this.pos += 4 * n;
    return a;
  }
  u8s(n: number, what: string): Uint8Array {
    this.need(n, what);
    const a = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return a;
  }
}
