/**
 * The host kernel's side of the report: `kbench pairs` (bench/kernel/kbench-pairs.c) runs the
 * same readers and writers on real threads in its own process, in the same run. Its windows
 * become samples of strategy `kernel`; what the host cannot run is listed with the reason.
 */
import { execFileSync } from 'node:child_process';
import { buildKbench } from '../lib/kernel-baseline.js';
import type { ReaderName, WriterName } from '../workloads/definitions.js';
import type { WindowResult } from './protocol.js';
import type { Sample, SampleKind } from './samples.js';

export interface KernelTwin {
  samples: Sample[];
  /** What this host cannot run, e.g. { name: 'anon_names', why: '…' }. */
  unsupported: Array<{ name: string; why: string }>;
  /** Set when the twin could not run at all (no gcc, build or run failure). */
  error: string | null;
}

interface KWindow {
  ops: number;
  seconds: number;
  p99_ns: number;
}

const win = (w: KWindow | null): WindowResult | null =>
  w === null ? null : { ops: w.ops, seconds: w.seconds, p99Ns: w.p99_ns };

/** Parses kbench pairs' output (one JSON object per line). */
export function parseKbenchPairs(out: string): Omit<KernelTwin, 'error'> {
  const samples: Sample[] = [];
  const unsupported: KernelTwin['unsupported'] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const j = JSON.parse(line);
    if (typeof j.unsupported === 'string') {
      unsupported.push({ name: j.unsupported, why: String(j.why) });
      continue;
    }
    samples.push({
      kind: j.kind as SampleKind,
      strategy: 'kernel',
      reader: j.reader as ReaderName | 'none',
      writer: j.writer as WriterName,
      hot: j.hot === 1,
      rep: j.rep,
      r: win(j.r),
      w: win(j.w),
    });
  }
  return { samples, unsupported };
}

export function runKernelTwin(o: {
  vmas: number;
  readers: readonly ReaderName[];
  writers: readonly WriterName[];
  reps: number;
  windowMs: number;
}): KernelTwin {
  const writers = o.writers.filter((w) => w !== 'none');
  try {
    const { bin } = buildKbench();
    const out = execFileSync(
      bin,
      [
        'pairs',
        String(o.windowMs),
        String(o.reps),
        String(o.vmas),
        o.readers.join(','),
        writers.join(','),
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    return { ...parseKbenchPairs(out), error: null };
  } catch (err) {
    return { samples: [], unsupported: [], error: (err as Error).message.split('\n')[0] };
  }
}
