/**
 * The JSON bodies of hostile requests: each field's value chosen by the field's name (u64s,
 * prot, flags, names, …), syscall call entries and lists of them, maps texts to import, strace
 * texts to replay, activity, create and batch-query bodies. Shared by the HTTP and /ws fuzzers.
 */
import fc from 'fast-check';
import { PROFILES, TEMPLATES } from '../../src/cpus/sim-api.js';
import { BODY_SCHEMAS, MMAP_FLAG_BITS, SYSCALL_OPS } from '../../src/schemas/syscalls.js';
import {
  hostileName,
  hostileProt,
  hostileQueryValue,
  hostileU64,
  hugeArray,
  u64Field,
  wrongType,
} from './hostile-values.js';

/** What the arbitraries are built from: the victim's VMA boundaries and the batch limit. */
export interface RequestShapes {
  bases: readonly bigint[];
  /** The victim's maps text: the base of hostile imports. */
  mapsText: string;
  maxBatch: number;
}

const flagNames = Object.keys(MMAP_FLAG_BITS);
const hostileFlags: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    ['private', 'anonymous'],
    ['private', 'anonymous', 'fixed'],
    ['private', 'anonymous', 'fixed_noreplace'],
    ['shared', 'anonymous'],
    ['private'],
    ['maymove'],
    ['maymove', 'fixed'],
    ['maymove', 'dontunmap'],
  ),
  fc.subarray(flagNames),
  fc.constantFrom<unknown>(
    ['bogus'],
    ['__proto__'],
    ['toString'],
    0,
    0x22,
    0xffffffff,
    2 ** 32,
    -1,
  ),
  fc.constant(hugeArray('private', 40)),
  wrongType,
);

/** A value for a body field, chosen by the field's name (unknown names get u64s and junk). */
export function fieldValue(name: string, shapes: RequestShapes): fc.Arbitrary<unknown> {
  switch (name) {
    case 'prot':
      return hostileProt;
    case 'flags':
      return hostileFlags;
    case 'name':
    case 'path':
    case 'comm':
      return hostileName;
    case 'dev':
      return fc.constantFrom<unknown>('fe:01', '0:0', 'fff:fffff', 'ffff:0', 'fe', ':', 1, null);
    case 'inode':
      return fc.constantFrom<unknown>(0, 1, 2 ** 53 - 1, 2 ** 53, -1, 1.5, '7', null);
    case 'length':
    case 'old_size':
    case 'new_size':
      return fc.oneof(
        hostileU64,
        fc.integer({ min: 1, max: 64 }).map((pages) => `0x${(pages * 4096).toString(16)}`),
      );
    case 'strategy':
      return fc.constantFrom<unknown>('per_vma', 'lockless', 'snapshot', 'bogus', '', 1, null);
    case 'writable':
    case 'write':
    case 'pkeys':
    case 'loop':
      return fc.oneof(fc.boolean(), wrongType);
    default:
      return u64Field(shapes.bases);
  }
}

/** An object with (some of) `fields`, and sometimes an unknown one. */
export function fields(
  names: readonly string[],
  shapes: RequestShapes,
): fc.Arbitrary<Record<string, unknown>> {
  const model = Object.fromEntries(names.map((n) => [n, fieldValue(n, shapes)]));
  return fc
    .tuple(
      fc.record(model, { requiredKeys: [] }),
      fc.option(fc.tuple(fc.constantFrom('bogus', '__proto__', 'op', 'pid'), hostileU64), {
        freq: 6,
      }),
    )
    .map(([o, extra]) => (extra ? { ...o, [extra[0]]: extra[1] } : o));
}

/** The fields of a syscall op's body (from its schema, so a new field is fuzzed too). */
export const opFields = (op: string): string[] =>
  Object.hasOwn(BODY_SCHEMAS, op)
    ? Object.keys(BODY_SCHEMAS[op as keyof typeof BODY_SCHEMAS].properties)
    : ['addr', 'length', 'write'];

/** One `/syscalls` / activity-loop / ws entry: a known op or a hostile one, with fields. */
export function callEntry(shapes: RequestShapes): fc.Arbitrary<unknown> {
  const op = fc.constantFrom<string>(
    ...SYSCALL_OPS,
    ...SYSCALL_OPS,
    'toString',
    '__proto__',
    'bogus',
  );
  return fc.oneof(
    {
      arbitrary: op.chain((o) => fields(opFields(o), shapes).map((f) => ({ op: o, ...f }))),
      weight: 8,
    },
    { arbitrary: wrongType, weight: 1 },
  );
}

