/**
 * The values a hostile or careless client sends, as fast-check arbitraries: edge and overflowing
 * u64s in every spelling the API accepts (JSON number, decimal string, hex string) and some it
 * does not, wrong JSON types, names with control bytes, huge arrays and deeply nested JSON. Used
 * by the fuzzers of test/robustness/ and by the robustness bench section (one definition).
 */
import fc from 'fast-check';

/** x86-64 with 4-level paging: the top of user space (arch/x86/include/asm/page_64_types.h). */
export const TASK_SIZE = 2n ** 47n - 4096n;

/** The u64 edges of the brief, with their neighbours (wrapping ranges start one page below). */
const EDGES: readonly bigint[] = [
  0n,
  1n,
  4095n,
  4096n,
  4097n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  TASK_SIZE - 4096n,
  TASK_SIZE,
  TASK_SIZE + 1n,
  2n ** 47n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 8192n,
  2n ** 64n - 4096n,
  2n ** 64n - 4095n,
  2n ** 64n - 1n,
  2n ** 64n,
  2n ** 65n,
];

/** A u64 spelled as a JSON number (unsafe ones lose precision: the API must refuse them). */
const asNumber = (v: bigint) => Number(v);
const asDecimal = (v: bigint) => v.toString(10);
const asHex = (v: bigint) => `0x${v.toString(16)}`;
const asUpperHex = (v: bigint) => `0X${v.toString(16).toUpperCase()}`;

/** Malformed spellings of a number: every one must be EINVAL, never a guess. */
const MALFORMED: readonly unknown[] = [
  '',
  '0x',
  '-1',
  '-0x1000',
  ' 0x1000',
  '0x1000 ',
  '1e5',
  '1.5',
  '0x1p3',
  '+4096',
  '0b1000',
  '0o10',
  '٤٠٩٦',
  '0x１０００',
  'NaN',
  'Infinity',
  `0x${'0'.repeat(63)}1`,
  '9'.repeat(65),
  '9'.repeat(20_000),
  -1,
  -4096,
  1.5,
  4096.000001,
  1e308,
  -0,
];

/** Values of the wrong JSON type for any field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, [], {}, [4096], { hex: '0x1000' }, 'abc'),
  fc.string({ maxLength: 12 }),
  fc.double(),
);

/** Any u64 in any accepted or refused spelling, edge-biased. */
export const hostileU64: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...EDGES), fc.constantFrom(asNumber, asDecimal, asHex, asUpperHex))
      .map(([v, spell]) => spell(v)),
    weight: 6,
  },
  {
    arbitrary: fc
      .bigInt({ min: 0n, max: 2n ** 64n + 1n })
      .chain((v) => fc.constantFrom(asDecimal(v), asHex(v))),
    weight: 2,
  },
  { arbitrary: fc.constantFrom(...MALFORMED), weight: 2 },
  { arbitrary: wrongType, weight: 1 },
);

/**
 * Addresses and lengths that often hit a real mapping of a process laid out like the templates
 * (page-aligned or not), so that some fuzz calls succeed and the partial-failure paths run too.
 */
export function plausibleU64(bases: readonly bigint[]): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.constantFrom(...bases), fc.integer({ min: -4, max: 64 }), fc.boolean())
    .map(([base, pages, aligned]) => base + BigInt(pages) * 4096n + (aligned ? 0n : 1n))
    .filter((v) => v >= 0n)
    .map(asHex);
}

/** A u64 field: mostly hostile, sometimes plausible for the victim. */
export function u64Field(bases: readonly bigint[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: hostileU64, weight: 3 },
    { arbitrary: plausibleU64(bases), weight: 2 },
  );
}

/** Names with control bytes, NULs, newlines, invalid surrogates, overlong ones. */
export const hostileName: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom<unknown>(
    '',
    'a\nb',
    'nul\u0000byte',
    '\u001b[31mred',
    '[heap]',
    'x'.repeat(80),
    'x'.repeat(4097),
    '\ud800',
    'ok name',
    null,
    '/usr/lib/libc.so.6 (deleted)',
    '..\\..\\etc\\passwd',
  ),
  wrongType,
);

/** prot: valid, nearly valid and wrong. */
export const hostileProt: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('rw-', 'r-x', '---', 'rwx', 'r--', '-w-'),
  fc.constantFrom<unknown>('', 'rw', 'rw-x', 'RW-', 'rwp', 7, 'x--', '\u0000\u0000\u0000'),
  wrongType,
);

/** Deeply nested JSON text: `[[[…]]]` or `{"a":{"a":…}}` (built as text: no recursion here). */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A JSON request body that is the wrong shape as a whole. */
export const hostileBodyText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'null',
    '[]',
    '"str"',
    '0',
    '{',
    '{"a":}',
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '\u0000',
    '{"a":1,"a":2}',
  ),
  fc
    .constantFrom(100, 1000, 5000)
    .chain((d) => fc.constantFrom(deepJson(d, 'array'), deepJson(d, 'object'))),
  fc.json({ maxDepth: 3 }),
);

/** A huge array of one item (the limits refuse it cheaply: E2BIG or 413). */
export function hugeArray<T>(item: T, n: number): T[] {
  return new Array<T>(n).fill(item);
}

/** Pids, well-formed and not, as a path segment. */
export function pidSegment(pids: readonly number[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...pids.map(String)), weight: 4 },
    {
      arbitrary: fc.constantFrom(
        '0',
        '-1',
        '1.9',
        '3e0',
        '0x1',
        '2147483647',
        '2147483648',
        '18446744073709551615',
        '9'.repeat(300),
        '%20',
        '1%00',
        '+1',
        '%F0%9F%92%A9',
        'abc',
        '99999',
      ),
      weight: 3,
    },
  );
}

/** A query-string value, hostile. */
export const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '1',
    '1.9',
    '-1',
    '1e5',
    '0x1000',
    '0xffffffffffffffff',
    '18446744073709551616',
    'true',
    'lockless',
    'per_vma',
    'mmap_lock',
    '__proto__',
    'constructor',
    '%00',
    '%ZZ',
    'COVERING_OR_NEXT_VMA|VMA_EXECUTABLE',
    'VMA_READABLE|NOPE',
    '9'.repeat(300),
  ),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);
