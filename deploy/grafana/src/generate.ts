/**
 * `npm run dashboards`: regenerate the dashboard JSON and its ConfigMap from the code.
 * `npm run dashboards -- --check`: write nothing, exit 1 if a committed file is stale.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboardFiles } from './dashboard-files.js';

/** The repo root is the nearest ancestor with a package.json (works from src and from dist/). */
function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, content] of renderDashboardFiles()) {
  const file = join(root, path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (current === content) continue;
  if (check) {
    console.error(`${path} is stale: run \`npm run dashboards\``);
    stale++;
  } else {
    writeFileSync(file, content);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale === 0 ? 0 : 1;
