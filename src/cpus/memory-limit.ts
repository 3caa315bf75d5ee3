/**
 * The memory budget's fixed costs and its default (`--max-memory`): see src/mm/memory-budget.ts
 * for what is charged and README.md, "Memory budget".
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/**
 * What one process costs besides its arena's committed pages: the views of its arena on the
 * engine threads (MmStruct, typed arrays, index and allocator objects, the SharedArrayBuffer's
 * native record; measured: 10,000 processes cost ~5 KB each on top of their arenas with --cpus 0).
 * One figure for every transport, so both answer the same (GET /config, parity tests).
 */
export const PROCESS_VIEW_BYTES = 8 * 1024;

/** Share of the machine's memory the hosted processes may take by default. */
export const DEFAULT_MEMORY_SHARE = 1 / 2;

/**
 * The cgroup v2 memory limit of this process (`memory.max` of its cgroup or the nearest ancestor
 * with one), or null when there is none ("max") or no cgroup v2 is mounted.
 */
export function cgroupMemoryLimit(root = '/sys/fs/cgroup'): number | null {
  let path: string;
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (line === undefined) return null;
    path = line.slice(3).trim();
  } catch {
    return null;
  }
  let best: number | null = null;
  for (let dir = path; ; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    try {
      const raw = readFileSync(`${root}${dir === '/' ? '' : dir}/memory.max`, 'utf8').trim();
      if (/^[0-9]+$/.test(raw)) best = Math.min(best ?? Number.POSITIVE_INFINITY, Number(raw));
    } catch {
      // No memory controller at this level (the root cgroup has no memory.max).
    }
    if (dir === '' || dir === '/') break;
  }
  return best;
}

/** The default --max-memory: half of the machine's memory, or of the cgroup limit if lower. */
export function defaultMaxMemory(): number {
  const machine = Math.min(totalmem(), cgroupMemoryLimit() ?? Number.POSITIVE_INFINITY);
  return Math.floor(machine * DEFAULT_MEMORY_SHARE);
}
