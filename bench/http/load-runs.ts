/**
 * autocannon runs for the HTTP bench (bench/sections/http.ts): one run against a target with the
 * server's CPU per request, medians over runs, and runs alternating with a baseline's.
 */
import { type BenchContext, median } from '../lib/figure.js';
import { autocannon, type CannonOptions, type CannonResult } from '../lib/processes.js';
import { type CpuSample, cpuPerRequest, sampleCpu } from './server-cpu.js';

/** autocannon's connections in every run. */
const CONNECTIONS = 50;

/** Medians over the runs: requests/s, p99 latency, server CPU per request. */
export interface Load {
  rps: number;
  p99ms: number;
  cpu: CpuSample;
}

/** What one autocannon run loads: a URL served by process `pid`. */
export interface Target {
  label: string;
  url: string;
  pid: number;
  opts?: CannonOptions;
}

type Run = CannonResult & { cpu: CpuSample };

/** One autocannon run against `t`; fails on any error or non-2xx. */
async function runOnce(t: Target, seconds: number): Promise<Run> {
  const before = sampleCpu(t.pid);
  const res = await autocannon(t.url, seconds, CONNECTIONS, t.opts ?? {});
  const cpu = cpuPerRequest(before, sampleCpu(t.pid), res.total);
  if (res.errors > 0 || res.non2xx > 0) {
    const statuses = JSON.stringify(res.statuses);
    throw new Error(`${t.label}: ${res.errors} errors, ${res.non2xx} non-2xx answers ${statuses}`);
  }
  return { ...res, cpu };
}

function summarise(runs: Run[]): Load {
  return {
    rps: median(runs.map((x) => x.rps)),
    p99ms: median(runs.map((x) => x.p99ms)),
    cpu: {
      processUs: median(runs.map((x) => x.cpu.processUs)),
      mainThreadUs: median(runs.map((x) => x.cpu.mainThreadUs)),
    },
  };
}

/** `reps` autocannon runs against `t`. */
export async function load(ctx: BenchContext, t: Target, seconds: number): Promise<Load> {
  const runs: Run[] = [];
  for (let r = 0; r < ctx.reps; r++) {
    ctx.progress(`${t.label}: run ${r + 1}/${ctx.reps}`);
    runs.push(await runOnce(t, seconds));
    ctx.progress(`  ${Math.round(runs[r].rps)} req/s`);
  }
  return summarise(runs);
}

/** What `loadPaired` measured: each side's medians and the runs paired as they were taken. */
export interface PairedLoad {
  ours: Load;
  baseline: Load;
  /** [ours, baseline] requests/s of each pair. */
  rps: Array<[number, number]>;
  /** [ours, baseline] p99 latency (ms) of each pair. */
  p99ms: Array<[number, number]>;
}

/**
 * After a warm-up run of each, `pairs` runs against `ours` and as many against `baseline`,
 * alternating (ours, baseline, ours, …), so that each pair shares its minute: this machine's speed
 * drifts by 20–50 % from one minute to the next (a hello-world read 41.0k and 53.1k req/s in two
 * full runs), and a ratio of medians taken minutes apart carries that drift. The ratios are taken
 * per pair (`pairedRatioFigure`).
 */
export async function loadPaired(
  ctx: BenchContext,
  ours: Target,
  baseline: Target,
  seconds: number,
  pairs: number,
): Promise<PairedLoad> {
  // One run of each first, not counted: V8 tiers the route's code up in the server's first
  // seconds (the first of a fresh server's runs read ~15–25 % below its later ones here), and a
  // hello-world that has served nothing yet pays the same.
  ctx.progress(`${ours.label} / ${baseline.label}: warm-up (not counted)`);
  await runOnce(ours, seconds);
  await runOnce(baseline, seconds);
  const a: Run[] = [];
  const b: Run[] = [];
  for (let r = 0; r < pairs; r++) {
    ctx.progress(`${ours.label} / ${baseline.label}: pair ${r + 1}/${pairs}`);
    a.push(await runOnce(ours, seconds));
    b.push(await runOnce(baseline, seconds));
    ctx.progress(`  ${Math.round(a[r].rps)} vs ${Math.round(b[r].rps)} req/s`);
  }
  return {
    ours: summarise(a),
    baseline: summarise(b),
    rps: a.map((x, i) => [x.rps, b[i].rps]),
    p99ms: a.map((x, i) => [x.p99ms, b[i].p99ms]),
  };
}
