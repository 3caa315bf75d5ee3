/**
 * The batch form of the API (`POST /proc/:pid/procmap_query` with `queries`, `/syscalls`, the
 * /ws `syscalls` request): every entry is parsed on its own — one that does not parse gets its
 * own error entry and the others still run — the parsed ones go to the engine in ONE call, in
 * order, and each outcome lands in its entry's slot.
 */
import { type SimApi, SimError, type SyscallCall, type SyscallResult } from '../cpus/sim-api.js';
import { errorBody, toErrorReply } from './errors.js';
import { formatResult } from './syscall-format.js';
import { parseCallEntry } from './syscalls.js';

export interface BatchSteps<Entry, Parsed, Outcome> {
  /** Parses one entry; throws for a bad one. */
  parse(entry: Entry): Parsed;
  /** The error entry of a bad one (rethrow what is not the client's fault). */
  badEntry(err: unknown): unknown;
  /** Runs the parsed entries in one engine call; one outcome each, in order. */
  run(parsed: Parsed[]): Promise<readonly Outcome[]>;
  /** The result entry of one outcome. */
  format(outcome: Outcome, parsed: Parsed): unknown;
}

export async function runBatch<Entry, Parsed, Outcome>(
  entries: readonly Entry[],
  steps: BatchSteps<Entry, Parsed, Outcome>,
): Promise<unknown[]> {
  const results: unknown[] = new Array(entries.length);
  const parsed: Parsed[] = [];
  const slots: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    try {
      parsed.push(steps.parse(entries[i]));
      slots.push(i);
    } catch (e) {
      results[i] = steps.badEntry(e);
    }
  }
  const outcomes = await steps.run(parsed);
  for (let j = 0; j < outcomes.length; j++) {
    results[slots[j]] = steps.format(outcomes[j], parsed[j]);
  }
  return results;
}

/** The steps of a syscall batch (`/syscalls`, /ws `syscalls`) against process `pid`. */
export function syscallBatch(
  sim: SimApi,
  pid: number,
): BatchSteps<unknown, SyscallCall, SyscallResult> {
  return {
    parse: parseCallEntry,
    badEntry: (e) => toErrorReply(e).body,
    run: (calls) => sim.syscalls(pid, calls),
    format: (o, call) => (o instanceof SimError ? errorBody(o) : formatResult(call.op, o)),
  };
}
