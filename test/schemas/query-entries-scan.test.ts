/**
 * The per-query batch's body scanner (query-entries-scan.ts) against the road every other body
 * takes (JSON.parse, then the route's validator and one-pass parse, query-entries.ts): for any
 * body, either the scanner declines (null) or it gives exactly the same columns and error
 * entries; it takes the bodies clients send (JSON.stringify of plain entries, any key order,
 * pretty-printed); it declines what it does not read (escapes, duplicate keys, floats, unknown
 * keys, invalid JSON, more entries than --max-batch), so those keep their usual answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BatchQueryBody } from '../../src/schemas/query-columns.js';
import { batchQueryValidator, QueryEntryBatch } from '../../src/schemas/query-entries.js';
import { scanQueryEntries } from '../../src/schemas/query-entries-scan.js';

const validate = batchQueryValidator({ schema: BatchQueryBody, httpPart: 'body' } as never) as (
  v: unknown,
) => { value?: unknown; error?: unknown } | boolean;

/** What the ordinary road makes of `text`: a QueryEntryBatch, or 'refused' (any 400). */
function ordinary(text: string): QueryEntryBatch | 'refused' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'refused';
  }
  const r = validate(parsed);
  if (typeof r === 'object' && r.value instanceof QueryEntryBatch) return r.value;
  return 'refused';
}

/** The batch as plain data, for deepEqual. */
function plain(b: QueryEntryBatch) {
  const e = b.batch.entries;
  return {
    count: b.count,
    addrs: [...b.batch.addrs],
    flags: e ? [...e.flags] : null,
    want: e ? [...e.want] : null,
    bad: b.bad === null ? null : Array.from({ length: b.count }, (_, i) => b.bad?.[i] ?? null),
  };
}

const hexDigits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
const addr = fc.oneof(
  hexDigits(1, 13).map((h) => `0x${h}`),
  hexDigits(1, 13).map((h) => `0X${h}`),
  hexDigits(14, 18).map((h) => `0x${h}`),
  fc.bigInt({ min: 0n, max: 2n ** 66n }).map((v) => v.toString()),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom('', '0x', '0xzz', '-1', ' 0x10', '0x1000\u00e9', 1.5, -3, 2 ** 60, null, true),
);
const flags = fc.oneof(
  fc.constantFrom('COVERING_OR_NEXT_VMA', 'COVERING_OR_NEXT_VMA|FILE_BACKED_VMA', '0', '0x3'),
  fc.constantFrom('NOPE', '', 'VMA_READABLE | VMA_WRITABLE', '0x7fffffffffffffff', 'a"b'),
  fc.integer({ min: 0, max: 2 ** 40 }),
  fc.constantFrom(-1, 1.5, null, 'x'.repeat(201)),
);
const boolFlag = fc.constantFrom(true, false, 0, 1, 2, 'true', null);
/** Any subset of the keys, an unknown one among them. */
const entry = fc.record(
  { addr, flags, name: boolFlag, build_id: boolFlag, other: fc.constant(1) },
  { requiredKeys: [] },
);
const entries = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ addr }) },
    {
      weight: 3,
      arbitrary: fc.record({ addr, flags, name: boolFlag }, { requiredKeys: ['addr'] }),
    },
    { weight: 1, arbitrary: entry },
  ),
  { maxLength: 12 },
);

/** Key order shuffled, spacing varied: the same JSON value as other text. */
function texts(queries: Array<Record<string, unknown>>, seed: number): string[] {
  const reordered = queries.map((q, i) =>
    Object.fromEntries((i + seed) % 2 === 0 ? Object.entries(q) : Object.entries(q).reverse()),
  );
  return [
    JSON.stringify({ queries }),
    JSON.stringify({ queries: reordered }),
    JSON.stringify({ queries }, null, seed % 4),
    ` \n${JSON.stringify({ queries }).replaceAll(',', ' ,\t').replaceAll(':', ': ')}\r\n`,
  ];
}

test('the scanner gives what JSON.parse and the validator give, or declines', () => {
  let taken = 0;
  fc.assert(
    fc.property(entries, fc.nat(7), (queries, seed) => {
      for (const text of texts(queries as Array<Record<string, unknown>>, seed)) {
        const scanned = scanQueryEntries(Buffer.from(text), 1000);
        if (scanned === null) continue;
        taken++;
        const road = ordinary(text);
        assert.notEqual(road, 'refused', `scanned a body the ordinary road refuses: ${text}`);
        assert.deepEqual(plain(scanned), plain(road as QueryEntryBatch), text);
      }
    }),
    { numRuns: 3000 },
  );
  // Most bodies hold an entry outside the subset somewhere; still, many are taken.
  assert.ok(taken > 1000, `the scanner took only ${taken} bodies`);
});

test('the bodies clients send are scanned, not declined', () => {
  const samples = [
    { queries: [] },
    { queries: [{ addr: '0x7f0000001000' }, { addr: '0x0' }] },
    { queries: [{ addr: '0x7f0000001000', flags: 'COVERING_OR_NEXT_VMA', name: false }] },
    { queries: [{ build_id: 0, addr: 4096, name: 1 }, { addr: '18446744073709551615' }] },
    { queries: [{ addr: '0x10000000000000000' }, { addr: '0x1000', flags: 'NOPE' }] },
  ];
  for (const body of samples) {
    for (const text of [JSON.stringify(body), JSON.stringify(body, null, 2)]) {
      const scanned = scanQueryEntries(Buffer.from(text), 1000);
      assert.ok(scanned !== null, text);
      assert.deepEqual(plain(scanned), plain(ordinary(text) as QueryEntryBatch), text);
    }
  }
});

test('declined: escapes, non-ASCII, duplicates, floats, other keys, bad JSON, over max-batch', () => {
  const declined = [
    '{"queries":[{"addr":"0x1\\u0030"}]}',
    '{"queries":[{"addr":"0x1000","flags":"VMA_READABLE\u00e9"}]}',
    '{"queries":[{"addr":"0x1000","addr":"0x2000"}]}',
    '{"queries":[{"addr":1.0}]}',
    '{"queries":[{"addr":1e3}]}',
    '{"queries":[{"addr":01}]}',
    '{"queries":[{"addr":"0x1000","x":1}]}',
    '{"queries":[{"addr":"0x1000"}],"addrs":[]}',
    '{"queries":[{"addr":"0x1000"}]',
    '{"queries":[{"addr":"0x1000"},]}',
    '{"queries":[{"addr":"0x1000"}]}x',
    '\ufeff{"queries":[]}',
    '{"queries":[{"addr":"0x1000","name":null}]}',
    '{"queries":[{}]}',
    '{"__proto__":[]}',
    '',
  ];
  for (const text of declined) assert.equal(scanQueryEntries(Buffer.from(text), 1000), null, text);
  const three = '{"queries":[{"addr":"0x1"},{"addr":"0x2"},{"addr":"0x3"}]}';
  assert.equal(scanQueryEntries(Buffer.from(three), 2), null);
  assert.equal(scanQueryEntries(Buffer.from(three), 3)?.count, 3);
});
