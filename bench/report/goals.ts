/**
 * The issue's goals as rows with a computed yes/no (issue 9 "Goals"), from the rows of one run.
 * A goal whose rows were not measured (e.g. `--only maps`) is "not measured", never silence.
 */
import type { StrategyName } from '../../src/metrics/labels.js';
import type { ReaderName } from '../workloads/definitions.js';
import { evidenceOf, MECHANISMS, readerMechanism, writerMechanism } from './mechanism.js';
import { type Computed, findRow, type Row } from './rows.js';

export interface GoalRow {
  goal: string;
  /** What was measured, as text with its number(s). */
  measured: string;
  met: boolean | null;
}

const x = (n: number | null | undefined) =>
  n === null || n === undefined ? '–' : `${n.toFixed(2)}×`;

function ratioGoal(
  rows: readonly Row[],
  strategy: StrategyName,
  reader: ReaderName,
  field: 'writer_vs_alone' | 'reader_vs_alone',
  min: number,
): GoalRow {
  const who = field === 'writer_vs_alone' ? 'writer' : 'reader';
  const goal = `cold writer + 1 ${reader} reader: ${strategy} ${who} ≥ ${min}× alone`;
  const r = findRow(rows, strategy, reader, 'cold');
  const v = r?.[field] ?? null;
  return { goal, measured: x(v), met: v === null ? null : v >= min };
}

/**
 * `documented`: the mechanism names docs/mechanisms.md explains; `unsupported`: what the host
 * kernel cannot run (kernel twins that may be missing).
 */
export function computeGoals(
  c: Computed,
  documented: ReadonlySet<string>,
  kernelMissing: (reader: ReaderName, writer: string) => boolean,
): GoalRow[] {
  const rows = c.rows;
  const out: GoalRow[] = [
    ratioGoal(rows, 'per_vma', 'maps', 'writer_vs_alone', 0.9),
    ratioGoal(rows, 'per_vma', 'query_point', 'writer_vs_alone', 0.9),
    ratioGoal(rows, 'lockless', 'query_point', 'writer_vs_alone', 0.9),
    ratioGoal(rows, 'lockless_nofallback', 'query_point', 'writer_vs_alone', 0.9),
    ratioGoal(rows, 'per_vma', 'maps', 'reader_vs_alone', 0.9),
    ratioGoal(rows, 'per_vma', 'query_point', 'reader_vs_alone', 0.9),
  ];
  const pv = findRow(rows, 'per_vma', 'maps', 'cold');
  const alone = c.writerAlone.find((w) => w.strategy === 'per_vma' && w.writer === 'cold');
  const p99 = pv?.writer_p99_us && alone?.p99_us ? pv.writer_p99_us / alone.p99_us : null;
  out.push({
    goal: 'per_vma writer p99 beside 1 maps reader ≤ 1.5× alone (cold writer)',
    measured:
      p99 === null
        ? '–'
        : `${x(p99)} (${pv!.writer_p99_us!.toFixed(1)} vs ${alone!.p99_us.toFixed(1)} µs)`,
    met: p99 === null ? null : p99 <= 1.5,
  });
  const sim = rows.filter((r) => r.hazards !== null);
  const hazardous = sim.filter(
    (r) => (r.hazards!.use_after_free ?? 0) + (r.hazards!.null_deref ?? 0) > 0,
  );
  const wrong = hazardous.filter(
    (r) => r.strategy !== 'lockless_nofallback' || (r.writer !== 'names' && r.writer !== 'close'),
  );
  out.push({
    goal: 'hazards only for lockless_nofallback under the names/close writers',
    measured: `${rowCount(hazardous.length)} with hazards, ${wrong.length} elsewhere${wrong.length ? `: ${wrong.map((r) => `${r.strategy}/${r.reader}/${r.writer}`).join(', ')}` : ''}`,
    met: sim.length === 0 ? null : wrong.length === 0,
  });
  const torn = sim.filter((r) => r.hazards!.torn > 0);
  out.push({
    goal: 'no torn line or answer in any row',
    measured: `${rowCount(torn.length)} with torn output${torn.length ? `: ${torn.map((r) => `${r.strategy}/${r.reader}/${r.writer} (${r.hazards!.torn})`).join(', ')}` : ''}`,
    met: sim.length === 0 ? null : torn.length === 0,
  });
  const named = new Set<string>();
  for (const r of rows) {
    for (const m of [
      readerMechanism(r, c.control),
      writerMechanism(r, c.control, evidenceOf(c.evidence, r)),
    ])
      if (m) named.add(m);
  }
  const undocumented = [...named].filter((m) => !documented.has(m));
  out.push({
    goal: "every row's mechanism named in docs/mechanisms.md",
    measured: `${named.size} mechanisms used (of ${MECHANISMS.length}), ${undocumented.length} undocumented${undocumented.length ? `: ${undocumented.join(', ')}` : ''}`,
    met: undocumented.length === 0,
  });
  const perVma = rows.filter((r) => r.strategy === 'per_vma');
  const missing = perVma.filter(
    (r) => !findRow(rows, 'kernel', r.reader, r.writer) && !kernelMissing(r.reader, r.writer),
  );
  out.push({
    goal: 'a kernel twin beside every per_vma row where the host allows it',
    measured: `${perVma.length - missing.length}/${perVma.length} per_vma rows have a twin or a stated host limit${missing.length ? `; missing: ${missing.map((r) => `${r.reader}/${r.writer}`).join(', ')}` : ''}`,
    met: perVma.length === 0 ? null : missing.length === 0,
  });
  return out;
}

/** "1 row", "2 rows". */
function rowCount(n: number): string {
  return n === 1 ? '1 row' : `${n} rows`;
}
