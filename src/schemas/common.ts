/**
 * Shared TypeBox schemas of the HTTP contract (API.md "Conventions"). Bodies are validated without
 * type coercion (TypeBoxValidatorCompiler), so a JSON number stays a number and a string a string;
 * params and querystrings are converted from their string form.
 */
import { Type } from 'typebox';
import { STRATEGIES } from '../cpus/sim-api.js';
import { U64_MAX_CHARS } from './uapi.js';

/** An address, length or offset as input: `"0x…"`, `"123"`, or a safe JSON integer. */
export const U64Input = Type.Union(
  [
    Type.String({ maxLength: U64_MAX_CHARS, pattern: '^(0[xX][0-9a-fA-F]+|[0-9]+)$' }),
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  ],
  {
    description: 'u64 as "0x…" hex or decimal string, or a safe JSON integer',
    examples: ['0x7f2b3b96d000'],
  },
);

/** An address as output: lowercase `0x` hex. */
export const HexOutput = Type.String({ pattern: '^0x[0-9a-f]+$', examples: ['0x7f2b3b96d000'] });

/** `prot` as /proc/PID/maps prints it. */
export const ProtString = Type.String({
  pattern: '^[r-][w-][x-]$',
  description: 'protection like maps prints it: "rw-", "r-x", "---"',
  examples: ['rw-'],
});

export const StrategyName = Type.Enum([...STRATEGIES], {
  description: 'locking strategy of the readers',
});

export const StrategyQuery = Type.Object({ strategy: Type.Optional(StrategyName) });

export const PidParams = Type.Object({
  pid: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, description: 'process id' }),
});

/** Every error reply (API.md): Linux errno name and number, and a human-readable message. */
export const ErrorReply = Type.Object(
  {
    error: Type.String({ examples: ['EINVAL'] }),
    errno: Type.Integer({ examples: [22] }),
    message: Type.String(),
  },
  { description: 'errno error' },
);

export const EmptyReply = Type.Object({});

/** Response schemas for the error statuses a route can answer (for OpenAPI and serialization). */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorReply> {
  const out: Record<number, typeof ErrorReply> = {};
  for (const s of statuses) out[s] = ErrorReply;
  return out;
}
