/**
 * The verdict at the end of REPORT.md, computed from the rows (never written by hand): per
 * workload (reader), which strategy reads fastest beside each writer and at what cost to that
 * writer, how the kernel does on the same pair, the retry and fallback rates, where hazards and
 * torn output appear. Every sentence carries the number it rests on.
 */
import type { ReaderName } from '../workloads/definitions.js';
import type { SiblingControl } from './kernel-twin.js';
import type { Row } from './rows.js';

export interface VerdictSection {
  reader: ReaderName;
  sentences: string[];
}

export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(n >= 10 ? 0 : 1);
}
const times = (n: number | null) => (n === null ? '–' : `${n.toFixed(2)}×`);
const per1k = (n: number) => (n === 0 ? '0' : n >= 10 ? n.toFixed(0) : n.toFixed(2));

/** ", asleep 45 per 1,000 reads and 3 per 1,000 writes" ('' when a side did not count sleeps). */
function asleep(r: Row): string {
  if (r.reader_sleeps_per_1k === null || r.writer_sleeps_per_1k === null) return '';
  return `, asleep ${per1k(r.reader_sleeps_per_1k)} per 1,000 reads and ${per1k(r.writer_sleeps_per_1k)} per 1,000 writes`;
}

/** "beside the cold writer", or "alone" for writer `none`. */
const besideWriter = (w: string) => (w === 'none' ? 'alone' : `beside the ${w} writer`);

function fallbackTotal(r: Row): number {
  return r.fallbacks_per_1k === null
    ? 0
    : Object.values(r.fallbacks_per_1k).reduce((a, b) => a + b, 0);
}

function mainFallback(r: Row): string {
  const f: Record<string, number> = r.fallbacks_per_1k ?? {};
  let best = '';
  let most = -1;
  for (const [name, n] of Object.entries(f)) {
    if (n > most) [best, most] = [name, n];
  }
  return best;
}

/**
 * One section per reader present in `rows`, in the order readers first appear. `kernelSibling`:
 * the host kernel's writers beside a sibling thread with no reader (kernel-twin.ts), quoted beside
 * the kernel's pair figures of the same writer.
 */
export function computeVerdict(
  rows: readonly Row[],
  kernelSibling: readonly SiblingControl[] = [],
): VerdictSection[] {
  const readers = [...new Set(rows.map((r) => r.reader))];
  return readers.map((reader) => ({
    reader,
    sentences: sentencesFor(
      rows.filter((r) => r.reader === reader),
      kernelSibling,
    ),
  }));
}

