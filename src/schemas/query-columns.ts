/**
 * The compact form of the batch PROCMAP_QUERY (API.md "Batch queries, compact form"): the body is
 * `{"addrs": ["0x…", …], "flags": …, "name": true}` (one flags value for all addresses) and the
 * answer is column-wise, one entry per address in every column:
 *
 *   {"vma_start":[…],"vma_end":[…],"vma_flags":[…],"vma_offset":[…],"inode":[…],
 *    "dev_major":[…],"dev_minor":[…],"vma_name":[…],"errno":[0|2|22|…]}
 *
 * `errno` is 0 where the lookup succeeded; elsewhere every other column holds null. An address
 * that does not parse gets errno 22 (EINVAL) in its own entry, as in the per-query form.
 *
 * No object per address on either side: the addresses are parsed into a Float64Array, the engine
 * answers into typed columns (`QueryColumns`, src/procfs/query-batch.ts), and the reply is
 * written byte by byte into one Buffer (the hex and decimal writers of the maps formatter; each
 * distinct name serialised once with `JSON.stringify`), byte for byte what `JSON.stringify` gives
 * for the nine arrays.
 */
import { Type } from 'typebox';
import type { AddressBatch, QueryColumns } from '../cpus/sim-api.js';
import { EINVAL } from '../mm/errno.js';
import { writeDecimal, writeHex } from '../procfs/hex.js';
import { BooleanFlag, parseQueryFlags, QueryFlagsInput, QueryInput } from './query.js';
import { engineU64, UapiValueError } from './uapi.js';

export const CompactBatchBody = Type.Object(
  {
    addrs: Type.Array(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()])),
    flags: Type.Optional(QueryFlagsInput),
    name: Type.Optional(BooleanFlag),
  },
  { additionalProperties: false },
);

/** The batch route's body: per-query (`queries`) or compact (`addrs`). */
export const BatchQueryBody = Type.Union([
  Type.Object({ queries: Type.Array(QueryInput) }, { additionalProperties: false }),
  CompactBatchBody,
]);

export interface CompactBatch {
  addrs: (string | number)[];
  flags?: string | number;
  name?: boolean | 0 | 1;
}

/** The parsed request: the engine's batch (the addresses that parsed) and where they go. */
export interface CompactQueries {
  /** Addresses in the request. */
  count: number;
  batch: AddressBatch;
  /** null: every address parsed (batch.addrs[i] is address i); else 1 where one did not. */
  bad: Uint8Array | null;
}

/** Value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * A "0x…" string of 1–13 hex digits (below 2^52: every user address) parsed as a number, or -1
 * for anything else (engineU64 decides those, and words their errors).
 */
