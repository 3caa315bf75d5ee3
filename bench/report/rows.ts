/**
 * Rows of report/latest.json, computed from samples (samples.ts) only. Per strategy × reader ×
 * writer, over the repetitions of a run:
 *   reader_ops_per_s    median reader rate in the pair windows (writer `none`: alone)
 *   reader_vs_alone     median over reps of (pair rate / alone rate of the same rep)
 *   writer_ops_per_s    median writer syscalls/s beside the reader (null for `none`)
 *   writer_vs_alone     median over reps of (beside / the writer alone in the same rep)
 *   reader_p99_us, writer_p99_us   median over reps of each window's per-op p99
 *   retries_per_1k, fallbacks_per_1k (by reason), mmap_lock_reads_per_1k: per 1,000 reader ops
 *                       (definitions.ts: an ioctl, a batch, a walk or a whole maps file)
 *   hazards             counts by kind over all windows, plus `torn` (must stay 0 everywhere)
 *   copy_bytes_per_read bytes handed to the caller per reader op
 *   reader_sleeps_per_1k, writer_sleeps_per_1k: times the thread went to sleep per 1,000 of its
 *                       ops (protocol.ts WindowResult.sleeps: the simulator's lock waits, the
 *                       kernel twin's voluntary context switches), over all windows
 * The kernel twin has no counters (null): the host exports no per-read retry/fallback counts;
 * its sleeps are the one count both sides have.
 */
import {
  FALLBACK_REASONS,
  type FallbackReasonName,
  HAZARD_KINDS,
  type HazardKindName,
} from '../../src/metrics/labels.js';
import { median } from '../lib/figure.js';
import type { ReaderName, WriterName } from '../workloads/definitions.js';
import type { WindowResult } from './protocol.js';
import { type RowStrategy, rate, type Sample, targetsHot } from './samples.js';

export type HazardCounts = Record<HazardKindName | 'torn', number>;

export interface Row {
  strategy: RowStrategy;
  reader: ReaderName;
  writer: WriterName;
  reader_ops_per_s: number;
  reader_vs_alone: number;
  writer_ops_per_s: number | null;
  writer_vs_alone: number | null;
  reader_p99_us: number;
  writer_p99_us: number | null;
  retries_per_1k: number | null;
  fallbacks_per_1k: Record<FallbackReasonName, number> | null;
  hazards: HazardCounts | null;
  mmap_lock_reads_per_1k: number | null;
  copy_bytes_per_read: number | null;
  /** Sleeps per 1,000 ops (null: a window did not count them; writer: null for `none`). */
  reader_sleeps_per_1k: number | null;
  writer_sleeps_per_1k: number | null;
  /**
   * The line control just before this pair's windows (median over reps): nanoseconds for a
   * cache line both threads write to go to the other thread's CPU and back. Null for a reader
   * alone and for the kernel twin.
   */
  line_rtt_ns: number | null;
}

/** A writer alone (the baseline of writer_vs_alone), per strategy (its own windows) and writer. */
export interface WriterAlone {
  strategy: RowStrategy;
  writer: WriterName;
  ops_per_s: number;
  p99_us: number;
}

const key = (...parts: Array<string | number | boolean | null>) => parts.join('|');

function perThousand(n: number, ops: number): number {
  return ops > 0 ? (n * 1000) / ops : 0;
}

/** Counter-derived fields over `windows` (null when they carry no counters: the kernel). */
function counterFields(windows: WindowResult[]) {
  const withCounters = windows.filter((w) => w.counters !== undefined);
  if (withCounters.length === 0 || withCounters.length !== windows.length) {
    return {
      retries_per_1k: null,
      fallbacks_per_1k: null,
      hazards: null,
      mmap_lock_reads_per_1k: null,
      copy_bytes_per_read: null,
    };
  }
  let ops = 0;
  let retries = 0;
  let locks = 0;
  let bytes = 0;
  let torn = 0;
  const fallbacks = FALLBACK_REASONS.map(() => 0);
  const hazards = HAZARD_KINDS.map(() => 0);
  for (const w of withCounters) {
    const c = w.counters!;
    ops += w.ops;
    retries += c.retries;
    locks += c.mmapLocks;
    bytes += c.bytes;
    torn += c.torn;
    c.fallbacks.forEach((n, i) => {
      fallbacks[i] += n;
    });
    c.hazards.forEach((n, i) => {
      hazards[i] += n;
    });
  }
  return {
    retries_per_1k: perThousand(retries, ops),
    fallbacks_per_1k: Object.fromEntries(
      FALLBACK_REASONS.map((r, i) => [r, perThousand(fallbacks[i], ops)]),
    ) as Record<FallbackReasonName, number>,
    hazards: {
      ...(Object.fromEntries(HAZARD_KINDS.map((k, i) => [k, hazards[i]])) as Record<
        HazardKindName,
        number
      >),
      torn,
    },
    mmap_lock_reads_per_1k: perThousand(locks, ops),
    copy_bytes_per_read: ops > 0 ? bytes / ops : 0,
  };
}

