/**
 * The code under deploy/ that the root tsconfig does not build: the k6 scenarios (JavaScript for
 * k6, checked with `checkJs` against @types/k6, since k6 itself cannot be installed here) and the
 * dashboard generator script (run by tsx through `npm run dashboards`).
 *
 * Reproduce: npx tsx --test test/deploy/typecheck.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { repoPath } from './support/repo-root.js';
import { runTool } from './support/run-tool.js';

describe('typechecks', () => {
  const tsc = repoPath('node_modules/typescript/bin/tsc');

  const typecheck = (project: string) => runTool(process.execPath, [tsc, '-p', project]);

  test('k6 scenarios typecheck with @types/k6 (deploy/k6/tsconfig.json)', async () => {
    for (const scenario of ['read-heavy', 'write-heavy', 'mixed', 'strategy-ab']) {
      assert.ok(existsSync(repoPath(`deploy/k6/${scenario}.js`)), `${scenario}.js is missing`);
    }
    const { code, output } = await typecheck('deploy/k6/tsconfig.json');
    assert.equal(code, 0, `tsc -p deploy/k6/tsconfig.json failed:\n${output}`);
  });

  test('the dashboard generator typechecks (deploy/grafana/tsconfig.json)', async () => {
    const { code, output } = await typecheck('deploy/grafana/tsconfig.json');
    assert.equal(code, 0, `tsc -p deploy/grafana/tsconfig.json failed:\n${output}`);
  });
});
