/**
 * The /ws protocol (API.md "Configuration and observability"). Client → server messages are JSON
 * text, each validated here; anything else gets an error message back, never a dropped server.
 *
 * - `{"subscribe":"events","pid"?:N}` — every mutation (of one pid) as
 *   `{"type":"mutation","pid","op","args","result"}`; `{"unsubscribe":"events"}` stops it.
 * - `{"subscribe":"rates"}` — once a second `{"type":"rates","strategy","reads_per_s",…}`.
 * - `{"id":…,"op":…,"pid":…,…}` — a request, answered `{"id":…,"result":…}` or
 *   `{"id":…,"error":{"error","errno","message"}}`. ops: `maps`, `procmap_query`, every mutation
 *   op with its endpoint's fields, `syscalls` (`calls`), `process`, `processes`, `config`.
 *   `maps` with `"chunks":true` answers `{"text","chunks":[…]}`: per chunk its byte length, line
 *   count and what its lock window took (src/procfs/chunk-stats.ts).
 */
import { type Static, type TSchema, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { StrategyName, U64Input } from './common.js';
import { BooleanFlag, QueryFlagsInput } from './query.js';
import { clearSchemaError, type SchemaError } from './schema-errors.js';
import { SYSCALL_OPS } from './syscalls.js';
import { UapiValueError } from './uapi.js';

export const WS_CLOSE_SLOW_CONSUMER = 1008;

const RequestId = Type.Union([Type.String({ maxLength: 200 }), Type.Number()]);
const Pid = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 });

const Subscribe = Type.Object(
  {
    subscribe: Type.Union([Type.Literal('events'), Type.Literal('rates')]),
    pid: Type.Optional(Pid),
  },
  { additionalProperties: false },
);
const Unsubscribe = Type.Object(
  { unsubscribe: Type.Union([Type.Literal('events'), Type.Literal('rates')]) },
  { additionalProperties: false },
);
const MapsRequest = Type.Object(
  {
    id: RequestId,
    op: Type.Literal('maps'),
    pid: Pid,
    strategy: Type.Optional(StrategyName),
    chunk: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 * 1024 * 1024 })),
    /** A traced read: answer `{text, chunks:[{bytes, lines, attempts, retries, …}]}`. */
    chunks: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const QueryRequest = Type.Object(
  {
    id: RequestId,
    op: Type.Literal('procmap_query'),
    pid: Pid,
    strategy: Type.Optional(StrategyName),
    addr: U64Input,
    flags: Type.Optional(QueryFlagsInput),
    name: Type.Optional(BooleanFlag),
    build_id: Type.Optional(BooleanFlag),
  },
  { additionalProperties: false },
);
const ProcessRequest = Type.Object(
  { id: RequestId, op: Type.Literal('process'), pid: Pid },
  { additionalProperties: false },
);
const ProcessesRequest = Type.Object(
  {
    id: RequestId,
    op: Type.Literal('processes'),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
const ConfigRequest = Type.Object(
  { id: RequestId, op: Type.Literal('config') },
  { additionalProperties: false },
);
const SyscallsRequest = Type.Object(
  { id: RequestId, op: Type.Literal('syscalls'), pid: Pid, calls: Type.Array(Type.Unknown()) },
  { additionalProperties: false },
);
/** A mutation: its fields are checked by the same per-op schema as the HTTP endpoint's. */
const MutationRequest = Type.Object(
  { id: RequestId, op: Type.Enum([...SYSCALL_OPS]), pid: Pid },
  { additionalProperties: true },
);

/** The schema of each message kind. A Map, so a client's `op` is never looked up on a prototype. */
const schemas = new Map<string, TSchema>([
  ['subscribe', Subscribe],
  ['unsubscribe', Unsubscribe],
  ['maps', MapsRequest],
  ['procmap_query', QueryRequest],
  ['process', ProcessRequest],
  ['processes', ProcessesRequest],
  ['config', ConfigRequest],
  ['syscalls', SyscallsRequest],
  ['mutation', MutationRequest],
]);
const checkers = new Map([...schemas].map(([kind, schema]) => [kind, Compile(schema)]));
type Kind = WsMessage['kind'];

/**
 * The request ops a client names (`mutation` is the kind of every syscall op, not an op);
 * test/robustness fuzzes each one.
 */
export const REQUEST_OPS: ReadonlySet<string> = new Set([
  'maps',
  'procmap_query',
  'process',
  'processes',
  'config',
  'syscalls',
]);
const SYSCALL_OP_SET: ReadonlySet<string> = new Set(SYSCALL_OPS);

export type WsMessage =
  | { kind: 'subscribe'; msg: { subscribe: 'events' | 'rates'; pid?: number } }
  | { kind: 'unsubscribe'; msg: { unsubscribe: 'events' | 'rates' } }
  | { kind: 'maps'; msg: Static<typeof MapsRequest> }
  | { kind: 'procmap_query'; msg: Static<typeof QueryRequest> }
  | { kind: 'process'; msg: Static<typeof ProcessRequest> }
  | { kind: 'processes'; msg: Static<typeof ProcessesRequest> }
  | { kind: 'config'; msg: Static<typeof ConfigRequest> }
  | { kind: 'syscalls'; msg: Static<typeof SyscallsRequest> }
  | {
      kind: 'mutation';
      msg: Record<string, unknown> & { id: string | number; op: string; pid: number };
    };

export class WsMessageError extends UapiValueError {
  /** The request id, when the message had a usable one (so the client can match the error). */
  readonly id: string | number | undefined;
  constructor(message: string, id: string | number | undefined) {
    super('EINVAL', message);
    this.name = 'WsMessageError';
    this.id = id;
  }
}

function checkerOf(kind: Kind) {
  const checker = checkers.get(kind);
  if (!checker) throw new Error(`no checker for ${kind}`);
  return checker;
}

/** What is wrong with the message, in the HTTP routes' words (schema-errors.ts). */
function firstError(kind: Kind, value: unknown): string {
  const errors = checkerOf(kind).Errors(value) as unknown as SchemaError[];
  if (errors.length === 0) return `${kind}: invalid message`;
  const e = clearSchemaError(schemas.get(kind) as TSchema, value, errors);
  const where = e.instancePath ? `${e.instancePath.slice(1)} ` : '';
  return `${kind}: ${where}${e.message}`;
}

/** Parses and validates one text message. Throws WsMessageError. */
export function parseWsMessage(text: string): WsMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WsMessageError('message is not valid JSON', undefined);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WsMessageError('message must be a JSON object', undefined);
  }
  const obj = value as Record<string, unknown>;
  const id = typeof obj.id === 'string' || typeof obj.id === 'number' ? obj.id : undefined;
  let kind: Kind;
  if (Object.hasOwn(obj, 'subscribe')) kind = 'subscribe';
  else if (Object.hasOwn(obj, 'unsubscribe')) kind = 'unsubscribe';
  else if (typeof obj.op === 'string' && SYSCALL_OP_SET.has(obj.op)) kind = 'mutation';
  else if (typeof obj.op === 'string' && REQUEST_OPS.has(obj.op)) kind = obj.op as Kind;
  else {
    throw new WsMessageError(
      `expected {"subscribe":…}, {"unsubscribe":…} or a request {"id","op",…} with op one of ${[
        ...REQUEST_OPS,
        ...SYSCALL_OPS,
      ].join(', ')}`,
      id,
    );
  }
  if (!checkerOf(kind).Check(value)) throw new WsMessageError(firstError(kind, value), id);
  return { kind, msg: value } as WsMessage;
}
