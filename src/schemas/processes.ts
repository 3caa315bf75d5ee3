/**
 * Processes and activities (API.md "Processes"): request/response schemas and conversions.
 */
import { Type } from 'typebox';
import { fileIdentitiesFromMaps } from '../cpus/replay/replay-source.js';
import { parseStraceTrace, TraceSyntaxError } from '../cpus/replay/strace-trace.js';
import {
  type ActivitySpec,
  type ActivityStatus,
  PROFILES,
  type ProcessDetail,
  TEMPLATES,
} from '../cpus/sim-api.js';
import { HexOutput } from './common.js';
import { formatCallArgs } from './syscall-format.js';
import { CallEntry, parseCallEntry } from './syscalls.js';
import { hex, UapiValueError } from './uapi.js';

export const ProcessSummaryBody = Type.Object({
  pid: Type.Integer(),
  comm: Type.String(),
  vmas: Type.Integer(),
});

export const ProcessListQuery = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
});

export const ProcessListBody = Type.Object({
  total: Type.Integer(),
  processes: Type.Array(ProcessSummaryBody),
});

export const ActivityBody = Type.Object(
  {
    loop: Type.Optional(
      Type.Array(CallEntry, {
        minItems: 1,
        description: 'calls replayed in order, forever (same shapes as /syscalls)',
      }),
    ),
    profile: Type.Optional(Type.Enum([...PROFILES])),
    rate_per_s: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1e9, description: 'calls per second cap' }),
    ),
  },
  { additionalProperties: false, description: 'either "loop" or "profile"' },
);

