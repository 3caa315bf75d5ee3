/**
 * The compact form of the batch PROCMAP_QUERY (API.md "Batch queries, compact form"): the body is
 * `{"addrs": ["0x…", …], "flags": …, "name": true}` (one flags value for all addresses) and the
 * answer is column-wise, one entry per address in every column:
 *
 *   {"vma_start":[…],"vma_end":[…],"vma_flags":[…],"vma_offset":[…],"inode":[…],
 *    "dev_major":[…],"dev_minor":[…],"vma_name":[…],"errno":[0|2|22|…]}
 *
 * `errno` is 0 where the lookup succeeded; elsewhere every other column holds null. An address
 * that does not parse gets errno 22 (EINVAL) in its own entry, as in the per-query form. Besides
 * being smaller on the wire, the columns are built with no object per answer and serialised with
 * one `JSON.stringify` of nine arrays.
 */
import { Type } from 'typebox';
import type { QueryArgs, QueryOutcome } from '../cpus/sim-api.js';
import { SimError } from '../cpus/sim-api.js';
import { EINVAL } from '../mm/errno.js';
import { BooleanFlag, parseQueryFlags, QueryFlagsInput } from './query.js';
import { engineU64, hex, UapiValueError } from './uapi.js';

export const CompactBatchBody = Type.Object(
  {
    addrs: Type.Array(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()])),
    flags: Type.Optional(QueryFlagsInput),
    name: Type.Optional(BooleanFlag),
  },
  { additionalProperties: false },
);

export interface CompactBatch {
  addrs: (string | number)[];
  flags?: string | number;
  name?: boolean | 0 | 1;
}

/** The parsed request: the engine's queries and, for each, the index of its address. */
export interface CompactQueries {
  args: QueryArgs[];
  slots: number[];
  /** errno per address: EINVAL where the address did not parse, 0 until answered otherwise. */
  errno: number[];
}

/**
 * Parses the addresses (a bad one is EINVAL in its own entry). Bad flags throw: they are the same
 * for every address, so the whole request is a 400 EINVAL.
 */
export function toCompactQueries(body: CompactBatch): CompactQueries {
  const flags = parseQueryFlags(body.flags);
  const name = body.name === undefined ? true : Boolean(body.name);
  const n = body.addrs.length;
  const args: QueryArgs[] = [];
  const slots: number[] = [];
  const errno: number[] = new Array(n).fill(0);
  for (let i = 0; i < n; i++) {
    let addr: number;
    try {
      addr = engineU64('addr', body.addrs[i]);
    } catch (e) {
      if (!(e instanceof UapiValueError)) throw e;
      errno[i] = EINVAL;
      continue;
    }
    args.push({ addr, flags, name, buildId: false });
    slots.push(i);
  }
  return { args, slots, errno };
}

/** The column-wise answer, serialised. */
export function queryColumnsJson(q: CompactQueries, outcomes: readonly QueryOutcome[]): string {
  const n = q.errno.length;
  const vmaStart: (string | null)[] = new Array(n).fill(null);
  const vmaEnd: (string | null)[] = new Array(n).fill(null);
  const vmaFlags: (number | null)[] = new Array(n).fill(null);
  const vmaOffset: (string | null)[] = new Array(n).fill(null);
  const inode: (number | null)[] = new Array(n).fill(null);
  const devMajor: (number | null)[] = new Array(n).fill(null);
  const devMinor: (number | null)[] = new Array(n).fill(null);
  const vmaName: (string | null)[] = new Array(n).fill(null);
  const errno = q.errno;
  for (let j = 0; j < outcomes.length; j++) {
    const o = outcomes[j];
    const i = q.slots[j];
    if (o instanceof SimError) {
      errno[i] = o.errno;
      continue;
    }
    vmaStart[i] = hex(o.vmaStart);
    vmaEnd[i] = hex(o.vmaEnd);
    vmaFlags[i] = o.vmaFlags;
    vmaOffset[i] = hex(o.vmaOffset);
    inode[i] = o.inode;
    devMajor[i] = o.devMajor;
    devMinor[i] = o.devMinor;
    vmaName[i] = o.vmaName;
  }
  return JSON.stringify({
    vma_start: vmaStart,
    vma_end: vmaEnd,
    vma_flags: vmaFlags,
    vma_offset: vmaOffset,
    inode,
    dev_major: devMajor,
    dev_minor: devMinor,
    vma_name: vmaName,
    errno,
  });
}
