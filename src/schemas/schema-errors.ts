/**
 * One clear message for a request that fails its schema. TypeBox reports every branch of a union
 * that did not match (`addr` alone gives "must match pattern …, must be integer, must match a
 * schema in anyOf"), and a body that is one of two shapes (the batch query) adds the other
 * shape's complaints at the top ("must have required properties addrs, … schema is false").
 * Here one field is named with what its value is not, in the words the syscall batches use for
 * their entries (`body/addr "0x" is not a u64`): within the shape the value came closest to, the
 * first error about a value no other error looks inside of (`clearSchemaError`).
 */
import type { TSchema } from 'typebox';
import { ProtString, U64Input } from './common.js';

/** What an error message says a field should be, for the schemas whose own words are long. */
const SHORT_NAMES = new Map<string, string>([
  [(U64Input as { description?: string }).description ?? '', 'a u64'],
  [(ProtString as { description?: string }).description ?? '', 'a prot like "rw-"'],
]);

interface SchemaLike {
  type?: string;
  description?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaLike[];
  minimum?: number;
}

/** A value as an error message shows it (JSON, cut at 40 characters). */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  boolean: 'a boolean',
  number: 'a number',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

/** What a value of `schema` is, in a few words ("a u64", "one of a, b", "an integer ≥ 1"). */
export function expectedOf(schema: TSchema | SchemaLike): string {
  const s = schema as SchemaLike;
  const short = SHORT_NAMES.get(s.description ?? '');
  if (short !== undefined) return short;
  if (s.enum !== undefined) return `one of ${s.enum.map(String).join(', ')}`;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf !== undefined) {
    const consts = s.anyOf.every((x) => x.const !== undefined);
    if (consts) return `one of ${s.anyOf.map((x) => JSON.stringify(x.const)).join(', ')}`;
    return [...new Set(s.anyOf.map(expectedOf))].join(' or ');
  }
  if (s.pattern !== undefined) return `a string matching ${s.pattern}`;
  if (s.type === 'integer') {
    // A bound below 0 says nothing a reader needs (madvise's advice is any int).
    return s.minimum !== undefined && s.minimum >= 0 ? `an integer ≥ ${s.minimum}` : 'an integer';
  }
  return ARTICLE[s.type ?? ''] ?? 'a valid value';
}

/** A TypeBox/Ajv-style error as fastify formats it (`${part}${instancePath} ${message}`). */
export interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** Follows a JSON pointer ("#/properties/addr/anyOf/0", "/queries/0/addr") from `root`. */
function at(root: unknown, pointer: string): unknown {
  let node = root;
  const path = pointer.replace(/^#/, '');
  if (path === '') return node;
  for (const raw of path.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Keywords about what the value is, reworded here ("X is not Y"); a property the schema does not
 * allow ("boolean": its schema is `false`) is "not allowed here"; the others (a bound: "must be
 * >= 1", a property missing) keep TypeBox's message, which names the bound or property.
 */
const VALUE_KEYWORDS = new Set(['anyOf', 'type', 'pattern', 'enum', 'const']);
const NOT_ALLOWED = 'boolean';

/** The schema path of a root union's branch an error belongs to ("#/anyOf/1"), or "". */
function rootBranch(e: SchemaError): string {
  const m = /^#\/anyOf\/[0-9]+/.exec(e.schemaPath);
  return m === null ? '' : m[0];
}

/**
 * A body that is one of several shapes fails each of them: only the errors of the shape it
 * came closest to say what is wrong with it — the shape with the fewest wrong places (a value
 * that fails a union inside a shape is one wrong place, however many errors its branches give:
 * `{"addrs":["0x1",1.5]}` is the compact batch with one bad address, not the per-query form
 * with a missing `queries` and an unknown `addrs`).
 */
function closestShape(errors: readonly SchemaError[]): readonly SchemaError[] {
  const byBranch = new Map<string, SchemaError[]>();
  for (const e of errors) {
    const b = rootBranch(e);
    if (b !== '') byBranch.set(b, [...(byBranch.get(b) ?? []), e]);
  }
  let best: SchemaError[] | null = null;
  let bestPlaces = 0;
  for (const list of byBranch.values()) {
    const places = new Set(list.map((e) => e.instancePath)).size;
    if (best === null || places < bestPlaces) {
      best = list;
      bestPlaces = places;
    }
  }
  return best ?? errors;
}

/** Errors about a value no other error is about a part of (a union's siblings are kept). */
function leaves(errors: readonly SchemaError[]): SchemaError[] {
  return errors.filter((e) => !errors.some((o) => o.instancePath.startsWith(`${e.instancePath}/`)));
}

function rank(e: SchemaError): number {
  if (VALUE_KEYWORDS.has(e.keyword)) return 0;
  return e.keyword === NOT_ALLOWED ? 1 : 2;
}

/**
 * The one error to report for `errors` (TypeBox's, for `value` against `schema`): within the
 * shape the value came closest to, the first error about a leaf value — what it is not, or that
 * it is not allowed — else the first error about a missing property or a bound, as TypeBox says.
 */
export function clearSchemaError(
  schema: TSchema,
  value: unknown,
  errors: readonly SchemaError[],
): SchemaError {
  const candidates = leaves(closestShape(errors));
  let pick = candidates[0] ?? errors[0];
  for (const e of candidates) if (rank(e) < rank(pick)) pick = e;
  if (pick.keyword === NOT_ALLOWED) return { ...pick, message: 'is not allowed here' };
  if (!VALUE_KEYWORDS.has(pick.keyword)) return pick;
  // A union at this path says what the value should have been (its error has the shortest
  // schema path among those of its branches).
  for (const e of errors) {
    if (
      e.keyword === 'anyOf' &&
      e.instancePath === pick.instancePath &&
      pick.schemaPath.startsWith(e.schemaPath) &&
      e.schemaPath.length < pick.schemaPath.length
    ) {
      pick = e;
    }
  }
  const sub = at(schema, pick.schemaPath) as SchemaLike | undefined;
  const v = at(value, pick.instancePath);
  if (sub === undefined || v === undefined) return pick;
  return { ...pick, message: `${shown(v)} is not ${expectedOf(sub)}` };
}
