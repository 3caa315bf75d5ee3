/**
 * The scale section's runner (bench/sections/scale-child-run.ts) against stand-in children: it
 * passes `--quick` on, forwards the child's stderr as whole progress lines however the bytes
 * arrive, takes the figures from its stdout, and fails the section when the child fails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runScaleChild } from '../../bench/sections/scale-child-run.js';

const dir = mkdtempSync(path.join(tmpdir(), 'scale-child-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A child script made of `body` (CommonJS, so it runs from any directory). */
function child(name: string, body: string): string {
  const file = path.join(dir, `${name}.cjs`);
  writeFileSync(file, body);
  return file;
}

function context(quick: boolean) {
  const progress: string[] = [];
  return { ctx: { quick, reps: 1, progress: (m: string) => progress.push(m) }, progress };
}

test('figures from stdout, progress lines whole, --quick passed on', async () => {
  // A line split across writes, two lines in one write, a last line with no newline.
  const script = child(
    'ok',
    `const quick = process.argv.includes('--quick');
const w = (s) => new Promise((r) => process.stderr.write(s, r));
(async () => {
  await w('filling 1');
  await w('0,000 VMAs\\nstep two\\nstep ');
  await w('three');
  process.stdout.write(JSON.stringify([{ id: 'scale.x', value: quick ? 1 : 2 }]));
})();
`,
  );
  for (const quick of [true, false]) {
    const { ctx, progress } = context(quick);
    const figures = await runScaleChild(ctx, script);
    assert.deepEqual(figures, [{ id: 'scale.x', value: quick ? 1 : 2 }]);
    assert.deepEqual(progress, ['filling 10,000 VMAs', 'step two', 'step three']);
  }
});

test('a child that fails or prints no figures fails the section', async () => {
  const failing = child('fail', `process.stderr.write('out of memory\\n'); process.exit(3);\n`);
  const { ctx, progress } = context(true);
  await assert.rejects(runScaleChild(ctx, failing), /exited with 3/);
  assert.deepEqual(progress, ['out of memory']);
  const silent = child('silent', `process.stdout.write('not json');\n`);
  await assert.rejects(runScaleChild(context(true).ctx, silent), SyntaxError);
});
