/**
 * Raises V8's inlining budget for this process: how many bytes of bytecode TurboFan may inline
 * into one optimised function (`--max-inlined-bytecode-size-cumulative`, 920 by default in node
 * 20's V8).
 *
 * Why (measured on node 20.20, BENCHMARKS.md "V8's inlining budget"): a maps line goes through
 * several layers on every line — the chunk loop, `fetchRecord`, the strategy's walker,
 * lock_next_vma, the memo's compare — and with the default budget the chunk loop inlines only
 * the first of them, so each line pays three calls. With 2,000 they inline: a per_vma read of
 * a 92-line process 8.6–9.2 → 8.0–8.2 µs in process; over HTTP, old and new servers side by
 * side, the event loop's time per maps request 30.9 → 29.0 µs. The price is compile time: the
 * idle default server's CPU in its first 10 s 6.3–6.8 → 7.0–7.2 % of a core.
 *
 * V8's flags are per process, so the worker CPUs and activity threads started later get it
 * too. Imported first by the server, and by `npm run bench` and `npm run report` so that their
 * in-process figures are the engine as the server runs it. A budget given on the command line
 * or in NODE_OPTIONS is left as given.
 */
import v8 from 'node:v8';

/** Bytes of bytecode inlined into one optimised function at most. */
export const INLINED_BYTECODE_BUDGET = 2000;

const FLAG = '--max-inlined-bytecode-size-cumulative';

/** Whether `arg` sets the budget (V8 takes `_` for `-` in flag names). */
function setsBudget(arg: string): boolean {
  const name = arg.replaceAll('_', '-').split('=')[0];
  return name === FLAG;
}

/** The flag to set, or null when `execArgv` or `nodeOptions` already sets the budget. */
export function inliningFlag(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string | null {
  const options = (nodeOptions ?? '').split(/\s+/);
  if (execArgv.some(setsBudget) || options.some(setsBudget)) return null;
  return `${FLAG}=${INLINED_BYTECODE_BUDGET}`;
}

const flag = inliningFlag(process.execArgv, process.env.NODE_OPTIONS);
if (flag !== null) v8.setFlagsFromString(flag);
