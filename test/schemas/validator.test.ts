/**
 * The fast path of the validator compiler accepts exactly what exactValidatorCompiler accepts,
 * with the same converted value, and refuses with the same errors — for the params and
 * querystrings of the routes and for arbitrary string maps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Type } from 'typebox';
import { PidParams, StrategyName } from '../../src/schemas/common.js';
import { exactValidatorCompiler } from '../../src/schemas/exact-params.js';
import { PointQuery } from '../../src/schemas/query.js';
import { fastPathPlan, validatorCompiler } from '../../src/schemas/validator.js';

type Validate = (value: unknown) => { value?: unknown; error?: unknown };

const schemas = {
  params: PidParams,
  query: PointQuery,
  maps: Type.Object({
    strategy: Type.Optional(StrategyName),
    chunk: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 * 1024 * 1024 })),
  }),
};

const value = fc.oneof(
  fc.constantFrom(
    '1',
    '0',
    '01',
    '-1',
    '1.5',
    ' 2',
    '0x10',
    '1e3',
    'true',
    'false',
    '',
    'lockless',
  ),
  fc.nat().map(String),
  fc.string(),
  fc.array(fc.constantFrom('1', '2'), { minLength: 2, maxLength: 2 }),
);
const keys = fc.constantFrom('pid', 'addr', 'flags', 'name', 'build_id', 'strategy', 'chunk', 'x');

test('fast and slow validators agree on every input (value or errors)', () => {
  for (const [part, schema] of Object.entries(schemas)) {
    const route = { schema, httpPart: part === 'params' ? 'params' : 'querystring' } as never;
    const fast = validatorCompiler(route) as Validate;
    const slow = exactValidatorCompiler(route) as Validate;
    fc.assert(
      fc.property(fc.dictionary(keys, value, { maxKeys: 4 }), (input) => {
        const a = fast({ ...input });
        const b = slow({ ...input });
        assert.deepEqual(a, b, JSON.stringify(input));
      }),
      { numRuns: 800 },
    );
  }
});

test('the fast path really converts: pid and chunk become numbers, booleans booleans', () => {
  const v = validatorCompiler({ schema: schemas.query, httpPart: 'querystring' } as never);
  assert.deepEqual((v as Validate)({ addr: '0x10', name: 'false' }), {
    value: { addr: '0x10', name: false },
  });
  const p = validatorCompiler({ schema: PidParams, httpPart: 'params' } as never) as Validate;
  assert.deepEqual(p({ pid: '42' }), { value: { pid: 42 } });
});

test('the hot routes take the fast path: point query and maps (with strategy), pid params', () => {
  // A schema without a plan falls back to Value.Convert on every request (~10 µs under load).
  for (const [part, schema] of Object.entries(schemas)) {
    assert.notEqual(fastPathPlan(schema as never), null, part);
  }
  const v = validatorCompiler({ schema: schemas.maps, httpPart: 'querystring' } as never);
  const input = Object.assign(Object.create(null), { strategy: 'lockless', chunk: '4096' });
  const out = (v as Validate)(input).value as object;
  // The fast path builds a fresh plain object; the exact path converts the parser's own.
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual({ ...out }, { strategy: 'lockless', chunk: 4096 });
});
