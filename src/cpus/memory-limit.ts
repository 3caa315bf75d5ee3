/**
 * The memory budget's fixed costs and its default (`--max-memory`): see src/mm/memory-budget.ts
 * for what is charged and README.md, "Memory budget".
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { FIXED_PAGES, PAGE_BYTES } from '../mm/arena-layout.js';
import { PID_RANGE } from './process-table.js';

/**
 * What one process costs besides its arena's committed pages, one figure for every transport (so
 * both answer the same: GET /config, the transport parity test). Measured on a loaded machine,
 * RSS after a full GC: the event loop's view of its arena (MmStruct: typed arrays, index and
 * allocator objects, the SharedArrayBuffer's native record and mapping) and its process record,
 * ~7.2 KB per process at --cpus 0 (5,000 `node`-template processes, RSS minus their arena
 * charge; 1.7 KB of it JS heap); each engine worker thread's view (MmStruct.attach; the event
 * loop's engine adopts the Sim's own view), 1.3 KB of heap and ~2.0 KB of RSS (5,000 views
 * attached in a worker; the same processes cost 3.8 KB more each at --cpus 2). So 8 KB covers
 * --cpus 0 with a ~10 % margin and falls ~2 KB per worker short beyond it (~1.4 KB at --cpus 2).
 */
export const PROCESS_VIEW_BYTES = 8 * 1024;

/**
 * The least the budget is charged for a process: its fixed cost and the two pages every arena
 * commits (the header and the pivot page), whatever its address space holds.
 */
export const MIN_PROCESS_CHARGE = PROCESS_VIEW_BYTES + FIXED_PAGES * PAGE_BYTES;

/**
 * The default `--max-processes`: one more process than the budget could pay for at the least a
 * process is charged, so that a client creating processes meets ENOMEM from the budget, the one
 * limit every client shares, before the process table is full (issue 11; the same rule as the
 * shared tables, table-charge.ts). The pid table grows as processes come (a Map, and arenas are
 * address-space reservations committed as used), so a large limit costs nothing up front.
 * Bounded by the pids a table owns (Linux's PID_MAX_LIMIT): beyond a ~64 GiB budget the pid range
 * is what a client meets, with EAGAIN as fork(2) at pid_max.
 */
export function defaultMaxProcesses(maxMemory: number): number {
  if (!Number.isFinite(maxMemory)) return PID_RANGE - 1;
  return Math.min(PID_RANGE - 1, Math.floor(maxMemory / MIN_PROCESS_CHARGE) + 1);
}

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
