/**
 * What an HTTP goal leaves a request (bench/http/goal-allowance.ts), and the maps stages it
 * is judged with (bench/http/maps-stages.ts): the read is the fast path's (the service's strategy,
 * 4 KiB chunks, its pieces given back to their slab).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goalAllowance } from '../../bench/http/goal-allowance.js';
import { measureMapsStages } from '../../bench/http/maps-stages.js';
import { defaultConfig } from '../../src/config.js';
import { slabAllocations } from '../../src/cpus/read-pieces.js';
import { Sim } from '../../src/cpus/sim.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';

/** The value of one series of /metrics (0 if absent). */
function series(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

const load = (mainThreadUs: number) => ({ rps: 1, p99ms: 1, cpu: { processUs: 0, mainThreadUs } });

test('0.7× leaves a maps request the hello-world’s event loop × (1/0.7 − 1) more', () => {
  const stages = [{ key: 'maps.read', stage: 'read', us: 6 }];
  // Hello-world 21 µs: 0.7× allows 30 µs, 9 µs above it.
  const maps = { id: 'maps', request: 'GET maps', goal: 0.7, readStage: 'maps.read' };
  const [request, read] = goalAllowance(maps, load(31.5), load(21), stages);
  assert.ok(Math.abs((request.baseline?.value ?? 0) - 9) < 1e-9);
  assert.equal(request.value, 10.5);
  assert.equal(request.met, false); // 10.5 µs above: over the allowance
  assert.equal(read.value, 6);
  assert.equal(read.met, true); // the read alone fits: the rest of the request is over
  assert.ok(Math.abs((read.ratio ?? 0) - 6 / 9) < 1e-9);
  const [within] = goalAllowance(maps, load(29), load(21), stages);
  assert.equal(within.met, true);
  assert.throws(() => goalAllowance(maps, load(1), load(1), []), /no maps\.read stage/);
  // 0.8× allows a quarter of the hello-world's event loop.
  const query = { ...maps, goal: 0.8 };
  assert.ok(
    Math.abs((goalAllowance(query, load(1), load(20), stages)[0].baseline?.value ?? 0) - 5) < 1e-9,
  );
});

test('the maps stages read through the service’s strategy and give every read back', async () => {
  const config = defaultConfig({ population: 0 });
  const sim = await Sim.start({
    strategy: 'mmap_lock',
    maxProcesses: 2,
    maxVmasPerProcess: config.maxVmasPerProcess,
    maxBatch: config.maxBatch,
    population: 0,
    cpus: 1,
    reads: 'event-loop',
  });
  try {
    const lines = Array.from({ length: 120 }, (_, i) => {
      const start = (0x10000000 + i * 0x2000).toString(16);
      const end = (0x10000000 + i * 0x2000 + 0x1000).toString(16);
      return `${start}-${end} r--p 00000000 00:00 0 `;
    });
    const gate =
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]';
    const maps = `${[...lines, gate].join('\n')}\n`;
    const pid = (await sim.createProcess({ maps, comm: 'stages' })).pid;
    const metrics = createMetricsRegistry({
      instruments: sim.instruments,
      gauges: () => ({ processes: 0, vmas: 0 }),
    });
    const reads = 'procfs_reads_total{op="maps",strategy="mmap_lock"}';
    const locks =
      'procfs_lock_wait_seconds_count{lock="mmap_lock",mode="read",strategy="mmap_lock"}';
    const before = await metrics.registry.metrics();
    const slabs = slabAllocations();
    let calls = 0;
    const stages = measureMapsStages(sim, pid, 1, {
      perCall: (_reps, n, fn) => {
        for (let i = 0; i < n; i++) fn();
        calls += n;
        return 1;
      },
    });
    assert.deepEqual(
      stages.map((s) => s.key),
      ['maps.read', 'maps.body'],
    );
    assert.match(stages[0].stage, /\b\d{4,} B in 4 KiB chunks/); // 120 lines: more than a chunk
    // Thousands of reads, each given back: the slab is reused, not reallocated.
    assert.ok(slabAllocations() - slabs <= 2, `${slabAllocations() - slabs} slabs`);
    // Each stage call read through mmap_lock: a read counted, its chunks each under the lock.
    const after = await metrics.registry.metrics();
    const counted = series(after, reads) - series(before, reads);
    assert.ok(counted >= calls / 2, `${counted} mmap_lock maps reads for ${calls} stage calls`);
    assert.ok(series(after, locks) - series(before, locks) >= 2 * counted);
    assert.throws(() => measureMapsStages(sim, 999, 1, { perCall: () => 0 }), /pid 999/);
  } finally {
    await sim.close();
  }
});
