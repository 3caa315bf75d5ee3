/**
 * One measured figure of `npm run bench`: a value beside the baseline it is compared with, both
 * measured in the same run (these machines are noisy, so only ratios travel between machines).
 */
export interface Figure {
  /** Stable identifier, e.g. `engine.maps_line.1000`. */
  id: string;
  /** Section of BENCHMARKS.md. */
  section: string;
  /** What was measured, for the table. */
  what: string;
  unit: string;
  value: number;
  baseline?: { name: string; value: number };
  /** value / baseline.value (for "lower is better" units) or the inverse, as `better` says. */
  ratio?: number;
  /** The goal for the ratio, e.g. { op: '<=', ratio: 0.5 }. */
  goal?: { op: '<=' | '>='; ratio: number };
  /** Whether the goal was met in this run. */
  met?: boolean;
  /** Free-form note (runs, spread). */
  note?: string;
}

/** Builds a figure whose ratio is value / baseline, and checks the goal if there is one. */
export function ratioFigure(
  f: Omit<Figure, 'ratio' | 'met'> & { baseline: { name: string; value: number } },
): Figure {
  const ratio = f.baseline.value === 0 ? Number.NaN : f.value / f.baseline.value;
  const met = f.goal
    ? f.goal.op === '<='
      ? ratio <= f.goal.ratio
      : ratio >= f.goal.ratio
    : undefined;
  return { ...f, ratio, met };
}

/**
 * A figure whose value and baseline were measured in pairs, close in time (value, baseline,
 * value, …): the table shows the medians of each side, and the ratio (the one the goal is
 * checked against) is the median of the per-pair ratios. On this kind of machine the speed drifts
 * by 20–50 % from one minute to the next; a pair's two runs share their minute, so their ratio
 * carries less of that drift than a ratio of two medians, which may come from different minutes.
 */
export function pairedRatioFigure(
  f: Omit<Figure, 'ratio' | 'met' | 'value' | 'baseline'> & { baselineName: string },
  pairs: ReadonlyArray<readonly [value: number, baseline: number]>,
): Figure {
  const { baselineName, ...rest } = f;
  const ratios = pairs.map(([v, b]) => (b === 0 ? Number.NaN : v / b));
  const ratio = median(ratios);
  const met = f.goal
    ? f.goal.op === '<='
      ? ratio <= f.goal.ratio
      : ratio >= f.goal.ratio
    : undefined;
  const spread = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
  const pairNote = `ratio: median of ${pairs.length} paired runs' ratios (${spread})`;
  return {
    ...rest,
    value: median(pairs.map(([v]) => v)),
    baseline: { name: baselineName, value: median(pairs.map(([, b]) => b)) },
    ratio,
    met,
    note: f.note ? `${f.note}; ${pairNote}` : pairNote,
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Context handed to every bench section. */
export interface BenchContext {
  quick: boolean;
  /** Repetitions whose median is reported. */
  reps: number;
  progress(msg: string): void;
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}
