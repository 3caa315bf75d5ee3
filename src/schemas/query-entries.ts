/**
 * The per-query batch (`POST /proc/:pid/procmap_query` with `{"queries":[{"addr":…,"flags":…,
 * "name":…,"build_id":…},…]}`): its entries checked and parsed in ONE pass over the parsed JSON
 * into the engine's columns (an `AddressBatch` with `entries`, query-batch.ts), instead of the
 * schema walking every entry and a conversion building an object per entry after it.
 *
 * The one pass is the route's body validator (`batchQueryValidator`): an entry the body schema
 * accepts is parsed exactly as `toQueryArgs` (query.ts) would — one whose address or flags do
 * not convert gets its own EINVAL entry (`toErrorReply` of the same error), as before —, and a
 * body whose shape this pass does not recognise as valid goes to the schema validator, which
 * refuses it with the same 400 as ever (or accepts it: it is then parsed without the shape check).
 * The shape check accepts only what the schema accepts (QueryInput: the keys addr, flags, name,
 * build_id; addr a string of at most 64 characters or an integer, EINVAL in its own entry when it
 * is not a u64, as in the compact form; flags a string of at most 200 characters or a safe
 * integer; name and build_id booleans, 0 or 1).
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { type AddressBatch, WANT_BUILD_ID, WANT_NAME } from '../procfs/query-batch.js';
import { type ErrorBody, toErrorReply } from './errors.js';
import { isBatchAddressInput, parseQueryFlags } from './query.js';
import { engineU64, UapiValueError } from './uapi.js';
import { validatorCompiler } from './validator.js';

/** A per-query batch, parsed: what the batch route hands the engine and writes the reply of. */
export class QueryEntryBatch {
  constructor(
    /** Entries in the request. */
    readonly count: number,
    /** The entries that parsed, in order (row j of the engine's answer is the j-th of them). */
    readonly batch: AddressBatch,
    /** null: every entry parsed; else the error body of each entry that did not (else undefined). */
    readonly bad: (ErrorBody | undefined)[] | null,
  ) {}
}

const FLAGS_MAX_CHARS = 200;

export function isFlagsInput(v: unknown): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  return typeof v === 'string' && v.length <= FLAGS_MAX_CHARS;
}

function isBooleanFlag(v: unknown): boolean {
  return v === true || v === false || v === 0 || v === 1;
}

/** Whether `e` is certainly a valid `QueryInput` (false: let the schema decide). */
function isQueryInput(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const entry = e as Record<string, unknown>;
  let addr = false;
  for (const key in entry) {
    const v = entry[key];
    if (key === 'addr') {
      if (!isBatchAddressInput(v)) return false;
      addr = true;
    } else if (key === 'flags') {
      if (!isFlagsInput(v)) return false;
    } else if (key === 'name' || key === 'build_id') {
      if (!isBooleanFlag(v)) return false;
    } else {
      return false;
    }
  }
  return addr;
}

interface QueryEntry {
  addr: string | number;
  flags?: string | number;
  name?: boolean | 0 | 1;
  build_id?: boolean | 0 | 1;
}

/**
 * The engine's columns of a per-query batch, filled entry by entry (by `parseQueryEntries` from
 * parsed JSON, or by the body scanner from the bytes: query-entries-scan.ts).
 */
export class EntryColumns {
  private addrs: Float64Array;
  private flags: Int32Array;
  private want: Uint8Array;
  private bad: (ErrorBody | undefined)[] | null = null;
  /** Entries added. */
  count = 0;
  /** Entries that parsed (the engine's rows). */
  private good = 0;
  /** A batch repeats a few flags values: each is converted once. */
  private readonly flagValues = new Map<string | number, number | UapiValueError>();

  /** Room for `capacity` entries (more grow the columns). */
  constructor(capacity: number) {
    this.addrs = new Float64Array(capacity);
    this.flags = new Int32Array(capacity);
    this.want = new Uint8Array(capacity);
  }