/** Sleeps per 1,000 ops over `windows` (null: none, or one of them did not count its sleeps). */
function sleepsPerThousand(windows: readonly WindowResult[]): number | null {
  if (windows.length === 0 || windows.some((w) => w.sleeps === undefined)) return null;
  const ops = windows.reduce((a, w) => a + w.ops, 0);
  return perThousand(
    windows.reduce((a, w) => a + (w.sleeps ?? 0), 0),
    ops,
  );
}

/**
 * Nanoseconds per round trip of a bounce window (side 0's median batch); undefined when it had
 * no full batch (one of the two threads hardly ran: no measure of the line).
 */
function roundTripNs(w: WindowResult | null | undefined): number | undefined {
  return w?.p50Ns;
}

/** The line control over a whole run: median, lowest and highest round trip of its windows. */
export interface LineRoundTrip {
  /** Windows run, and those with a measure (on a loaded machine the two threads may never run
   * at once for a whole batch: such a window measures nothing). */
  windows: number;
  measured: number;
  /** Over the measured windows (null: none). */
  median_ns: number | null;
  min_ns: number | null;
  max_ns: number | null;
}

/** The median of the measured values (null: none). */
function medianOrNull(xs: ReadonlyArray<number | undefined>): number | null {
  const ns = xs.filter((x): x is number => x !== undefined);
  return ns.length === 0 ? null : median(ns);
}

function lineRoundTrip(samples: readonly Sample[]): LineRoundTrip | null {
  const windows = samples.filter((x) => x.kind === 'bounce');
  if (windows.length === 0) return null;
  const ns = windows.map((x) => roundTripNs(x.r)).filter((x): x is number => x !== undefined);
  const none = ns.length === 0;
  return {
    windows: windows.length,
    measured: ns.length,
    median_ns: none ? null : median(ns),
    min_ns: none ? null : Math.min(...ns),
    max_ns: none ? null : Math.max(...ns),
  };
}

/** Median over reps of f(rep), skipping reps where f is undefined. */
function medianOverReps(reps: number[], f: (rep: number) => number | undefined): number {
  const xs = reps.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x));
  return median(xs);
}

/**
 * The writer's side of a pair (or of the writer alone, reader `none`), per 1,000 writes: how many
 * waited for the mmap lock or a VMA lock, waited for a grace period, wrote the RCU epoch, scanned
 * the readers' RCU slots. Simulator only (the kernel twin has none).
 */
export interface WriterEvidence {
  strategy: RowStrategy;
  reader: ReaderName | 'none';
  writer: WriterName;
  mmap_waits_per_1k: number;
  mmap_wait_us_per_write: number;
  vma_waits_per_1k: number;
  vma_wait_us_per_write: number;
  grace_waits_per_1k: number;
  epoch_writes_per_1k: number;
  slot_scans_per_1k: number;
}

function writerEvidence(
  strategy: RowStrategy,
  reader: ReaderName | 'none',
  writer: WriterName,
  windows: readonly WindowResult[],
): WriterEvidence | null {
  const cs = windows.flatMap((w) => (w.writerCounters ? [w.writerCounters] : []));
  if (cs.length === 0) return null;
  const sum = (f: (c: (typeof cs)[number]) => number) => cs.reduce((a, c) => a + f(c), 0);
  const writes = sum((c) => c.writes);
  const perWrite = (n: number) => (writes > 0 ? n / writes : 0);
  return {
    strategy,
    reader,
    writer,
    mmap_waits_per_1k: perThousand(
      sum((c) => c.mmapWaits),
      writes,
    ),
    mmap_wait_us_per_write: perWrite(sum((c) => c.mmapWaitNs)) / 1000,
    vma_waits_per_1k: perThousand(
      sum((c) => c.vmaWaits),
      writes,
    ),
    vma_wait_us_per_write: perWrite(sum((c) => c.vmaWaitNs)) / 1000,
    grace_waits_per_1k: perThousand(
      sum((c) => c.graceWaits),
      writes,
    ),
    epoch_writes_per_1k: perThousand(
      sum((c) => c.epochWrites),
      writes,
    ),
    slot_scans_per_1k: perThousand(
      sum((c) => c.slotScans),
      writes,
    ),
  };
}

export interface Computed {
  rows: Row[];
  evidence: WriterEvidence[];
  writerAlone: WriterAlone[];
  /** Control: private arithmetic of one of two threads / one thread alone (median over reps). */
  control: number | null;
  /** Control: the bounce windows' cache-line round trips (null: none were run). */
  lineRtt: LineRoundTrip | null;
}

