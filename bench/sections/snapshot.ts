/**
 * `npm run bench -- --only=snapshot`: what `--state-dir` costs, per million VMAs. An in-process
 * Sim gets processes of 60,000 VMAs each (alternating protections, so none merge) until it holds
 * a million (200,000 with --quick); then, as the median of several runs:
 *   - save: POST /snapshot's work (capture under each mmap read lock, encode, SHA-256, write,
 *     fsync, rename) in ms per 1M VMAs, beside copying the raw arenas (the format not chosen,
 *     docs/durable-state.md) as the baseline;
 *   - restore: decode, validate and rebuild every address space, in ms per 1M VMAs, beside the
 *     same raw copy;
 *   - size: file bytes per 1M VMAs, beside the bytes of the arenas that hold them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sim } from '../../src/cpus/sim.js';
import type { SyscallCall } from '../../src/cpus/sim-api.js';
import { decodeService, restoreService } from '../../src/state/service-image.js';
import { openFrame } from '../../src/state/snapshot-frame.js';
import { StateStore } from '../../src/state/state-store.js';
import { type BenchSection, type Figure, median, ratioFigure } from '../lib/figure.js';

const VMAS_PER_PROCESS = 60_000;
const MAP_PRIVATE_ANON_FIXED = 0x02 | 0x20 | 0x10;
const BASE = 0x100000000000;

function newSim(): Promise<Sim> {
  return Sim.start({
    strategy: 'per_vma',
    cpus: 0,
    maxProcesses: 64,
    maxVmasPerProcess: 65530,
    maxBatch: 65536,
    population: 0,
  });
}

/** One page per VMA, read-only and read-write in turn: nothing merges. */
function fillCalls(n: number): SyscallCall[] {
  return Array.from({ length: n }, (_, i) => ({
    op: 'mmap' as const,
    addr: BASE + i * 4096,
    length: 4096,
    prot: i % 2 === 0 ? 1 : 3,
    flags: MAP_PRIVATE_ANON_FIXED,
    offset: 0,
    file: null,
  }));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export const snapshotSection: BenchSection = {
  name: 'snapshot',
  async run(ctx) {
    const target = ctx.quick ? 200_000 : 1_000_000;
    const sim = await newSim();
    const dir = await mkdtemp(join(tmpdir(), 'procfs-bench-state-'));
    try {
      let vmas = 0;
      const calls = fillCalls(VMAS_PER_PROCESS);
      while (vmas < target) {
        const { pid } = await sim.createProcess({ template: 'minimal' });
        await sim.syscalls(pid, calls);
        vmas = (await sim.gauges()).vmas;
      }
      ctx.progress(`${vmas} VMAs in ${(await sim.gauges()).processes} processes`);
      const perMillion = 1_000_000 / vmas;
      const arenas = () => sim.durable.processes().map((p) => p.mm.buffer);
      const arenaBytes = arenas().reduce((n, b) => n + b.byteLength, 0);

      const store = new StateStore(dir);
      const save: number[] = [];
      const restore: number[] = [];
      const raw: number[] = [];
      let fileBytes = 0;
      for (let r = 0; r < ctx.reps; r++) {
        save.push(await timed(async () => (fileBytes = (await store.save(sim)).bytes)));
        const file = await readFile(store.path);
        const target = await newSim();
        restore.push(
          await timed(async () => {
            const frame = openFrame(file);
            await restoreService(decodeService(frame.payload, frame.version), target.durable);
          }),
        );
        await target.close();
        raw.push(
          await timed(async () => {
            for (const b of arenas()) new Uint8Array(b.byteLength).set(new Uint8Array(b));
          }),
        );
      }
      const rawMs = median(raw) * perMillion;
      const note = `${vmas} VMAs, median of ${ctx.reps}`;
      const figures: Figure[] = [
        ratioFigure({
          id: 'snapshot.save_ms_per_1m_vmas',
          section: 'Snapshot',
          what: 'POST /snapshot per 1M VMAs (capture, encode, SHA-256, fsync, rename)',
          unit: 'ms',
          value: median(save) * perMillion,
          baseline: { name: 'raw arena copy', value: rawMs },
          note,
        }),
        ratioFigure({
          id: 'snapshot.restore_ms_per_1m_vmas',
          section: 'Snapshot',
          what: 'restore per 1M VMAs (checksum, decode, validate, rebuild arenas and indexes)',
          unit: 'ms',
          value: median(restore) * perMillion,
          baseline: { name: 'raw arena copy', value: rawMs },
          note,
        }),
        ratioFigure({
          id: 'snapshot.bytes_per_1m_vmas',
          section: 'Snapshot',
          what: 'snapshot file size per 1M VMAs',
          unit: 'MB',
          value: (fileBytes * perMillion) / 1e6,
          baseline: { name: 'arena bytes', value: (arenaBytes * perMillion) / 1e6 },
          note,
        }),
      ];
      return figures;
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
