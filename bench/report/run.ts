/**
 * `npm run report [-- --quick] [-- --scenario FILE] [-- --only READER[,READER]] [-- --smoke]
 * [-- --out DIR]`: every strategy × reader × writer of a scenario on real threads, the host
 * kernel's twin beside them, written as DIR/latest.json, DIR/REPORT.md and DIR/chart.svg
 * and DIR/samples.json (the raw windows; DIR = report/). `--smoke` is the test's knob: 30 ms windows, one repetition.
 */
import '../../src/v8-inlining.js';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STRATEGIES } from '../../src/metrics/labels.js';
import { isReader, READERS, type ReaderName, WRITERS } from '../workloads/definitions.js';
import { renderChart } from './chart.js';
import { faultGoals, runFaults } from './faults.js';
import { computeGoals } from './goals.js';
import { runKernelTwin, siblingControl, siblingNote } from './kernel-twin.js';
import { renderMarkdown } from './markdown.js';
import { MECHANISMS } from './mechanism.js';
import { computeRows } from './rows.js';
import { loadScenario } from './scenario.js';
import { runSimulator } from './threads.js';
import { computeVerdict } from './verdict.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Args {
  quick: boolean;
  smoke: boolean;
  scenario: string;
  only: ReaderName[] | null;
  out: string;
}

export function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    quick: false,
    smoke: false,
    scenario: path.join(repoRoot, 'scenarios/thread.json'),
    only: null,
    out: path.join(repoRoot, 'report'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg === '--smoke') a.smoke = true;
    else if (arg === '--scenario') a.scenario = path.resolve(value());
    else if (arg === '--out') a.out = path.resolve(value());
    else if (arg === '--only') {
      const names = value().split(',');
      const bad = names.filter((n) => !isReader(n));
      if (bad.length)
        throw new Error(
          `--only: unknown reader ${bad.join(', ')} (readers: ${READERS.join(', ')})`,
        );
      a.only = names as ReaderName[];
    } else throw new Error(`unknown argument ${arg} (see bench/report/run.ts)`);
  }
  return a;
}

/** The mechanism names docs/mechanisms.md explains (a `### name` heading each). */
function documentedMechanisms(): Set<string> {
  try {
    const md = readFileSync(path.join(repoRoot, 'docs/mechanisms.md'), 'utf8');
    return new Set(MECHANISMS.filter((m) => md.includes(`### \`${m}\``)));
  } catch {
    return new Set();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scenario = loadScenario(args.scenario);
  const timing = args.smoke
    ? { reps: 1, window_ms: 30 }
    : args.quick
      ? scenario.quick
      : scenario.full;
  const readers = args.only ?? READERS;
  const started = Date.now();
  const progress = (msg: string) => process.stderr.write(`[report] ${msg}\n`);
  progress(
    `scenario ${scenario.name} (${scenario.layout}), ${timing.reps} × ${timing.window_ms} ms windows`,
  );
  const sim = await runSimulator({
    layout: scenario.layout,
    strategies: STRATEGIES,
    readers,
    writers: WRITERS,
    reps: timing.reps,
    windowMs: timing.window_ms,
    progress,
  });
  progress('kernel twin');
  const kernel = runKernelTwin({
    vmas: sim.plan.vmas,
    readers,
    writers: WRITERS,
    reps: timing.reps,
    windowMs: timing.window_ms,
  });
  const samples = [...sim.samples, ...kernel.samples];
  const computed = computeRows(samples);
  const kernelMissing = (reader: ReaderName, writer: string) =>
    kernel.error !== null ||
    kernel.unsupported.some(
      (u) =>
        (u.name === 'PROCMAP_QUERY' && reader !== 'maps') ||
        (u.name === 'anon_names' && (writer === 'names' || writer === 'close')),
    );
  const faults = await runFaults({
    layout: scenario.layout,
    reps: timing.reps,
    windowMs: timing.window_ms,
    progress,
  });
  const goals = [
    ...computeGoals(computed, documentedMechanisms(), kernelMissing),
    ...faultGoals(faults),
  ];
  const sibling = siblingControl(kernel.sibling);
  const verdict = computeVerdict(computed.rows, sibling);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
  const durationS = (Date.now() - started) / 1000;
  const kernelNotes = [
    ...(kernel.error ? [`did not run: ${kernel.error}`] : []),
    ...kernel.unsupported.map((u) => `this host cannot run ${u.name}: ${u.why}`),
    ...sibling.map(siblingNote),
    'the host process has its own layout of about the same VMA count (its own binary mapped r-x as text VMAs), and its close writer maps, names and unmaps a page but does not move [vdso] (its threads call clock_gettime through it).',
  ];
  await mkdir(args.out, { recursive: true });
  const json = {
    machine,
    quick: args.quick || args.smoke,
    scenario: {
      ...scenario,
      reps: timing.reps,
      window_ms: timing.window_ms,
      readers,
      vmas: sim.plan.vmas,
    },
    started_at: new Date(started).toISOString(),
    duration_s: durationS,
    control: computed.control,
    line_rtt: computed.lineRtt,
    kernel: { unsupported: kernel.unsupported, error: kernel.error, sibling },
    writer_alone: computed.writerAlone,
    writer_evidence: computed.evidence,
    faults,
    goals,
    verdict,
    rows: computed.rows,
  };
  await writeFile(path.join(args.out, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  // The raw windows the rows were computed from (bench/report/samples.ts): a run can be recomputed.
  await writeFile(path.join(args.out, 'samples.json'), `${JSON.stringify(samples)}\n`);
  const header = {
    scenario: scenario.name,
    description: scenario.description,
    layout: scenario.layout,
    vmas: sim.plan.vmas,
    quick: json.quick,
    reps: timing.reps,
    windowMs: timing.window_ms,
    durationS,
    machine,
    kernelNotes,
  };
  await writeFile(
    path.join(args.out, 'REPORT.md'),
    `${renderMarkdown(header, computed, goals, verdict)}\n`,
  );
  await writeFile(
    path.join(args.out, 'chart.svg'),
    renderChart(
      computed.rows,
      `procfs-sim strategies, ${scenario.name} (${scenario.layout}, ${sim.plan.vmas} VMAs)`,
    ),
  );
  progress(
    `wrote ${path.relative(process.cwd(), args.out) || '.'}/{latest.json,REPORT.md,chart.svg} in ${durationS.toFixed(0)} s`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
