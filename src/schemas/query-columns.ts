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
import type { QueryAnswer, QueryArgs, QueryOutcome } from '../cpus/sim-api.js';
import { SimError } from '../cpus/sim-api.js';
import { EINVAL } from '../mm/errno.js';
import { BooleanFlag, parseQueryFlags, QueryFlagsInput, QueryInput } from './query.js';
import { engineU64, hex, UapiValueError } from './uapi.js';

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

/** JSON string literals of the names seen lately (a batch repeats a handful of names). */
const nameJson = new Map<string, string>();
const NAME_CACHE_SIZE = 1024;

function jsonName(name: string | null): string {
  if (name === null) return 'null';
  let j = nameJson.get(name);
  if (j === undefined) {
    j = JSON.stringify(name);
    if (nameJson.size >= NAME_CACHE_SIZE) nameJson.clear();
    nameJson.set(name, j);
  }
  return j;
}

/** One column: `"key":[v0,v1,…]` with `null` where there is no answer. */
function column(
  key: string,
  answers: readonly (QueryAnswer | null)[],
  value: (a: QueryAnswer) => string,
): string {
  let out = `"${key}":[`;
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i];
    if (i > 0) out += ',';
    out += a === null ? 'null' : value(a);
  }
  return `${out}]`;
}

/**
 * The column-wise answer, serialised by hand (no array per column, no JSON.stringify walk):
 * byte for byte what `JSON.stringify` gives for the nine arrays.
 */
export function queryColumnsJson(q: CompactQueries, outcomes: readonly QueryOutcome[]): string {
  const n = q.errno.length;
  const answers: (QueryAnswer | null)[] = new Array(n).fill(null);
  const errno = q.errno;
  for (let j = 0; j < outcomes.length; j++) {
    const o = outcomes[j];
    if (o instanceof SimError) errno[q.slots[j]] = o.errno;
    else answers[q.slots[j]] = o;
  }
  return (
    `{${column('vma_start', answers, (a) => `"${hex(a.vmaStart)}"`)}` +
    `,${column('vma_end', answers, (a) => `"${hex(a.vmaEnd)}"`)}` +
    `,${column('vma_flags', answers, (a) => String(a.vmaFlags))}` +
    `,${column('vma_offset', answers, (a) => `"${hex(a.vmaOffset)}"`)}` +
    `,${column('inode', answers, (a) => String(a.inode))}` +
    `,${column('dev_major', answers, (a) => String(a.devMajor))}` +
    `,${column('dev_minor', answers, (a) => String(a.devMinor))}` +
    `,${column('vma_name', answers, (a) => jsonName(a.vmaName))}` +
    `,"errno":[${errno.join(',')}]}`
  );
}
