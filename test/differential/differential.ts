// The differential harness: run a script in the kernel-oracle helper and through the engine,
// compare the transcripts, and on a mismatch shrink the script to the shortest failing prefix
// (bisection on the prefix length) and say how to rerun it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot, runOracle } from '../oracle/oracle-binary.js';
import { formatOp, formatScript, type Op, prefixWithCheck } from './script.js';
import {
  type Difference,
  firstDifference,
  normaliseBody,
  type OracleHeader,
  parseOracleOutput,
} from './transcript.js';

/**
 * Replays `ops` through the engine, appending the transcript body lines to `out` (same format as
 * the helper's). May throw: the lines written so far are kept and the error becomes a line.
 */
export type EngineReplay = (
  ops: readonly Op[],
  header: OracleHeader,
  out: string[],
) => void | Promise<void>;

export interface Comparison {
  header: OracleHeader;
  oracle: string[];
  engine: string[];
  diff: Difference | undefined;
}

/** One run of both sides on the same script. */
export async function compareOnce(ops: readonly Op[], replay: EngineReplay): Promise<Comparison> {
  const run = await runOracle(formatScript(ops));
  const { header, body } = parseOracleOutput(run.stdout);
  const engine: string[] = [];
  try {
    await replay(ops, header, engine);
  } catch (err) {
    const e = err as Error;
    engine.push(`engine threw: ${e.stack ?? e.message}`);
  }
  const oracle = normaliseBody(body);
  const engineNorm = normaliseBody(engine);
  return { header, oracle, engine: engineNorm, diff: firstDifference(oracle, engineNorm) };
}

export interface DifferentialResult {
  name: string;
  ops: number;
  /** Transcript lines compared (both sides equal when there is no mismatch). */
  lines: number;
  header: OracleHeader;
  /** Undefined when the transcripts are equal. */
  mismatch?: {
    diff: Difference;
    /** Length of the shortest failing prefix (ops, a final check appended). */
    prefixLength: number;
    /** Where the failing prefix was written. */
    scriptPath: string;
    report: string;
  };
}

/**
 * Smallest n in [1, total] whose prefix (plus a final check) mismatches, assuming `total` does.
 * Not every failure is monotone in the prefix length; the answer is verified to fail, which is
 * what matters for a reproducer.
 */
async function shrink(ops: readonly Op[], replay: EngineReplay): Promise<number> {
  let lo = 1;
  let hi = ops.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = await compareOnce(prefixWithCheck(ops, mid), replay);
    if (c.diff) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

function describe(diff: Difference, oracle: readonly string[], engine: readonly string[]): string {
  const ctx = diff.context.map((l) => `      ${l}`).join('\n');
  const around = (side: readonly string[]) =>
    side
      .slice(diff.line, diff.line + 3)
      .map((l) => `      ${l}`)
      .join('\n');
  return [
    `  first difference at transcript line ${diff.line} (op #${diff.op}):`,
    '    context (both sides):',
    ctx,
    '    kernel:',
    around(oracle),
    '    engine:',
    around(engine),
  ].join('\n');
}

/**
 * Runs `ops` on both sides. On a mismatch, shrinks to the shortest failing prefix, writes it to
 * .tmp/differential/<name>.script and returns a report with the command that reruns it.
 */
export async function runDifferential(
  name: string,
  ops: readonly Op[],
  replay: EngineReplay,
  rerunHint: string,
): Promise<DifferentialResult> {
  const full = await compareOnce(ops, replay);
  const result: DifferentialResult = {
    name,
    ops: ops.length,
    lines: full.oracle.length,
    header: full.header,
  };
  if (!full.diff) return result;
  const n = await shrink(ops, replay);
  const prefix = prefixWithCheck(ops, n);
  const small = await compareOnce(prefix, replay);
  const diff = small.diff ?? full.diff;
  const dir = join(repoRoot(), '.tmp', 'differential');
  mkdirSync(dir, { recursive: true });
  const scriptPath = join(dir, `${name.replace(/[^\w.-]+/g, '_')}.script`);
  writeFileSync(scriptPath, formatScript(prefix));
  const rel = relative(repoRoot(), scriptPath);
  const culprit = prefix[Math.min(diff.op, prefix.length - 1)];
  const tail = formatScript(prefix.slice(Math.max(0, prefix.length - 12)))
    .trimEnd()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  const report = [
    `differential mismatch in ${name}: ${ops.length} ops, shortest failing prefix ${n} ops`,
    `  op #${diff.op}: ${culprit ? formatOp(culprit) : '(end)'}`,
    small.diff
      ? describe(small.diff, small.oracle, small.engine)
      : describe(full.diff, full.oracle, full.engine),
    `  last ops of the failing prefix (whole script in ${rel}):`,
    tail,
    `  rerun the prefix: DIFF_SCRIPT=${rel} npm run test:differential`,
    `  rerun the original: ${rerunHint}`,
  ].join('\n');
  result.mismatch = { diff, prefixLength: n, scriptPath, report };
  return result;
}

let hostHeader: Promise<OracleHeader> | undefined;

/** The helper's header from a run with an empty script (layout, files, CONFIG_ANON_VMA_NAME). */
export function probeHost(): Promise<OracleHeader> {
  hostHeader ??= runOracle('').then((r) => parseOracleOutput(r.stdout).header);
  return hostHeader;
}
