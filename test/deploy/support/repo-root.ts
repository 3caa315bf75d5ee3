/**
 * The repo root: the nearest ancestor directory with a package.json. Test files run both from
 * test/ (tsx) and from dist/test/ (compiled), so paths are resolved from here, not from the
 * file's own location.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/** Absolute path of a repo-relative path. */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
