/**
 * The validator compiler of every route: TypeBox, with path and query integers taken exactly.
 *
 * Path parameters and query strings arrive as strings and TypeBox's `Value.Convert` turns them into
 * the schema's types, lossily: `"1.9"` and `"3e0"` become the integers 1 and 3, `""` becomes 0, and
 * a u64 field (`"0x…"` string or integer) takes `"1e5"` as 100000. Here a string for an integer
 * field must be plain decimal digits, and a string for a field that also accepts strings is never
 * converted to a number; anything else is EINVAL (400) before a route runs. Bodies are JSON and
 * are checked without conversion, as before.
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { clearSchemaError, expectedOf, type SchemaError, shown } from './schema-errors.js';

/** A safe integer's digits (the schemas bound the value itself). */
const DECIMAL = /^[0-9]{1,15}$/;

type Rule = 'integer' | 'keep-string';

interface JsonSchemaLike {
  type?: string;
  anyOf?: JsonSchemaLike[];
  properties?: Record<string, JsonSchemaLike>;
}

/** Which properties of a params/querystring object schema need an exactness rule. */
function rulesOf(schema: JsonSchemaLike): Map<string, Rule> {
  const rules = new Map<string, Rule>();
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.type === 'integer') rules.set(name, 'integer');
    else if (prop.anyOf?.some((s) => s.type === 'string')) rules.set(name, 'keep-string');
  }
  return rules;
}

function refusal(name: string, message: string) {
  return {
    error: [{ instancePath: `/${name}`, schemaPath: '#', keyword: 'exact', params: {}, message }],
  } as never;
}

type Validate = (value: unknown) => { value?: unknown; error?: SchemaError[] };

/** `validate` with its errors cut to the one that says what is wrong (schema-errors.ts). */
function withClearErrors(schema: TSchema, validate: Validate): Validate {
  return (value) => {
    const result = validate(value);
    const errors = result.error;
    if (!Array.isArray(errors) || errors.length === 0) return result;
    return { error: [clearSchemaError(schema, value, errors)] };
  };
}

export const exactValidatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const validate = withClearErrors(route.schema, TypeBoxValidatorCompiler(route) as Validate);
  if (route.httpPart === 'body' || route.httpPart === 'headers') return validate as never;
  const rules = rulesOf(route.schema as JsonSchemaLike);
  if (rules.size === 0) return validate as never;
  return (value: unknown) => {
    const raw = value as Record<string, unknown>;
    const strings = new Map<string, string>();
    for (const [name, rule] of rules) {
      if (!Object.hasOwn(raw, name)) continue;
      const v = raw[name];
      if (Array.isArray(v)) return refusal(name, 'must be given once');
      if (rule === 'integer' && typeof v === 'string' && !DECIMAL.test(v)) {
        return refusal(name, `must be a decimal integer, not "${v}"`);
      }
      if (rule === 'keep-string' && typeof v === 'string') strings.set(name, v);
    }
    const result = validate(value) as { value?: Record<string, unknown>; error?: unknown };
    if (result.error || !result.value) return result as never;
    for (const [name, v] of strings) {
      if (result.value[name] !== v) {
        const prop = (route.schema as JsonSchemaLike).properties?.[name] ?? {};
        return refusal(name, `${shown(v)} is not ${expectedOf(prop as TSchema)}`);
      }
    }
    return result as never;
  };
};
