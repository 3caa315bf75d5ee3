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
 * written byte by byte into one Buffer (json-bytes.ts), byte for byte what `JSON.stringify` gives
 * for the nine arrays.
 */
import { Type } from 'typebox';
import type { AddressBatch, QueryColumns } from '../cpus/sim-api.js';
import { EINVAL } from '../mm/errno.js';
import { JsonBytes, jsonName, MAX_HEX_STRING_BYTES, MAX_NUMBER_BYTES } from './json-bytes.js';
import {
  BatchAddressInput,
  BooleanFlag,
  parseQueryFlags,
  QueryFlagsInput,
  QueryInput,
} from './query.js';
import type { ReplyAlloc } from './reply-buffers.js';
import { engineU64, hexDigit, UapiValueError } from './uapi.js';

export const CompactBatchBody = Type.Object(
  {
    addrs: Type.Array(BatchAddressInput),
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

/** The hex digits s[from, to) as a number (exact below 2^53), or -1 if one is not a digit. */
function hexRun(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * A "0x…" string of 1–16 hex digits parsed as its engine number when that is the value itself
 * (below 2^53, or a page multiple: `[vsyscall]`'s 0xffffffffff600000), or -1 for anything else
 * (engineU64 decides those, and words their errors). No BigInt, no regex.
 */
function shortHex(s: string): number {
  const n = s.length;
  if (n < 3 || n > 18 || s.charCodeAt(0) !== 48 || (s.charCodeAt(1) | 0x20) !== 120) return -1;
  if (n <= 15) return hexRun(s, 2, n); // at most 13 digits: below 2^52
  const hi = hexRun(s, 2, n - 8);
  const lo = hexRun(s, n - 8, n);
  if (hi < 0 || lo < 0) return -1;
  const v = hi * 2 ** 32 + lo;
  return v < 2 ** 53 || lo % 4096 === 0 ? v : -1;
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

/** Bytes per answered address at most, names aside: 3 hex strings, 4 numbers, errno, commas. */
const MAX_ADDRESS_BYTES = 3 * MAX_HEX_STRING_BYTES + 5 * MAX_NUMBER_BYTES + 9 + 4;

/**
 * The column-wise answer as JSON bytes: `q` says which addresses parsed (the others are EINVAL),
 * `cols` holds the engine's answers of those, in order; in a Buffer from `alloc`.
 */
export function queryColumnsBytes(
  q: CompactQueries,
  cols: QueryColumns,
  alloc: ReplyAlloc = Buffer.allocUnsafe,
): Buffer {
  const n = q.count;
  const bad = q.bad;
  const errno = cols.errno;
  const names = cols.names.map(jsonName);
  // Names: at most every address's name is the longest one.
  let longest = 0;
  for (const b of names) longest = Math.max(longest, b.length);
  const out = new JsonBytes();
  out.reserve(256 + n * (MAX_ADDRESS_BYTES + longest));
  /** One column: `value(j)` writes answer j's entry; null where there is none. */
  const column = (key: string, value: (j: number) => void) => {
    out.ascii(key === 'vma_start' ? `{"${key}":[` : `],"${key}":[`);
    for (let i = 0, j = 0; i < n; i++) {
      if (i > 0) out.comma();
      if (bad !== null && bad[i] === 1) out.null();
      else {
        if (errno[j] === 0) value(j);
        else out.null();
        j++;
      }
    }
  };
  column('vma_start', (j) => out.hexString(cols.start[j]));
  column('vma_end', (j) => out.hexString(cols.end[j]));
  column('vma_flags', (j) => out.number(cols.flags[j]));
  column('vma_offset', (j) => out.hexString(cols.offset[j]));
  column('inode', (j) => out.number(cols.inode[j]));
  column('dev_major', (j) => out.number(cols.devMajor[j]));
  column('dev_minor', (j) => out.number(cols.devMinor[j]));
  column('vma_name', (j) => {
    const k = cols.name[j];
    if (k < 0) out.null();
    else out.bytes(names[k]);
  });
  out.ascii('],"errno":[');
  for (let i = 0, j = 0; i < n; i++) {
    if (i > 0) out.comma();
    out.number(bad !== null && bad[i] === 1 ? EINVAL : errno[j++]);
  }
  out.ascii(']}');
  return out.done(alloc);
}
