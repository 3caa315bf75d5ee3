/**
 * Process churn returns its memory (issue 11, finding 3): fork + exit and create-from-template +
 * mutate + exit in a loop must not grow the resident set. Before arenas were mapped from the OS
 * (src/mm/arena-layout.ts allocateArena), every arena after the first exit came from glibc's
 * heap and was resident in full: ~30 MB per cycle. The bound here is generous (RSS is noisy and
 * worker threads free dropped arenas at their own GC), two orders of magnitude below the leak.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Sim } from '../../src/cpus/sim.js';

const MB = 1024 * 1024;
const CYCLES = 120;
const BOUND = 96 * MB;

// The event loop's collector frees dropped arenas as a busy service's would (node's documented
// way to reach gc() without --expose-gc on the command line).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let sim: Sim;

before(async () => {
  sim = await Sim.start({
    strategy: 'per_vma',
    cpus: 2,
    maxProcesses: 64,
    maxVmasPerProcess: 65_530,
    maxBatch: 1024,
    population: 2,
  });
});

after(async () => {
  await sim.close();
});

async function rssGrowth(cycle: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 20; i++) await cycle(); // warm-up: JIT, worker heaps, malloc thresholds
  gc();
  const base = process.memoryUsage().rss;
  for (let i = 0; i < CYCLES; i++) {
    await cycle();
    if (i % 10 === 9) gc();
  }
  const growth = process.memoryUsage().rss - base;
  console.log(`# ${CYCLES} cycles: RSS ${(growth / MB).toFixed(1)} MiB`);
  return growth;
}

test('fork + exit in a loop: RSS back near its baseline', async () => {
  const growth = await rssGrowth(async () => {
    const c = await sim.forkProcess(1);
    await sim.exitProcess(c.pid);
  });
  assert.ok(growth < BOUND, `RSS grew ${(growth / MB).toFixed(0)} MiB over ${CYCLES} cycles`);
  assert.equal((await sim.listProcesses(0, 10)).total, 2);
});

test('create from a template + mutate + exit in a loop: RSS back near its baseline', async () => {
  const growth = await rssGrowth(async () => {
    const p = await sim.createProcess({ template: 'jvm' });
    const calls = Array.from({ length: 64 }, (_, i) => ({
      op: 'mmap' as const,
      addr: 0x1000_0000_0000 + i * 0x2000,
      length: 0x1000,
      prot: 3,
      flags: 0x32,
      offset: 0,
      file: null,
    }));
    const r = await sim.syscalls(p.pid, calls);
    assert.equal(r.length, 64);
    await sim.exitProcess(p.pid);
  });
  assert.ok(growth < BOUND, `RSS grew ${(growth / MB).toFixed(0)} MiB over ${CYCLES} cycles`);
});
