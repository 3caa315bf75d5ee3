/**
 * The host kernel's side of the report: `kbench pairs` (bench/kernel/kbench-pairs.c) runs the
 * same readers and writers on real threads in its own process, in the same run. Its windows
 * become samples of strategy `kernel`; what the host cannot run is listed with the reason.
 */
import { execFileSync } from 'node:child_process';
import { median } from '../lib/figure.js';
import { buildKbench } from '../lib/kernel-baseline.js';
import type { ReaderName, WriterName } from '../workloads/definitions.js';
import type { WindowResult } from './protocol.js';
import { rate, type Sample, type SampleKind } from './samples.js';

/**
 * The twin's writer alone and beside a sibling thread doing private arithmetic (no reader), one
 * repetition: what any other running thread of the process costs the host kernel's writer (a
 * munmap flushes the TLB of every CPU running the process). `tlb`: the host's TLB shootdown
 * interrupts during each window (null where /proc/interrupts has no TLB line).
 */
export interface SiblingWindow {
  writer: WriterName;
  rep: number;
  alone: WindowResult;
  beside: WindowResult;
  /** The sibling's own loop: beside the writer, and alone in the same repetition (null: not run). */
  siblingBeside: WindowResult | null;
  siblingAlone: WindowResult | null;
  tlbAlone: number | null;
  tlbBeside: number | null;
}

/** Per writer, medians over the repetitions of its `SiblingWindow`s. */
export interface SiblingControl {
  writer: WriterName;
  /** Writer ops/s beside the sibling ÷ alone. */
  writer_vs_alone: number;
  /** The sibling's loop rate beside the writer ÷ alone (what the writer's flushes cost it). */
  sibling_vs_alone: number | null;
  /** TLB shootdown interrupts per 1,000 writer ops, alone and beside the sibling (null: not counted). */
  tlb_per_1k_alone: number | null;
  tlb_per_1k_beside: number | null;
}

export interface KernelTwin {
  samples: Sample[];
  sibling: SiblingWindow[];
  /** What this host cannot run, e.g. { name: 'anon_names', why: '…' }. */
  unsupported: Array<{ name: string; why: string }>;
  /** Set when the twin could not run at all (no gcc, build or run failure). */
  error: string | null;
}

interface KWindow {
  ops: number;
  seconds: number;
  p99_ns: number;
  /** Voluntary context switches of the thread in the window (absent from an older kbench). */
  sleeps?: number;
}

const win = (w: KWindow | null): WindowResult | null =>
  w === null
    ? null
    : {
        ops: w.ops,
        seconds: w.seconds,
        p99Ns: w.p99_ns,
        ...(typeof w.sleeps === 'number' ? { sleeps: w.sleeps } : {}),
      };

const tlbCount = (v: unknown): number | null => (typeof v === 'number' && v >= 0 ? v : null);

/** Parses kbench pairs' output (one JSON object per line). */
export function parseKbenchPairs(out: string): Omit<KernelTwin, 'error'> {
  const samples: Sample[] = [];
  const sibling: SiblingWindow[] = [];
  const unsupported: KernelTwin['unsupported'] = [];
  const alone = new Map<string, { w: WindowResult; tlb: number | null }>();
  const siblingAlone = new Map<number, WindowResult>();
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const j = JSON.parse(line);
    if (typeof j.unsupported === 'string') {
      unsupported.push({ name: j.unsupported, why: String(j.why) });
      continue;
    }
    if (j.kind === 'sibling_alone') {
      if (j.r) siblingAlone.set(j.rep, win(j.r) as WindowResult);
      continue;
    }
    const key = `${j.writer}/${j.rep}`;
    if (j.kind === 'writer_alone' && j.w)
      alone.set(key, { w: win(j.w) as WindowResult, tlb: tlbCount(j.tlb) });
    if (j.kind === 'writer_beside_sibling') {
      const a = alone.get(key);
      if (a && j.w) {
        sibling.push({
          writer: j.writer as WriterName,
          rep: j.rep,
          alone: a.w,
          beside: win(j.w) as WindowResult,
          siblingBeside: win(j.r),
          siblingAlone: siblingAlone.get(j.rep) ?? null,
          tlbAlone: a.tlb,
          tlbBeside: tlbCount(j.tlb),
        });
      }
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
  return { samples, sibling, unsupported };
}

/** The sibling windows summed up per writer (medians over repetitions). */
export function siblingControl(windows: readonly SiblingWindow[]): SiblingControl[] {
  const writers = [...new Set(windows.map((w) => w.writer))];
  const per1k = (tlb: number | null, w: WindowResult) =>
    tlb === null || w.ops === 0 ? null : (tlb / w.ops) * 1000;
  const med = (xs: (number | null)[]) =>
    xs.some((x) => x === null) ? null : median(xs as number[]);
  return writers.map((writer) => {
    const ws = windows.filter((w) => w.writer === writer);
    return {
      writer,
      writer_vs_alone: median(ws.map((w) => rate(w.beside) / rate(w.alone))),
      sibling_vs_alone: med(
        ws.map((w) =>
          w.siblingBeside && w.siblingAlone ? rate(w.siblingBeside) / rate(w.siblingAlone) : null,
        ),
      ),
      tlb_per_1k_alone: med(ws.map((w) => per1k(w.tlbAlone, w.alone))),
      tlb_per_1k_beside: med(ws.map((w) => per1k(w.tlbBeside, w.beside))),
    };
  });
}

/** The report's kernel-twin note for one writer's sibling control. */
export function siblingNote(c: SiblingControl): string {
  const tlb =
    c.tlb_per_1k_beside === null
      ? ''
      : ` (TLB shootdown interrupts per 1,000 writes: ${c.tlb_per_1k_beside.toFixed(0)}, alone ${(c.tlb_per_1k_alone ?? 0).toFixed(0)})`;
  const sib =
    c.sibling_vs_alone === null
      ? ''
      : `, the sibling ${c.sibling_vs_alone.toFixed(2)}× its own rate alone`;
  const head = `its ${c.writer} writer beside a sibling thread doing private arithmetic, no reader: the writer ${c.writer_vs_alone.toFixed(2)}× alone${sib}${tlb}`;
  if (c.writer_vs_alone >= 0.9 && (c.sibling_vs_alone ?? 1) >= 0.9) return `${head}.`;
  return (
    `${head}: what two running threads of one process cost each other in the host (a munmap ` +
    `flushes the TLB of every other CPU running the process, an interrupt there), so every kernel ` +
    `row with this writer has it in its "× alone" figures; the simulator has no TLB and no counterpart.`
  );
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
    return {
      samples: [],
      sibling: [],
      unsupported: [],
      error: (err as Error).message.split('\n')[0],
    };
  }
}
