/**
 * PROCMAP_QUERY over HTTP (API.md "procfs reads"): query inputs, the answer's JSON shape, and the
 * conversions. The flag bits are the uapi's `enum procmap_query_flags` (include/uapi/linux/fs.h).
 */
import { Type } from 'typebox';
import type { QueryAnswer, QueryArgs } from '../cpus/sim-api.js';
import {
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
  PROCMAP_QUERY_FILE_BACKED_VMA,
  PROCMAP_QUERY_VMA_EXECUTABLE,
  PROCMAP_QUERY_VMA_READABLE,
  PROCMAP_QUERY_VMA_SHARED,
  PROCMAP_QUERY_VMA_WRITABLE,
} from '../mm/vm-flags.js';
import { AnswerJsonMemo } from './answer-json-memo.js';
import { HexOutput, StrategyName, U64Input } from './common.js';
import { engineU64, hex, parseU64, UapiValueError } from './uapi.js';

export const QUERY_FLAG_BITS = {
  VMA_READABLE: PROCMAP_QUERY_VMA_READABLE,
  VMA_WRITABLE: PROCMAP_QUERY_VMA_WRITABLE,
  VMA_EXECUTABLE: PROCMAP_QUERY_VMA_EXECUTABLE,
  VMA_SHARED: PROCMAP_QUERY_VMA_SHARED,
  COVERING_OR_NEXT_VMA: PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
  FILE_BACKED_VMA: PROCMAP_QUERY_FILE_BACKED_VMA,
} as const;

/** The four bits that come back in `vma_flags`. */
const VMA_FLAG_NAMES = ['VMA_READABLE', 'VMA_WRITABLE', 'VMA_EXECUTABLE', 'VMA_SHARED'] as const;

/**
 * A flags value the engine sees with the same validity as the kernel: any value with bits above
 * 31 is invalid there (`query_flags & ~0x3f`), and JS bit operations only see 32 bits, so such a
 * value is handed over as 0x40000000 (invalid, and still invalid after ToInt32).
 */
const INVALID_HIGH_FLAGS = 0x40000000;

export const QueryFlagsInput = Type.Union(
  [Type.String({ maxLength: 200 }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })],
  {
    description:
      'the kernel bit value (number, "0x…" or decimal) or "|"-separated names: ' +
      Object.keys(QUERY_FLAG_BITS).join('|'),
    examples: ['COVERING_OR_NEXT_VMA|VMA_EXECUTABLE'],
  },
);

/** Parses query flags; unknown names are EINVAL (as unknown bits are in the ioctl). */
export function parseQueryFlags(input: string | number | undefined): number {
  if (input === undefined || input === '') return 0;
  if (typeof input === 'number' || /^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(input)) {
    const v = parseU64('flags', input);
    return v > 0x3fffffffn ? INVALID_HIGH_FLAGS : Number(v);
  }
  let bits = 0;
  for (const raw of input.split('|')) {
    const name = raw.trim().replace(/^PROCMAP_QUERY_/, '');
    // Own properties only: "toString" or "__proto__" are unknown names, not inherited members.
    const bit = Object.hasOwn(QUERY_FLAG_BITS, name)
      ? QUERY_FLAG_BITS[name as keyof typeof QUERY_FLAG_BITS]
      : undefined;
    if (bit === undefined) {
      const known = Object.keys(QUERY_FLAG_BITS).join(', ');
      // An empty name (`A|`, a space): say so, with what was given, rather than `unknown flag ""`.
      const what = name === '' ? `empty flag name in "${input}"` : `unknown flag "${name}"`;
      throw new UapiValueError('EINVAL', `flags: ${what} (names joined with |; known: ${known})`);
    }
    bits |= bit;
  }
  return bits;
}

export const BooleanFlag = Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)]);

/**
 * An address in either batch form: any string of at most 64 characters or any JSON integer. One
 * that is not a u64 ("zz", -1, 2^64) is its own entry's EINVAL, the other entries still run; a
 * value of another type refuses the body whole (400). The point query's `addr` is `U64Input`.
 */
const BATCH_ADDRESS_MAX_CHARS = 64;
export const BatchAddressInput = Type.Union([
  Type.String({ maxLength: BATCH_ADDRESS_MAX_CHARS }),
  Type.Integer(),
]);