  /**
   * Adds an entry whose values the schema accepts (`QueryInput`): parsed as `toQueryArgs` would,
   * or its own EINVAL entry when its address or flags do not convert.
   */
  add(
    addr: string | number,
    flags: string | number | undefined,
    name: boolean | 0 | 1 | undefined,
    buildId: boolean | 0 | 1 | undefined,
  ): void {
    let err: UapiValueError | null = null;
    let a = 0;
    let f: number | UapiValueError = 0;
    try {
      a = engineU64('addr', addr);
    } catch (x) {
      if (!(x instanceof UapiValueError)) throw x;
      err = x;
    }
    if (err === null && flags !== undefined) {
      const known = this.flagValues.get(flags);
      f = known ?? flagsValue(flags);
      if (known === undefined) this.flagValues.set(flags, f);
      if (f instanceof UapiValueError) err = f;
    }
    if (err !== null) {
      this.bad ??= [];
      this.bad[this.count++] = toErrorReply(err).body;
      return;
    }
    const want =
      (name === undefined || name ? WANT_NAME : 0) |
      (buildId === undefined || buildId ? WANT_BUILD_ID : 0);
    this.addParsed(a, f as number, want);
  }

  /** Adds an entry already parsed: its engine address, ioctl flags and WANT_* bits. */
  addParsed(addr: number, flags: number, want: number): void {
    const j = this.good;
    if (j === this.addrs.length) this.grow();
    this.addrs[j] = addr;
    this.flags[j] = flags;
    this.want[j] = want;
    this.good = j + 1;
    this.count++;
  }

  private grow(): void {
    const n = 2 * this.addrs.length + 16;
    const addrs = new Float64Array(n);
    addrs.set(this.addrs);
    const flags = new Int32Array(n);
    flags.set(this.flags);
    const want = new Uint8Array(n);
    want.set(this.want);
    this.addrs = addrs;
    this.flags = flags;
    this.want = want;
  }

  done(): QueryEntryBatch {
    const g = this.good;
    // Views of the first `g` (no copy: the columns live as long as the request).
    const fit = <T extends Float64Array | Int32Array | Uint8Array>(a: T) =>
      (a.length === g ? a : a.subarray(0, g)) as T;
    const entries = { flags: fit(this.flags), want: fit(this.want) };
    const batch = { addrs: fit(this.addrs), flags: 0, name: true, entries };
    const bad = this.bad;
    if (bad !== null) bad.length = this.count;
    return new QueryEntryBatch(this.count, batch, bad);
  }
}

/**
 * Parses the entries: each is a valid `QueryInput` if `schemaChecked`; else each is checked here
 * and null comes back at the first that is not certainly valid.
 */
export function parseQueryEntries(
  queries: readonly unknown[],
  schemaChecked: boolean,
): QueryEntryBatch | null {
  const n = queries.length;
  const cols = new EntryColumns(n);
  for (let i = 0; i < n; i++) {
    if (!schemaChecked && !isQueryInput(queries[i])) return null;
    const e = queries[i] as QueryEntry;
    cols.add(e.addr, e.flags, e.name, e.build_id);
  }
  return cols.done();
}

function flagsValue(input: string | number): number | UapiValueError {
  try {
    return parseQueryFlags(input);
  } catch (x) {
    if (x instanceof UapiValueError) return x;
    throw x;
  }
}

/**
 * The batch route's validator compiler: its body validator parses a per-query batch in one pass
 * (a `QueryEntryBatch` becomes the request's body); everything else is the app's validator.
 */
export const batchQueryValidator: FastifySchemaCompiler<TSchema> = (route) => {
  const schema = validatorCompiler(route);
  if (route.httpPart !== 'body') return schema;
  return (value: unknown) => {
    // Already parsed from the bytes by the route's body parser (query-entries-scan.ts).
    if (value instanceof QueryEntryBatch) return { value };
    const queries = perQueryEntries(value);
    if (queries !== null) {
      const parsed = parseQueryEntries(queries, false);
      if (parsed !== null) return { value: parsed };
    }
    const result = schema(value) as { value?: unknown; error?: unknown } | boolean;
    if (queries === null || result === false || (typeof result === 'object' && result.error)) {
      return result as never;
    }
    // The schema accepts what the one pass was not sure of: parse it without the shape check.
    return { value: parseQueryEntries(queries, true) };
  };
};

/** The entries of a `{"queries":[…]}` body (its only key), or null. */
function perQueryEntries(body: unknown): unknown[] | null {
  if (typeof body !== 'object' || body === null) return null;
  if (!Object.hasOwn(body, 'queries') || Object.keys(body).length !== 1) return null;
  const queries = (body as { queries?: unknown }).queries;
  return Array.isArray(queries) ? queries : null;
}