function shortHex(s: string): number {
  const n = s.length;
  if (n < 3 || n > 15 || s.charCodeAt(0) !== 48 || (s.charCodeAt(1) | 0x20) !== 120) return -1;
  let v = 0;
  for (let i = 2; i < n; i++) {
    const d = hexValue(s.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** An address as the engine number, or -1 when it does not parse (EINVAL in its entry). */
function compactAddress(a: string | number): number {
  if (typeof a === 'string') {
    const v = shortHex(a);
    if (v >= 0) return v;
  } else if (Number.isSafeInteger(a) && a >= 0) {
    return a;
  }
  try {
    return engineU64('addr', a);
  } catch (e) {
    if (!(e instanceof UapiValueError)) throw e;
    return -1;
  }
}

/**
 * Parses the addresses (a bad one is EINVAL in its own entry). Bad flags throw: they are the same
 * for every address, so the whole request is a 400 EINVAL.
 */
export function toCompactQueries(body: CompactBatch): CompactQueries {
  const flags = parseQueryFlags(body.flags);
  const name = body.name === undefined ? true : Boolean(body.name);
  const n = body.addrs.length;
  let addrs = new Float64Array(n);
  let bad: Uint8Array | null = null;
  let good = 0;
  for (let i = 0; i < n; i++) {
    const v = compactAddress(body.addrs[i]);
    if (v < 0) {
      bad ??= new Uint8Array(n);
      bad[i] = 1;
    } else {
      addrs[good++] = v;
    }
  }
  if (good < n) addrs = addrs.slice(0, good);
  return { count: n, batch: { addrs, flags, name }, bad };
}

/** JSON string literals (as UTF-8 bytes) of the names seen lately: a batch repeats a few names. */
const nameJson = new Map<string, Buffer>();
const NAME_CACHE_SIZE = 1024;

function jsonName(name: string): Buffer {
  let j = nameJson.get(name);
  if (j === undefined) {
    j = Buffer.from(JSON.stringify(name), 'utf8');
    if (nameJson.size >= NAME_CACHE_SIZE) nameJson.clear();
    nameJson.set(name, j);
  }
  return j;
}

const NULL = [0x6e, 0x75, 0x6c, 0x6c];
/** Bytes per answered address at most, names aside: 3 × `"0x`+16+`"`, flags, inode, devs, errno, commas. */
const MAX_ADDRESS_BYTES = 3 * 21 + 3 + 25 + 2 * 11 + 12 + 5;
const TWO_53 = 2 ** 53;

/** Where the answer is written before it is copied out at its exact size (grown as needed). */
let scratch = Buffer.allocUnsafeSlow(1 << 16);

/** Writes the output of a column; returns the end. */
type ColumnWriter = (buf: Buffer, pos: number, j: number) => number;

function writeNull(buf: Buffer, pos: number): number {
  buf[pos] = NULL[0];
  buf[pos + 1] = NULL[1];
  buf[pos + 2] = NULL[2];
  buf[pos + 3] = NULL[3];
  return pos + 4;
}

function writeAscii(buf: Buffer, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + s.length;
}

/** `"0x…"` as `hex()` writes it (lowercase, no padding), for any integral double < 2^64. */
function writeHexString(buf: Buffer, pos: number, v: number): number {
  buf[pos] = 0x22;
  buf[pos + 1] = 0x30;
  buf[pos + 2] = 0x78;
  const p = writeHex(buf, pos + 3, v, 1);
  buf[p] = 0x22;
  return p + 1;
}

/** A JSON number as `String(v)` writes it (exactly: decimal digits below 2^53). */
function writeNumber(buf: Buffer, pos: number, v: number): number {
  return v < TWO_53 ? writeDecimal(buf, pos, v) : writeAscii(buf, pos, String(v));
}

/**
 * The column-wise answer as JSON bytes: `q` says which addresses parsed (the others are EINVAL),
 * `cols` holds the engine's answers of those, in order.
 */
export function queryColumnsBytes(q: CompactQueries, cols: QueryColumns): Buffer {
  const n = q.count;
  const bad = q.bad;
  const errno = cols.errno;
  const names = cols.names.map(jsonName);
  // Names: at most every address's name is the longest one.
  let longest = 0;
  for (const b of names) longest = Math.max(longest, b.length);
  const bound = 256 + n * (MAX_ADDRESS_BYTES + longest);
  if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(Math.max(bound, 2 * scratch.length));
  const buf = scratch;
  let pos = 0;
  const column = (key: string, first: boolean, write: ColumnWriter) => {
    pos = writeAscii(buf, pos, first ? `{"${key}":[` : `],"${key}":[`);
    for (let i = 0, j = 0; i < n; i++) {
      if (i > 0) buf[pos++] = 0x2c;
      if (bad !== null && bad[i] === 1) pos = writeNull(buf, pos);
      else {
        pos = errno[j] === 0 ? write(buf, pos, j) : writeNull(buf, pos);
        j++;
      }
    }
  };
  column('vma_start', true, (b, p, j) => writeHexString(b, p, cols.start[j]));
  column('vma_end', false, (b, p, j) => writeHexString(b, p, cols.end[j]));
  column('vma_flags', false, (b, p, j) => writeDecimal(b, p, cols.flags[j]));
  column('vma_offset', false, (b, p, j) => writeHexString(b, p, cols.offset[j]));
  column('inode', false, (b, p, j) => writeNumber(b, p, cols.inode[j]));
  column('dev_major', false, (b, p, j) => writeDecimal(b, p, cols.devMajor[j]));
  column('dev_minor', false, (b, p, j) => writeDecimal(b, p, cols.devMinor[j]));
  column('vma_name', false, (b, p, j) => {
    const k = cols.name[j];
    if (k < 0) return writeNull(b, p);
    const json = names[k];
    for (let x = 0; x < json.length; x++) b[p + x] = json[x];
    return p + json.length;
  });
  pos = writeAscii(buf, pos, '],"errno":[');
  for (let i = 0, j = 0; i < n; i++) {
    if (i > 0) buf[pos++] = 0x2c;
    if (bad !== null && bad[i] === 1) pos = writeDecimal(buf, pos, EINVAL);
    else pos = writeDecimal(buf, pos, errno[j++]);
  }
  pos = writeAscii(buf, pos, ']}');
  // Written into the reused scratch (its bound is far above the answer), then copied out once.
  const reply = Buffer.allocUnsafe(pos);
  buf.copy(reply, 0, 0, pos);
  return reply;
}