/** Whether `v` is a `BatchAddressInput` (the batch bodies' shape checks). */
export function isBatchAddressInput(v: unknown): boolean {
  return typeof v === 'string' ? v.length <= BATCH_ADDRESS_MAX_CHARS : Number.isInteger(v);
}

export const QueryInput = Type.Object(
  {
    addr: BatchAddressInput,
    flags: Type.Optional(QueryFlagsInput),
    name: Type.Optional(BooleanFlag),
    build_id: Type.Optional(BooleanFlag),
  },
  { additionalProperties: false },
);

export const QueryString = Type.Object({
  addr: U64Input,
  flags: Type.Optional(Type.String({ maxLength: 200 })),
  name: Type.Optional(Type.Boolean({ description: 'return vma_name (default true)' })),
  build_id: Type.Optional(Type.Boolean({ description: 'return build_id (default true)' })),
});

/** GET /proc/:pid/procmap_query's querystring: the query and the reader's strategy. */
export const PointQuery = Type.Object({
  ...QueryString.properties,
  strategy: Type.Optional(StrategyName),
});

export function toQueryArgs(input: {
  addr: string | number;
  flags?: string | number;
  name?: boolean | 0 | 1;
  build_id?: boolean | 0 | 1;
}): QueryArgs {
  return {
    addr: engineU64('addr', input.addr),
    flags: parseQueryFlags(input.flags),
    name: input.name === undefined ? true : Boolean(input.name),
    buildId: input.build_id === undefined ? true : Boolean(input.build_id),
  };
}

export const QueryAnswerBody = Type.Object({
  vma_start: HexOutput,
  vma_end: HexOutput,
  vma_flags: Type.Integer(),
  vma_flags_names: Type.Array(Type.String()),
  vma_page_size: Type.Integer(),
  vma_offset: HexOutput,
  inode: Type.Integer(),
  dev_major: Type.Integer(),
  dev_minor: Type.Integer(),
  vma_name: Type.Union([Type.String(), Type.Null()]),
  build_id: Type.Union([Type.String(), Type.Null()]),
});

export function formatQueryAnswer(a: QueryAnswer) {
  return {
    vma_start: hex(a.vmaStart),
    vma_end: hex(a.vmaEnd),
    vma_flags: a.vmaFlags,
    vma_flags_names: VMA_FLAG_NAMES.filter((n) => a.vmaFlags & QUERY_FLAG_BITS[n]),
    vma_page_size: a.vmaPageSize,
    vma_offset: hex(a.vmaOffset),
    inode: a.inode,
    dev_major: a.devMajor,
    dev_minor: a.devMinor,
    vma_name: a.vmaName,
    build_id: a.buildId,
  };
}

/** `vma_flags_names` as JSON for each of the 16 values of the four VMA_* bits. */
export const FLAG_NAMES_JSON: readonly string[] = Array.from({ length: 16 }, (_, bits) =>
  JSON.stringify(VMA_FLAG_NAMES.filter((n) => bits & QUERY_FLAG_BITS[n])),
);

/**
 * `formatQueryAnswer(a)` serialised by hand, in `QueryAnswerBody`'s field order: the point query
 * is the hottest route, and this skips building the object and the schema serializer's walk.
 */
export function buildQueryAnswerJson(a: QueryAnswer): string {
  return (
    `{"vma_start":"${hex(a.vmaStart)}","vma_end":"${hex(a.vmaEnd)}","vma_flags":${a.vmaFlags}` +
    `,"vma_flags_names":${FLAG_NAMES_JSON[a.vmaFlags & 15]},"vma_page_size":${a.vmaPageSize}` +
    `,"vma_offset":"${hex(a.vmaOffset)}","inode":${a.inode},"dev_major":${a.devMajor}` +
    `,"dev_minor":${a.devMinor},"vma_name":${a.vmaName === null ? 'null' : JSON.stringify(a.vmaName)}` +
    `,"build_id":${a.buildId === null ? 'null' : JSON.stringify(a.buildId)}}`
  );
}

const answerJson = new AnswerJsonMemo(buildQueryAnswerJson);

/**
 * The point query's answer as JSON (`buildQueryAnswerJson`), found again when the same answer
 * was written lately (answer-json-memo.ts).
 */
export function queryAnswerJson(a: QueryAnswer): string {
  return answerJson.json(a);
}

/** Point-query answers whose JSON came from the memo so far, on this thread (tests). */
export function queryAnswerJsonHits(): number {
  return answerJson.hits;
}
