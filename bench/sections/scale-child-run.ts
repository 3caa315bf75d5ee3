/**
 * Runs the scale section in a fresh node process (scale-child.ts) and takes its figures: its RSS
 * rows measure growth from a baseline, which the heap and malloc state left by the sections run
 * before it in the bench's own process would move.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { BenchContext, Figure } from '../lib/figure.js';
import { repoRoot } from '../lib/processes.js';

/** The child's script; `script` replaces it (tests). */
export function runScaleChild(
  ctx: BenchContext,
  script = path.join(repoRoot, 'dist/bench/sections/scale-child.js'),
): Promise<Figure[]> {
  const args = [script, ...(ctx.quick ? ['--quick'] : [])];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) ctx.progress(line);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (partial) ctx.progress(partial);
      if (code !== 0) return reject(new Error(`scale section (child process) exited with ${code}`));
      try {
        resolve(JSON.parse(out) as Figure[]);
      } catch (err) {
        reject(err);
      }
    });
  });
}
