/**
 * The app's schema validator compiler: `exactValidatorCompiler` (exact-params.ts: TypeBox, bodies
 * checked without coercion, params and querystrings converted with `Value.Convert` under
 * exactness rules), plus a fast path for params and querystrings. `Value.Convert` walks the
 * schema on every request (~4 µs for a point query's params + querystring, more than the
 * engine's answer); the fast path converts, with a plan compiled once per schema, only the
 * values whose conversion is unambiguous — canonical decimal integers and `true`/`false` — and
 * leaves strings alone, as the exact path does for string and string-or-integer properties.
 * Anything else (or a value the fast path's result fails to check) goes through the exact path,
 * so every accepted value equals what it would give and every refusal is the same refusal.
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { exactValidatorCompiler } from './exact-params.js';

const KEEP = 0;
const INTEGER = 1;
const BOOLEAN = 2;

/** An integer JSON Schema would accept that Number() reads exactly: no sign, no leading 0. */
const CANONICAL_INTEGER = /^(0|[1-9][0-9]{0,14})$/;

interface JsonSchemaLike {
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  anyOf?: JsonSchemaLike[];
  enum?: unknown[];
}

/** What a string value of the property becomes, or null when the fast path cannot tell. */
function propertyPlan(s: JsonSchemaLike): number | null {
  if (s.type === 'integer' || s.type === 'number') return INTEGER;
  if (s.type === 'boolean') return BOOLEAN;
  if (s.type === 'string') return KEEP;
  // A union that accepts strings keeps a string as it is (Value.Convert does not turn "123"
  // into 123 when String is one of the choices).
  if (s.anyOf?.some((x) => x.type === 'string')) return KEEP;
  // An enum of strings (`strategy`): a string stays itself, and the check decides membership.
  if (s.enum?.every((x) => typeof x === 'string')) return KEEP;
  return null;
}

/** Per-property plan of an object schema, or null when the fast path does not apply. */
export function fastPathPlan(schema: JsonSchemaLike): Map<string, number> | null {
  if (schema.type !== 'object' || schema.properties === undefined) return null;
  const plan = new Map<string, number>();
  for (const [key, s] of Object.entries(schema.properties)) {
    const p = propertyPlan(s);
    if (p === null) return null;
    plan.set(key, p);
  }
  return plan;
}

/** The converted copy, or null to take the slow path. */
function convertFast(plan: Map<string, number>, value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object') return null;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    const p = plan.get(key);
    if (p === undefined || typeof v !== 'string') return null;
    if (p === KEEP) out[key] = v;
    else if (p === INTEGER) {
      if (!CANONICAL_INTEGER.test(v)) return null;
      out[key] = Number(v);
    } else if (v === 'true' || v === 'false') out[key] = v === 'true';
    else return null;
  }
  return out;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const slow = exactValidatorCompiler(route);
  const plan = route.httpPart === 'body' ? null : fastPathPlan(route.schema as JsonSchemaLike);
  if (plan === null) return slow;
  const check = Compile(route.schema);
  return (value: unknown) => {
    const converted = convertFast(plan, value);
    if (converted !== null && check.Check(converted)) return { value: converted };
    return slow(value);
  };
};
