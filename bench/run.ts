/**
 * `npm run bench [-- --quick] [-- --only=engine,http]`: runs the benchmark sections in one go,
 * prints a table of ratios, writes bench/results/latest.json and regenerates the table in
 * BENCHMARKS.md. Every ratio is between two things measured in this same run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchSection, Figure } from './lib/figure.js';
import { renderTable, writeResults } from './lib/report.js';
import { sections } from './sections/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv: string[]): { quick: boolean; only: string[] | null } {
  let quick = false;
  let only: string[] | null = null;
  for (const a of argv) {
    if (a === '--quick') quick = true;
    else if (a.startsWith('--only=')) only = a.slice(7).split(',');
    else if (a === '--help') {
      console.log(
        `usage: npm run bench [-- --quick] [-- --only=${sections.map((s) => s.name).join(',')}]`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return { quick, only };
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
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
  await writeResults(repoRoot, info, figures);
  console.log('wrote bench/results/latest.json and BENCHMARKS.md');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
