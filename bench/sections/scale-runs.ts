/**
 * The scale section's page-table probe: one process writes every other page of a large
 * anonymous mapping in ascending order, so its page table grows one run per touch (written
 * pages with unwritten ones between them never merge) and each new run lands after all the
 * others. The µs per touch of a batch when the table holds a few hundred runs is compared with
 * a batch at `runs` runs: a run lookup that walked the table would grow with it (it did: a list
 * walked from its head), the kernel's page-table walk does not.
 */
import { type SimApi, SimError, type SyscallCall } from '../../src/cpus/sim-api.js';
import { median } from '../lib/figure.js';

const PAGE = 4096;
const BATCH = 256;
const MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
const PROT_READ_WRITE = 3;

export interface RunsProbe {
  /** µs per touch with 256..1,280 runs in the table (median of 4 batches). */
  usFew: number;
  /** µs per touch with ~`runs` runs in the table (median of the last batches). */
  usMany: number;
  /** Runs in the table at the end. */
  runs: number;
}

/**
 * Touches pages 0, 2, 4, ... of a fresh process's mapping until it has `runs` runs. Before it,
 * a process of 2,048 runs warms the JIT, then 5 processes of 1,280 runs give the few-runs
 * figure (their batches 2-5: 20 batches, so a machine's scheduling hiccups do not decide it).
 */
export async function probeManyRuns(sim: SimApi, runs: number): Promise<RunsProbe> {
  await touchEveryOtherPage(sim, 2_048);
  const few: number[] = [];
  for (let i = 0; i < 5; i++) few.push(...(await touchEveryOtherPage(sim, 5 * BATCH)).slice(1));
  const perBatch = await touchEveryOtherPage(sim, runs);
  const last = Math.max(20, Math.floor(perBatch.length / 20));
  return {
    usFew: median(few),
    usMany: median(perBatch.slice(perBatch.length - last)),
    runs,
  };
}

/** µs per touch of each batch of BATCH touches. */
async function touchEveryOtherPage(sim: SimApi, runs: number): Promise<number[]> {
  const { pid } = await sim.createProcess({ template: 'node' });
  try {
    const mmap: SyscallCall = {
      op: 'mmap',
      addr: 0,
      length: 2 * runs * PAGE,
      prot: PROT_READ_WRITE,
      flags: MAP_PRIVATE_ANONYMOUS,
      offset: 0,
      file: null,
    };
    const [base] = await sim.syscalls(pid, [mmap]);
    if (base instanceof SimError) throw base;
    const perBatch: number[] = [];
    for (let first = 0; first < runs; first += BATCH) {
      const calls: SyscallCall[] = [];
      for (let i = first; i < Math.min(runs, first + BATCH); i++) {
        calls.push({ op: 'touch', addr: base + 2 * i * PAGE, length: PAGE, write: true });
      }
      const t0 = performance.now();
      const results = await sim.syscalls(pid, calls);
      perBatch.push(((performance.now() - t0) * 1000) / calls.length);
      const refused = results.find((r) => r instanceof SimError);
      if (refused) throw refused;
    }
    return perBatch;
  } finally {
    await sim.exitProcess(pid);
  }
}