export const CreateProcessBody = Type.Object(
  {
    comm: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    template: Type.Optional(Type.Enum([...TEMPLATES])),
    maps: Type.Optional(Type.String({ description: 'text of a real /proc/PID/maps to import' })),
    activity: Type.Optional(ActivityBody),
    pkeys: Type.Optional(
      Type.Boolean({
        description: "this process's CPU has x86 protection keys (default: the service's --pkeys)",
      }),
    ),
    replay: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'a recorded program: `strace -f -ttt -e trace=memory,prctl` output (add -y for file paths), run as the activity; "maps" is then its maps at the first call',
      }),
    ),
    final_maps: Type.Optional(
      Type.String({
        description:
          'with "replay": the traced program\'s maps at exit, if captured; the (dev, inode) of the files the trace maps by path are taken from it and from "maps"',
      }),
    ),
    speed: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1e6,
        description: 'replay pace: 1 = as recorded, 2 = twice as fast, 0 = as fast as it can',
      }),
    ),
    loop: Type.Optional(
      Type.Boolean({ description: 'replay again and again (each pass first undoes the last)' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * A replay activity from a trace text (EINVAL naming the line it cannot read). Files get the
 * (dev, inode) their path has in the given maps texts, else a made-up identity on 00:00.
 */
export function toReplaySpec(
  trace: string,
  maps: string[],
  speed: number,
  loop: boolean,
): ActivitySpec {
  let parsed: ReturnType<typeof parseStraceTrace>;
  try {
    parsed = parseStraceTrace(trace);
  } catch (e) {
    if (e instanceof TraceSyntaxError) throw new UapiValueError('EINVAL', `replay: ${e.message}`);
    throw e;
  }
  if (parsed.calls.length === 0)
    throw new UapiValueError('EINVAL', 'replay: the trace has no call the engine models');
  const files = fileIdentitiesFromMaps(...maps);
  const replay = { calls: parsed.calls, files, unmodelled: parsed.unmodelled };
  return { kind: 'replay', replay, speed, loop, ratePerS: null };
}

type ActivityInput = {
  loop?: unknown[];
  profile?: (typeof PROFILES)[number];
  rate_per_s?: number;
};

/** Validates the loop entries one by one so the message names the bad entry. */
export function toActivitySpec(body: ActivityInput, maxLoop: number): ActivitySpec {
  const ratePerS = body.rate_per_s ?? null;
  if ((body.loop === undefined) === (body.profile === undefined)) {
    throw new UapiValueError('EINVAL', 'activity: give exactly one of "loop" and "profile"');
  }
  if (body.profile !== undefined) return { kind: 'profile', profile: body.profile, ratePerS };
  const entries = body.loop as unknown[];
  if (entries.length > maxLoop) {
    throw new UapiValueError('E2BIG', `activity: loop has more than ${maxLoop} calls`);
  }
  const loop = entries.map((entry, i) => {
    try {
      return parseCallEntry(entry);
    } catch (e) {
      throw new UapiValueError('EINVAL', `activity: loop[${i}]: ${(e as Error).message}`);
    }
  });
  return { kind: 'loop', loop, ratePerS };
}

export const ReplayStatusBody = Type.Object({
  calls: Type.Integer({ description: 'calls of the trace run so far (all passes)' }),
  trace_calls: Type.Integer({ description: 'modelled calls in one pass of the trace' }),
  mismatches: Type.Integer({ description: 'results that differed from the recorded ones' }),
  done: Type.Boolean({ description: 'the trace ran to its end (never with loop)' }),
  unmodelled: Type.Record(Type.String(), Type.Integer(), {
    description: 'calls in the trace the engine does not model (not run), by syscall',
  }),
  speed: Type.Number(),
  loop: Type.Boolean(),
});

export const ActivityStatusBody = Type.Object({
  profile: Type.Optional(Type.String()),
  replay: Type.Optional(ReplayStatusBody),
  loop: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
  rate_per_s: Type.Union([Type.Number(), Type.Null()]),
  started_at: Type.String({ description: 'ISO 8601' }),
  calls: Type.Integer(),
  errors: Type.Integer(),
  iterations: Type.Integer(),
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')], {
    description:
      'failed: its thread died after it started (a bug; logged at error, counted in procfs_activities_died_total); done: a replay ran to its end',
  }),
  error: Type.Union([Type.String(), Type.Null()], {
    description: 'why it failed (null unless state is failed)',
  }),
});

function activityState(a: ActivityStatus): 'running' | 'done' | 'failed' {
  if (a.failure !== undefined) return 'failed';
  return a.replay?.done ? 'done' : 'running';
}

export function formatActivity(a: ActivityStatus) {
  const base = {
    rate_per_s: a.spec.ratePerS,
    started_at: new Date(a.startedAt).toISOString(),
    calls: a.calls,
    errors: a.errors,
    iterations: a.iterations,
    state: activityState(a),
    error: a.failure === undefined ? null : a.failure.split('\n')[0],
  };
  if (a.spec.kind === 'profile') return { profile: a.spec.profile, ...base };
  if (a.spec.kind === 'replay') {
    const { replay: plan, speed, loop } = a.spec;
    const replay = {
      calls: a.calls,
      trace_calls: plan.calls.length,
      mismatches: a.replay?.mismatches ?? 0,
      done: a.replay?.done ?? false,
      unmodelled: plan.unmodelled,
      speed,
      loop,
    };
    return { replay, ...base };
  }
  return { loop: a.spec.loop.map((c) => ({ op: c.op, ...formatCallArgs(c) })), ...base };
}

export const ProcessDetailBody = Type.Object({
  pid: Type.Integer(),
  comm: Type.String(),
  vmas: Type.Integer(),
  brk: Type.Object({ start: HexOutput, end: HexOutput }),
  start_stack: HexOutput,
  pkeys: Type.Boolean(),
  activity: Type.Union([ActivityStatusBody, Type.Null()]),
});

export function formatProcessDetail(p: ProcessDetail) {
  return {
    pid: p.pid,
    comm: p.comm,
    vmas: p.vmas,
    brk: { start: hex(p.brkStart), end: hex(p.brk) },
    start_stack: hex(p.startStack),
    pkeys: p.pkeys,
    activity: p.activity ? formatActivity(p.activity) : null,
  };
}