/** A list of calls: short, over the batch limit, or huge. */
export function calls(shapes: RequestShapes): fc.Arbitrary<unknown> {
  const valid = { op: 'munmap', addr: '0x1000', length: '0x1000' };
  return fc.oneof(
    { arbitrary: fc.array(callEntry(shapes), { maxLength: 6 }), weight: 8 },
    { arbitrary: fc.constant(hugeArray(valid, shapes.maxBatch + 1)), weight: 1 },
    { arbitrary: fc.constant(hugeArray({ op: 'bogus' }, 20_000)), weight: 1 },
    { arbitrary: wrongType, weight: 1 },
  );
}

/** Maps texts to import: the victim's, cut, with edge addresses or junk lines. */
export function mapsText(shapes: RequestShapes): fc.Arbitrary<unknown> {
  const lines = shapes.mapsText.split('\n');
  return fc.oneof(
    fc.integer({ min: 0, max: lines.length }).map((n) => lines.slice(0, n).join('\n')),
    fc
      .tuple(
        fc.integer({ min: 0, max: lines.length - 1 }),
        fc.constantFrom(
          'ffffffffffff0000-ffffffffffffffff rw-p 00000000 00:00 0',
          '7ffffffff000-800000000000 rw-p 00000000 00:00 0',
          '2000-1000 rw-p 00000000 00:00 0',
          '1000-1000 rw-p 00000000 00:00 0',
          '1001-2000 rw-p 00000000 00:00 0',
          '1000-2000 rwzp 00000000 00:00 0 \u0000',
          '1000-2000 rw-p 00000000 fff:fffff 99999999999999999999 /x',
        ),
      )
      .map(([i, l]) => [...lines.slice(0, i), l, ...lines.slice(i)].join('\n')),
    fc.string({ unit: 'binary', maxLength: 200 }),
    hostileName,
  );
}

/** strace texts to replay: plausible calls with edge numbers, junk lines. */
const straceText: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('0x0', '0xffffffffffffffff', '4096', '0x7ffffffff000'),
      fc.constantFrom('4096', '18446744073709551615', '0'),
    )
    .map(
      ([a, l]) =>
        `100 1700000000.000000 mmap(${a}, ${l}, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ${a}\n`,
    ),
  fc.constantFrom(
    '',
    '\n\n',
    'garbage\n',
    '100 1.0 brk(NULL) = 0x1000\n100 1.1 brk(0xffffffffffffffff) = 0x1000\n',
  ),
  fc.string({ maxLength: 100 }),
  wrongType,
);

export function activityBody(shapes: RequestShapes): fc.Arbitrary<unknown> {
  return fields(['loop', 'profile', 'rate_per_s'], shapes).chain((o) =>
    fc
      .record(
        {
          loop: calls(shapes),
          profile: fc.oneof(fc.constantFrom<unknown>(...PROFILES, 'toString', ''), wrongType),
          rate_per_s: fc.constantFrom<unknown>(
            0,
            -1,
            1e-9,
            1,
            1e9,
            1e10,
            Number.MAX_VALUE,
            '5',
            null,
          ),
        },
        { requiredKeys: [] },
      )
      .map((r) => ({ ...o, ...r })),
  );
}

export function createBody(shapes: RequestShapes): fc.Arbitrary<unknown> {
  return fc.record(
    {
      comm: hostileName,
      template: fc.oneof(
        fc.constantFrom<unknown>(...TEMPLATES, 'toString', '__proto__'),
        wrongType,
      ),
      maps: mapsText(shapes),
      activity: activityBody(shapes),
      pkeys: fc.oneof(fc.boolean(), wrongType),
      replay: straceText,
      final_maps: mapsText(shapes),
      speed: fc.constantFrom<unknown>(0, -1, 1e308, 0.5, '1', null),
      loop: fc.oneof(fc.boolean(), wrongType),
    },
    { requiredKeys: [] },
  );
}

export function queryBody(shapes: RequestShapes): fc.Arbitrary<unknown> {
  const q = fields(['addr', 'flags', 'name', 'build_id'], shapes);
  return fc.oneof(
    fc.record({ queries: fc.oneof(fc.array(q, { maxLength: 6 }), wrongType) }),
    fc.record(
      {
        addrs: fc.oneof(fc.array(u64Field(shapes.bases), { maxLength: 6 }), wrongType),
        flags: hostileQueryValue,
      },
      { requiredKeys: ['addrs'] },
    ),
    fc.constant({ addrs: hugeArray('0x1000', shapes.maxBatch + 1) }),
    fc.constant({ queries: hugeArray({ addr: 1 }, 20_000) }),
    fc.constant({ queries: [], addrs: [] }),
  );
}