export function computeRows(samples: readonly Sample[]): Computed {
  const byKey = new Map<string, Sample>();
  for (const s of samples) byKey.set(key(s.kind, s.strategy, s.reader, s.writer, s.hot, s.rep), s);
  const alone = (st: RowStrategy, r: ReaderName, hot: boolean, rep: number) =>
    byKey.get(key('reader_alone', st, r, 'none', hot, rep))?.r ?? undefined;
  const wAlone = (st: RowStrategy, w: WriterName, rep: number) =>
    byKey.get(key('writer_alone', st, 'none', w, false, rep))?.w ?? undefined;

  const rows: Row[] = [];
  const evidence: WriterEvidence[] = [];
  const seen = new Set<string>();
  for (const s of samples) {
    if (s.strategy === null || s.reader === 'none') continue;
    if (s.kind !== 'pair' && s.kind !== 'reader_alone') continue;
    const writer: WriterName = s.kind === 'pair' ? s.writer : 'none';
    if (s.kind === 'reader_alone' && s.hot) continue; // baseline of the hot pairs only
    const k = key(s.strategy, s.reader, writer);
    if (seen.has(k)) continue;
    seen.add(k);
    const st = s.strategy;
    const reader = s.reader;
    const hot = targetsHot(reader, writer);
    const mine = samples.filter(
      (x) =>
        x.strategy === st &&
        x.reader === reader &&
        (writer === 'none'
          ? x.kind === 'reader_alone' && !x.hot
          : x.kind === 'pair' && x.writer === writer),
    );
    const reps = [...new Set(mine.map((x) => x.rep))];
    const at = (rep: number) => mine.find((x) => x.rep === rep);
    const readerWindows = mine.map((x) => x.r).filter((x): x is WindowResult => x !== null);
    const row: Row = {
      strategy: st,
      reader,
      writer,
      reader_ops_per_s: median(readerWindows.map(rate)),
      reader_vs_alone:
        writer === 'none'
          ? 1
          : medianOverReps(reps, (rep) => {
              const p = at(rep)?.r;
              const a = alone(st, reader, hot, rep);
              return p && a && rate(a) > 0 ? rate(p) / rate(a) : undefined;
            }),
      writer_ops_per_s:
        writer === 'none'
          ? null
          : medianOverReps(reps, (rep) => {
              const w = at(rep)?.w;
              return w ? rate(w) : undefined;
            }),
      writer_vs_alone:
        writer === 'none'
          ? null
          : medianOverReps(reps, (rep) => {
              const w = at(rep)?.w;
              const a = wAlone(st, writer, rep);
              return w && a && rate(a) > 0 ? rate(w) / rate(a) : undefined;
            }),
      reader_p99_us: median(readerWindows.map((x) => x.p99Ns / 1000)),
      writer_p99_us:
        writer === 'none' ? null : median(mine.flatMap((x) => (x.w ? [x.w.p99Ns / 1000] : []))),
      ...counterFields(readerWindows),
      reader_sleeps_per_1k: sleepsPerThousand(readerWindows),
      writer_sleeps_per_1k:
        writer === 'none' ? null : sleepsPerThousand(mine.flatMap((x) => (x.w ? [x.w] : []))),
      line_rtt_ns:
        writer === 'none'
          ? null
          : medianOrNull(
              reps.map((rep) =>
                roundTripNs(byKey.get(key('bounce', st, reader, writer, hot, rep))?.r),
              ),
            ),
    };
    rows.push(row);
    if (writer !== 'none') {
      const ev = writerEvidence(
        st,
        reader,
        writer,
        mine.flatMap((x) => (x.w ? [x.w] : [])),
      );
      if (ev) evidence.push(ev);
    }
  }

  const writerAlone: WriterAlone[] = [];
  const wSeen = new Set<string>();
  for (const s of samples) {
    if (s.kind !== 'writer_alone' || s.strategy === null) continue;
    const k = key(s.strategy, s.writer);
    if (wSeen.has(k)) continue;
    wSeen.add(k);
    const ws = samples
      .filter(
        (x) => x.kind === 'writer_alone' && x.strategy === s.strategy && x.writer === s.writer,
      )
      .flatMap((x) => (x.w ? [x.w] : []));
    writerAlone.push({
      strategy: s.strategy,
      writer: s.writer,
      ops_per_s: median(ws.map(rate)),
      p99_us: median(ws.map((x) => x.p99Ns / 1000)),
    });
    const ev = writerEvidence(s.strategy, 'none', s.writer, ws);
    if (ev) evidence.push(ev);
  }

  const spinReps = [...new Set(samples.filter((x) => x.kind === 'spin_pair').map((x) => x.rep))];
  const control =
    spinReps.length === 0
      ? null
      : medianOverReps(spinReps, (rep) => {
          const one = byKey.get(key('spin_alone', null, 'none', 'none', false, rep))?.r;
          const pair = byKey.get(key('spin_pair', null, 'none', 'none', false, rep));
          if (!one || !pair?.r || !pair.w || rate(one) === 0) return undefined;
          return Math.min(rate(pair.r), rate(pair.w)) / rate(one);
        });
  return { rows, evidence, writerAlone, control, lineRtt: lineRoundTrip(samples) };
}

/** The row of (strategy, reader, writer), if measured. */
export function findRow(
  rows: readonly Row[],
  strategy: RowStrategy,
  reader: ReaderName,
  writer: WriterName,
): Row | undefined {
  return rows.find((r) => r.strategy === strategy && r.reader === reader && r.writer === writer);
}
