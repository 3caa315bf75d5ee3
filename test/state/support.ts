/**
 * Helpers of the snapshot tests: a rich in-process Sim state (templates, imports with deleted files and
 * shmem, anon names, forks, an exited pid, an activity), and its observable state — every list,
 * maps text, inspect answer, PROCMAP_QUERY walk and activity definition — to compare before and
 * after a restore.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sim } from '../../src/cpus/sim.js';
import type { SimApi, SyscallCall } from '../../src/cpus/sim-api.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
} from '../../src/mm/vm-flags.js';
import { repoRoot } from '../http/server-process.js';

export const fixtureMaps = (name: string) =>
  readFileSync(join(repoRoot(), 'test', 'fixtures', 'real-maps', name), 'utf8');

export function localSim(pidBase = 0): Promise<Sim> {
  return Sim.start({
    strategy: 'per_vma',
    cpus: 0,
    maxProcesses: 64,
    maxVmasPerProcess: 65530,
    maxBatch: 65536,
    population: 0,
    pidBase,
  });
}

const RW = 3;
const anon = (addr: number, length: number, shared = false): SyscallCall => ({
  op: 'mmap',
  addr,
  length,
  prot: RW,
  flags: (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | (addr !== 0 ? MAP_FIXED : 0),
  offset: 0,
  file: null,
});

/** Calls whose results depend on everything a restore must keep (placement, shmem inodes, brk). */
export const PROBE_CALLS: SyscallCall[] = [
  anon(0, 0x5000),
  anon(0, 0x3000, true),
  { op: 'brk', addr: 0 },
  anon(0x600000000000, 0x4000),
  { op: 'anon_name', addr: 0x600000001000, length: 0x1000, name: 'probe' },
];

/** A sim with a bit of everything a snapshot must carry. */
export async function richState(sim: SimApi): Promise<void> {
  const bash = (await sim.createProcess({ template: 'bash', comm: 'bash' })).pid;
  await sim.createProcess({ template: 'jvm', comm: 'a-very-long-command-name', pkeys: true });
  const edge = (await sim.createProcess({ maps: fixtureMaps('edge-host.maps'), comm: 'edge' })).pid;
  const gone = (await sim.createProcess({ template: 'minimal' })).pid;
  await sim.syscalls(bash, [
    anon(0x500000000000, 0x8000),
    { op: 'anon_name', addr: 0x500000002000, length: 0x4000, name: 'shared name' },
    anon(0, 0x2000, true),
    { op: 'mprotect', addr: 0x500000000000, length: 0x1000, prot: 1 },
  ]);
  // Page state: written and shmem pages, huge pages (MADV_HUGEPAGE), one PMD split by a
  // one-page mprotect; the fork below shares them (Pss halves, an anonymous page object).
  await sim.syscalls(bash, [
    anon(0x500000200000, 0x400000),
    { op: 'madvise', addr: 0x500000200000, length: 0x400000, advice: 14 },
    { op: 'touch', addr: 0x500000200000, length: 0x200000, write: true },
    { op: 'touch', addr: 0x500000400000, length: 0x3000, write: true },
    { op: 'touch', addr: 0x500000500000, length: 0x1000, write: false },
    { op: 'touch', addr: 0x500000003000, length: 0x2000, write: true },
    { op: 'mprotect', addr: 0x500000300000, length: 0x1000, prot: 1 },
    anon(0x500001000000, 0x4000, true),
    { op: 'touch', addr: 0x500001000000, length: 0x2000, write: true },
  ]);
  await sim.forkProcess(bash);
  await sim.forkProcess(edge);
  await sim.exitProcess(gone);
  // An activity whose calls all fail (EINVAL): it runs, but never changes the address space.
  await sim.setActivity(edge, {
    kind: 'loop',
    loop: [{ op: 'munmap', addr: 0x1001, length: 0x1000 }],
    ratePerS: 50,
  });
}

async function mapsText(sim: SimApi, pid: number): Promise<string> {
  let s = '';
  for await (const c of await sim.readMaps(pid, { chunk: 0 })) s += Buffer.from(c).toString();
  return s;
}

async function procFile(sim: SimApi, pid: number, file: 'smaps' | 'status'): Promise<string> {
  let s = '';
  for await (const c of await sim.readProcFile(pid, file, { chunk: 0 }))
    s += Buffer.from(c).toString();
  return s;
}

/** Everything a client can observe of `sim` (activity counters and start times left out). */
export async function observe(sim: SimApi, memory = false): Promise<unknown> {
  const list = await sim.listProcesses(0, 1 << 20);
  const procs = [];
  for (const { pid } of list.processes) {
    const detail = await sim.inspectProcess(pid);
    const maps = await mapsText(sim, pid);
    const walk = await sim.query(pid, {}, queryWalk(maps));
    procs.push({
      ...detail,
      activity: detail.activity?.spec ?? null,
      maps,
      ...(memory
        ? {
            smaps: await procFile(sim, pid, 'smaps'),
            // PPid: a snapshot does not record which process forked which.
            status: (await procFile(sim, pid, 'status')).replace(/^PPid:.*$/m, 'PPid:'),
          }
        : {}),
      walk: walk.map((w) => (w instanceof Error ? w.message : w)),
    });
  }
  return { list, procs };
}

/** A COVERING_OR_NEXT query at every VMA start of the text, and one past each VMA. */
function queryWalk(maps: string) {
  const qs = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)/.exec(line);
    if (!m || m[1].length > 12) continue;
    for (const a of [m[1], m[2]]) {
      qs.push({
        addr: Number.parseInt(a, 16),
        flags: PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
        name: true,
        buildId: true,
      });
    }
  }
  return qs;
}
