// The differential harness: run a script in the kernel-oracle helper and through the engine,
// compare the transcripts, and on a mismatch shrink the script to the shortest failing prefix
// (bisection on the prefix length) and say how to rerun it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot, runOracle } from '../oracle/oracle-binary.js';
import { referencedOnly, runningKdamonds } from './host-noise.js';
import { mapsRanges } from './memory-compare.js';
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
  const helper = mapsRanges(header.initialMaps);
  const oracle = normaliseBody(body, helper);
  const engineNorm = normaliseBody(engine, helper);
  return { header, oracle, engine: engineNorm, diff: firstDifference(oracle, engineNorm) };
}

export interface DifferentialResult {
  name: string;
  ops: number;
  /** Transcript lines compared (both sides equal when there is no mismatch). */
  lines: number;
  header: OracleHeader;
  /**
   * Set when a run differed only where host noise can (host-noise.ts) and a rerun was equal:
   * what was found, for the test's output.
   */
  hostNoise?: string;
  /** Undefined when the transcripts are equal. */
  mismatch?: {
    diff: Difference;
    /** Length of the shortest failing prefix (ops, a final check appended). */
    prefixLength: number;
    /** Where the failing prefix was written. */
    scriptPath: string;
    /** Where the minimised failing script was written (a subset of the prefix, still failing). */
    minimalPath: string;
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

/** Budget of the minimiser: it stops early, keeping what it has, when either runs out. */
const MINIMISE_MAX_RUNS = 400;
const MINIMISE_MAX_MS = 20_000;

/**
 * Beyond the prefix: drop the intermediate checkpoints, then ops in shrinking chunks (a simple
 * ddmin), keeping every removal after which both sides still differ. Probes stay (they are part
 * of every checkpoint). The result usually has a handful of ops: the ones the mismatch needs.
 */
async function minimise(prefix: readonly Op[], replay: EngineReplay): Promise<Op[]> {
  const started = Date.now();
  let runs = 0;
  const fails = async (ops: Op[]): Promise<boolean> => {
    runs++;
    return (await compareOnce(prefixWithCheck(ops, ops.length), replay)).diff !== undefined;
  };
  const body: Op[] = prefix.slice(0, -1); // the final check is re-added by prefixWithCheck
  let cur: Op[] = body.filter((o) => o.op !== 'check');
  if (!(await fails(cur))) cur = body;
  for (let chunk = Math.max(1, cur.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let i = 0; i < cur.length; ) {
      if (runs >= MINIMISE_MAX_RUNS || Date.now() - started > MINIMISE_MAX_MS) {
        return prefixWithCheck(cur, cur.length);
      }
      const slice = cur.slice(i, i + chunk);
      if (slice.every((o) => o.op === 'probe')) {
        i += chunk;
        continue;
      }
      const candidate = [...cur.slice(0, i), ...cur.slice(i + chunk)];
      if (await fails(candidate)) cur = candidate;
      else i += chunk;
    }
  }
  return prefixWithCheck(cur, cur.length);
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

/** Reruns after a first run differed (host-noise.ts); not more than this many. */
const NOISE_RERUNS = 2;

/**
 * A run that differed is run again (twice at most): the engine side is deterministic, so a rerun
 * that is equal means the kernel side varied between runs of the same script (host noise,
 * host-noise.ts: DAMON's sampling, a folio locked by writeback while fault-around looked) and
 * the engine gave one of the kernel's own answers. Equal then, with a note saying what differed
 * first; differing every time is a real difference.
 */
export async function rerunOnHostNoise(
  ops: readonly Op[],
  replay: EngineReplay,
  diff: Difference,
  kdamonds = runningKdamonds(),
): Promise<{ equal: boolean; note: string }> {
  const host = kdamonds.length > 0 ? `kdamond ${kdamonds.join(', ')} running` : 'no kdamond';
  const cause = referencedOnly(diff)
    ? ' (a Referenced line: DAMON marks sampled folios young)'
    : '';
  const first = `run 1 differed at line ${diff.line}: ${JSON.stringify(diff.oracle)} (kernel) vs ${JSON.stringify(diff.engine)}${cause}`;
  for (let run = 2; run <= NOISE_RERUNS + 1; run++) {
    if (!(await compareOnce(ops, replay)).diff) {
      return { equal: true, note: `host noise: ${first}; run ${run} equal; host: ${host}` };
    }
  }
  return { equal: false, note: `differed in ${NOISE_RERUNS + 1} runs (host: ${host})` };
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
  const noise = await rerunOnHostNoise(ops, replay, full.diff);
  if (noise.equal) {
    result.hostNoise = noise.note;
    return result;
  }
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
  const minimal = await minimise(prefix, replay);
  const minPath = join(dir, `${name.replace(/[^\w.-]+/g, '_')}.min.script`);
  writeFileSync(minPath, formatScript(minimal));
  const minimalOps = minimal
    .filter((o) => o.op !== 'probe')
    .map((o) => `      ${formatOp(o)}`)
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
    `  minimised (${minimal.length} ops incl. probes; ${relative(repoRoot(), minPath)}), without probes:`,
    minimalOps,
    `  rerun the original: ${rerunHint}`,
    ...(noise.note ? [`  ${noise.note}`] : []),
  ].join('\n');
  result.mismatch = { diff, prefixLength: n, scriptPath, minimalPath: minPath, report };
  return result;
}

let hostHeader: Promise<OracleHeader> | undefined;

/** The helper's header from a run with an empty script (layout, files, CONFIG_ANON_VMA_NAME). */
export function probeHost(): Promise<OracleHeader> {
  hostHeader ??= runOracle('').then((r) => parseOracleOutput(r.stdout).header);
  return hostHeader;
}