function sentencesFor(rows: readonly Row[], kernelSibling: readonly SiblingControl[]): string[] {
  const out: string[] = [];
  const sim = rows.filter((r) => r.strategy !== 'kernel');
  const writers = [...new Set(sim.map((r) => r.writer))];
  const alone = sim.filter((r) => r.writer === 'none');
  if (alone.length > 0) {
    const best = alone.reduce((a, b) => (b.reader_ops_per_s > a.reader_ops_per_s ? b : a));
    const worst = alone.reduce((a, b) => (b.reader_ops_per_s < a.reader_ops_per_s ? b : a));
    out.push(
      `Alone, ${best.strategy} reads fastest at ${fmtRate(best.reader_ops_per_s)} ops/s` +
        (worst !== best
          ? ` (${(best.reader_ops_per_s / worst.reader_ops_per_s).toFixed(2)}× ${worst.strategy}, the slowest at ${fmtRate(worst.reader_ops_per_s)} ops/s).`
          : '.'),
    );
  }
  for (const w of writers) {
    if (w === 'none') continue;
    const beside = sim.filter((r) => r.writer === w);
    const best = beside.reduce((a, b) => (b.reader_ops_per_s > a.reader_ops_per_s ? b : a));
    const kind = rows.find((r) => r.strategy === 'kernel' && r.writer === w);
    const cheapest = beside.reduce((a, b) =>
      (b.writer_vs_alone ?? 0) > (a.writer_vs_alone ?? 0) ? b : a,
    );
    const dearest = beside.reduce((a, b) =>
      (b.writer_vs_alone ?? 9) < (a.writer_vs_alone ?? 9) ? b : a,
    );
    let s =
      `Beside the ${w} writer, ${best.strategy} reads fastest at ${fmtRate(best.reader_ops_per_s)} ops/s ` +
      `(${times(best.reader_vs_alone)} alone) and leaves the writer ${times(best.writer_vs_alone)} its solo rate`;
    s +=
      cheapest !== dearest
        ? `; the writer fares best beside ${cheapest.strategy} (${times(cheapest.writer_vs_alone)}) and worst beside ${dearest.strategy} (${times(dearest.writer_vs_alone)}).`
        : '.';
    out.push(s);
    if (kind) {
      const pv = beside.find((r) => r.strategy === 'per_vma');
      const sib = kernelSibling.find((c) => c.writer === w);
      const notes = [
        ...(sib === undefined
          ? []
          : [
              `beside a sibling thread and no reader: writer ${times(sib.writer_vs_alone)}` +
                (sib.sibling_vs_alone === null
                  ? ''
                  : `, the sibling ${times(sib.sibling_vs_alone)}`),
            ]),
        ...(pv
          ? [
              `per_vma: reader ${times(pv.reader_vs_alone)}, writer ${times(pv.writer_vs_alone)}${asleep(pv)}`,
            ]
          : []),
      ];
      out.push(
        `The host kernel on the same pair: reader ${times(kind.reader_vs_alone)} alone, writer ${times(kind.writer_vs_alone)} alone${asleep(kind)}` +
          (notes.length > 0 ? ` (${notes.join('; ')}).` : '.'),
      );
    }
  }
  const retrying = sim.filter((r) => (r.retries_per_1k ?? 0) > 0);
  if (retrying.length > 0) {
    const top = retrying.reduce((a, b) =>
      (b.retries_per_1k ?? 0) > (a.retries_per_1k ?? 0) ? b : a,
    );
    const strategies = [...new Set(retrying.map((r) => r.strategy))];
    out.push(
      `Retries appear for ${strategies.join(', ')}; the most is ${per1k(top.retries_per_1k ?? 0)} per 1,000 reads (${top.strategy} ${besideWriter(top.writer)}).`,
    );
  } else if (sim.length > 0) {
    out.push('No strategy retried a read (0 retries per 1,000 reads in every row).');
  }
  const falling = sim.filter((r) => fallbackTotal(r) > 0);
  if (falling.length > 0) {
    const top = falling.reduce((a, b) => (fallbackTotal(b) > fallbackTotal(a) ? b : a));
    out.push(
      `Fallbacks to the mmap lock peak at ${per1k(fallbackTotal(top))} per 1,000 reads (${top.strategy} ${besideWriter(top.writer)}, mostly ${mainFallback(top)}).`,
    );
  } else if (sim.length > 0) {
    out.push('No strategy fell back to the mmap lock (0 per 1,000 reads in every row).');
  }
  const hazards = sim.filter(
    (r) => r.hazards && r.hazards.use_after_free + r.hazards.null_deref > 0,
  );
  if (hazards.length > 0) {
    out.push(
      `Hazards: ${hazards
        .map(
          (r) =>
            `${r.strategy} beside ${r.writer} (${r.hazards!.use_after_free} use_after_free, ${r.hazards!.null_deref} null_deref)`,
        )
        .join('; ')}.`,
    );
  } else if (sim.length > 0) {
    out.push('No hazard in any row (0 use_after_free, 0 null_deref).');
  }
  const torn = sim.filter((r) => (r.hazards?.torn ?? 0) > 0);
  out.push(
    torn.length > 0
      ? `TORN output: ${torn.map((r) => `${r.strategy} beside ${r.writer} (${r.hazards!.torn})`).join('; ')}.`
      : `No torn line or answer in any of the ${sim.length} rows.`,
  );
  return out;
}
