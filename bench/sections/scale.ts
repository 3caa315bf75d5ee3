/**
 * `npm run bench -- --only=scale`: what it takes to host many processes (issue 11, memory
 * budget). An in-process Sim gets 10,000 processes (2,000 with --quick) of 100 VMAs each: the
 * `node` template (91 VMAs) plus 9 kernel-placed mmaps, so 1M VMAs in all. Measured once (a
 * fill takes tens of seconds; the section stays under a minute):
 *   - the time to host them (creates + syscall batches through the SimApi), against 60 s;
 *   - RSS growth per hosted VMA (after a full GC before and after), against the 256 B
 *     (the kernel's vm_area_struct + maple tree share is ~200-250 B);
 *   - RSS growth against what the memory budget charged for them (--max-memory accounts what
 *     is really allocated: committed arena pages and per-process views), within 25 %.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Sim } from '../../src/cpus/sim.js';
import type { SyscallCall } from '../../src/cpus/sim-api.js';
import { type BenchSection, type Figure, ratioFigure } from '../lib/figure.js';

const EXTRA_MMAPS = 9;
const MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

/** A full garbage collection, so RSS reflects live memory (no --expose-gc needed). */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function extraCalls(): SyscallCall[] {
  return Array.from({ length: EXTRA_MMAPS }, (_, i) => ({
    op: 'mmap' as const,
    addr: 0,
    length: 4096 * (1 + (i % 3)),
    prot: i % 2 === 0 ? 1 : 3,
    flags: MAP_PRIVATE_ANONYMOUS,
    offset: 0,
    file: null,
  }));
}

export const scaleSection: BenchSection = {
  name: 'scale',
  async run(ctx) {
    const processes = ctx.quick ? 2_000 : 10_000;
    const sim = await Sim.start({
      strategy: 'per_vma',
      cpus: 0,
      maxProcesses: processes,
      maxVmasPerProcess: 65530,
      maxBatch: 64,
      population: 0,
    });
    try {
      fullGc();
      const rss0 = process.memoryUsage().rss;
      const used0 = sim.getConfig().memory?.usedBytes ?? 0;
      const calls = extraCalls();
      const t0 = performance.now();
      for (let i = 0; i < processes; i++) {
        const { pid } = await sim.createProcess({ template: 'node' });
        await sim.syscalls(pid, calls);
      }
      const seconds = (performance.now() - t0) / 1000;
      fullGc();
      const grown = process.memoryUsage().rss - rss0;
      const charged = (sim.getConfig().memory?.usedBytes ?? 0) - used0;
      const { vmas } = sim.gauges();
      ctx.progress(`${processes} processes, ${vmas} VMAs in ${seconds.toFixed(1)} s`);
      const note = `${processes} processes, ${vmas} VMAs, --cpus 0, one run`;
      const figures: Figure[] = [
        ratioFigure({
          id: 'scale.host_seconds',
          section: 'Scale',
          what: `time to host ${processes.toLocaleString('en')} processes / ${vmas.toLocaleString('en')} VMAs`,
          unit: 's',
          value: seconds,
          baseline: { name: 'goal: 60 s', value: 60 },
          goal: { op: '<=', ratio: 1 },
          note,
        }),
        ratioFigure({
          id: 'scale.rss_mb',
          section: 'Scale',
          what: `RSS growth hosting ${vmas.toLocaleString('en')} VMAs`,
          unit: 'MB',
          value: grown / 1e6,
          baseline: { name: 'memory budget charged (--max-memory)', value: charged / 1e6 },
          goal: { op: '<=', ratio: 1.25 },
          note,
        }),
        ratioFigure({
          id: 'scale.bytes_per_vma',
          section: 'Scale',
          what: `RSS per hosted VMA at ${vmas.toLocaleString('en')} VMAs`,
          unit: 'B',
          value: grown / vmas,
          baseline: { name: "goal: 256 B (the kernel's ~200-250 B)", value: 256 },
          goal: { op: '<=', ratio: 1 },
          note,
        }),
      ];
      return figures;
    } finally {
      await sim.close();
    }
  },
};
