/**
 * `npm run bench [-- --quick] [-- --only=engine,http] [-- --record]`: runs the benchmark sections
 * in one go, prints a table of ratios and writes it. A full run records: bench/results/latest.json
 * and the table in BENCHMARKS.md. A `--quick` or `--only` run writes bench/results/partial.json
 * instead (untracked), so a short look does not replace the recorded figures of a full run with
 * fewer reps or fewer sections; `--record` records it anyway. Every ratio is between two things
 * measured in this same run.
 */
import '../src/v8-inlining.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchSection, Figure } from './lib/figure.js';
import { renderTable, writePartialResults, writeResults } from './lib/report.js';
import { sections } from './sections/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv: string[]): { quick: boolean; only: string[] | null; record: boolean } {
  let quick = false;
  let record = false;
  let only: string[] | null = null;
  for (const a of argv) {
    if (a === '--quick') quick = true;
    else if (a === '--record') record = true;
    else if (a.startsWith('--only=')) only = a.slice(7).split(',');
    else if (a === '--help') {
      console.log(
        `usage: npm run bench [-- --quick] [-- --only=${sections.map((s) => s.name).join(',')}] [-- --record]`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return { quick, only, record };
}

async function main(): Promise<void> {
  const { quick, only, record } = parseArgs(process.argv.slice(2));
  const chosen: BenchSection[] = only ? sections.filter((s) => only.includes(s.name)) : sections;
  const started = Date.now();
  const figures: Figure[] = [];
  const reps = quick ? 3 : 5;
  for (const [i, section] of chosen.entries()) {
    const t0 = Date.now();
    const ctx: BenchContext = {
      quick,
      reps,
      progress: (msg) =>
        process.stderr.write(`[${i + 1}/${chosen.length} ${section.name}] ${msg}\n`),
    };
    ctx.progress('start');
    const got = await section.run(ctx);
    figures.push(...got);
    ctx.progress(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s (${got.length} figures)`);
  }
  const info = {
    startedAt: new Date(started).toISOString(),
    durationS: (Date.now() - started) / 1000,
    quick,
    reps,
  };
  console.log(renderTable(figures));
  if (record || (!quick && only === null)) {
    await writeResults(repoRoot, info, figures);
    console.log('wrote bench/results/latest.json and BENCHMARKS.md');
  } else {
    await writePartialResults(repoRoot, info, figures);
    console.log(
      'wrote bench/results/partial.json (a --quick or --only run leaves latest.json and BENCHMARKS.md to full runs; --record writes them)',
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
