/** Reading the repo's deploy files from tests. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoPath } from './repo-root.js';

export function readText(path: string): string {
  return readFileSync(repoPath(path), 'utf8');
}

export function readYaml<T>(path: string): T {
  return parse(readText(path)) as T;
}

/** Every file below an absolute directory, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}
