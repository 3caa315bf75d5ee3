// Test support: deterministic streams of instrument events, a recorder driver, and an
// independent model of what the exposition must show for them (computed from the events with
// label strings and a linear bucket scan, not from the shared-memory layout).
// (Under dist/test it is also picked up by `node --test` as a file; it only exports functions.)

import assert from 'node:assert/strict';
import {
  FALLBACK_REASONS,
  HAZARD_KINDS,
  LOCK_MODES,
  LOCKS,
  MUTATION_OPS,
  MUTATION_RESULTS,
  READ_OPS,
  STRATEGIES,
} from '../../src/metrics/labels.js';
import type { InstrumentRecorder } from '../../src/metrics/recorder.js';
import { type Exposition, seriesKey } from './exposition-parser.js';

export type InstrumentEvent =
  | { k: 'lockHold' | 'lockWait'; lock: number; mode: number; strategy: number; ns: number }
  | { k: 'read'; op: number; strategy: number; ns: number }
  | { k: 'speculation'; op: number; strategy: number; attempts: number; retries: number }
  | { k: 'fallback'; op: number; strategy: number; reason: number }
  | { k: 'hazard'; kind: number; strategy: number }
  | { k: 'mutation'; op: number; result: number; ns: number };

/** mulberry32: a tiny seeded PRNG, so every thread can regenerate the same stream. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` events of every kind; durations are integers from 0 ns to ~300 ms (log-uniform). */
export function generateEvents(seed: number, count: number): InstrumentEvent[] {
  const rnd = prng(seed);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const ns = (): number => (rnd() < 0.05 ? 0 : Math.floor(10 ** (rnd() * 8.5)));
  const events: InstrumentEvent[] = [];
  for (let i = 0; i < count; i++) {
    const strategy = pick(STRATEGIES.length);
    const op = pick(READ_OPS.length);
    switch (pick(7)) {
      case 0:
      case 1: {
        const k = rnd() < 0.5 ? 'lockHold' : 'lockWait';
        events.push({
          k,
          lock: pick(LOCKS.length),
          mode: pick(LOCK_MODES.length),
          strategy,
          ns: ns(),
        });
        break;
      }
      case 2:
        events.push({ k: 'read', op, strategy, ns: ns() });
        break;
      case 3: {
        const attempts = 1 + pick(4);
        events.push({ k: 'speculation', op, strategy, attempts, retries: pick(attempts) });
        break;
      }
      case 4:
        events.push({ k: 'fallback', op, strategy, reason: pick(FALLBACK_REASONS.length) });
        break;
      case 5:
        events.push({ k: 'hazard', kind: pick(HAZARD_KINDS.length), strategy });
        break;
      default: {
        // Mostly ok; otherwise one of a few errnos, to exercise the sparse result series.
        const result = rnd() < 0.6 ? 0 : 1 + pick(12);
        events.push({ k: 'mutation', op: pick(MUTATION_OPS.length), result, ns: ns() });
      }
    }
  }
  return events;
}

/** Feed events into a recorder (ids are passed as the recorder's numeric label ids). */
export function replay(recorder: InstrumentRecorder, events: readonly InstrumentEvent[]): void {
  // The generator only produces in-range ids; the casts narrow number to the id unions.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const r = recorder as any;
  for (const e of events) {
    switch (e.k) {
      case 'lockHold':
        r.lockHold(e.lock, e.mode, e.strategy, e.ns);
        break;
      case 'lockWait':
        r.lockWait(e.lock, e.mode, e.strategy, e.ns);
        break;
      case 'read':
        r.read(e.op, e.strategy, e.ns);
        break;
      case 'speculation':
        r.speculation(e.op, e.strategy, e.attempts, e.retries);
        break;
      case 'fallback':
        r.fallback(e.op, e.strategy, e.reason);
        break;
      case 'hazard':
        r.hazard(e.kind, e.strategy);
        break;
      case 'mutation':
        r.mutation(e.op, e.result, e.ns);
        break;
    }
  }
}

interface ModelHistogram {
  /** Non-cumulative counts per bucket, index 21 = +Inf. */
  buckets: number[];
  sumNs: number;
}

export interface Model {
  counters: Map<string, number>;
  histograms: Map<string, ModelHistogram>;
}

/** Bucket of a duration by the spec: smallest bound 100 ns * 2^k (k <= 20) with ns <= bound. */
function modelBucket(ns: number): number {
  for (let k = 0; k <= 20; k++) if (ns <= 100 * 2 ** k) return k;
  return 21;
}

function key(name: string, labels: Record<string, string>): string {
  return seriesKey({ name, labels });
}

/** What the exposition must show after `events` were recorded `times` times. */
export function modelOf(events: readonly InstrumentEvent[], times = 1): Model {
  const model: Model = { counters: new Map(), histograms: new Map() };
  const count = (name: string, labels: Record<string, string>, by: number): void => {
    const k = key(name, labels);
    model.counters.set(k, (model.counters.get(k) ?? 0) + by * times);
  };
  const observe = (name: string, labels: Record<string, string>, ns: number): void => {
    const k = key(name, labels);
    let h = model.histograms.get(k);
    if (h === undefined) {
      h = { buckets: new Array(22).fill(0), sumNs: 0 };
      model.histograms.set(k, h);
    }
    h.buckets[modelBucket(ns)] += times;
    h.sumNs += ns * times;
  };
  for (const e of events) {
    switch (e.k) {
      case 'lockHold':
      case 'lockWait': {
        const name = e.k === 'lockHold' ? 'procfs_lock_hold_seconds' : 'procfs_lock_wait_seconds';
        const labels = {
          lock: LOCKS[e.lock],
          mode: LOCK_MODES[e.mode],
          strategy: STRATEGIES[e.strategy],
        };
        observe(name, labels, e.ns);
        break;
      }
      case 'read': {
        const labels = { op: READ_OPS[e.op], strategy: STRATEGIES[e.strategy] };
        count('procfs_reads_total', labels, 1);
        observe('procfs_read_duration_seconds', labels, e.ns);
        break;
      }
      case 'speculation': {
        const labels = { op: READ_OPS[e.op], strategy: STRATEGIES[e.strategy] };
        count('procfs_speculation_attempts_total', labels, e.attempts);
        count('procfs_speculation_retries_total', labels, e.retries);
        break;
      }
      case 'fallback':
        count(
          'procfs_fallbacks_total',
          {
            op: READ_OPS[e.op],
            strategy: STRATEGIES[e.strategy],
            reason: FALLBACK_REASONS[e.reason],
          },
          1,
        );
        break;
      case 'hazard':
        count(
          'procfs_hazards_total',
          { kind: HAZARD_KINDS[e.kind], strategy: STRATEGIES[e.strategy] },
          1,
        );
        break;
      case 'mutation':
        count(
          'procfs_mutations_total',
          { op: MUTATION_OPS[e.op], result: MUTATION_RESULTS[e.result] },
          1,
        );
        observe('procfs_mutation_duration_seconds', { op: MUTATION_OPS[e.op] }, e.ns);
        break;
    }
  }
  return model;
}

/** Sum of several models (e.g. one per thread). */
export function addModels(models: readonly Model[]): Model {
  const sum: Model = { counters: new Map(), histograms: new Map() };
  for (const m of models) {
    for (const [k, v] of m.counters) sum.counters.set(k, (sum.counters.get(k) ?? 0) + v);
    for (const [k, h] of m.histograms) {
      const s = sum.histograms.get(k) ?? { buckets: new Array(22).fill(0), sumNs: 0 };
      h.buckets.forEach((c, i) => {
        s.buckets[i] += c;
      });
      s.sumNs += h.sumNs;
      sum.histograms.set(k, s);
    }
  }
  return sum;
}

const COUNTER_FAMILIES = [
  'procfs_reads_total',
  'procfs_speculation_attempts_total',
  'procfs_speculation_retries_total',
  'procfs_fallbacks_total',
  'procfs_hazards_total',
  'procfs_mutations_total',
];
const HISTOGRAM_FAMILIES = [
  'procfs_lock_hold_seconds',
  'procfs_lock_wait_seconds',
  'procfs_read_duration_seconds',
  'procfs_mutation_duration_seconds',
];

/** Bucket index of an `le` label value: 100 ns * 2^k seconds, or 21 for +Inf. */
function bucketOfLe(le: string): number {
  if (le === '+Inf') return 21;
  const k = Math.round(Math.log2(Number(le) / 1e-7));
  assert.ok(Math.abs(Number(le) - 1e-7 * 2 ** k) <= 1e-18, `le ${le} is a bucket bound`);
  return k;
}

/** Assert the engine families of `exposition` are exactly `model`. */
export function assertMatchesModel(exposition: Exposition, model: Model): void {
  const seen = new Set<string>();
  for (const s of exposition.samples) {
    if (COUNTER_FAMILIES.includes(s.name)) {
      const k = seriesKey(s);
      assert.equal(s.value, model.counters.get(k) ?? 0, k);
      seen.add(k);
    }
  }
  for (const [k, v] of model.counters) if (v !== 0) assert.ok(seen.has(k), `missing ${k}`);

  for (const family of HISTOGRAM_FAMILIES) {
    const shown = new Set<string>();
    for (const s of exposition.samples) {
      if (s.name === `${family}_count`) {
        const k = key(family, s.labels);
        const h = model.histograms.get(k);
        const total = h === undefined ? 0 : h.buckets.reduce((a, b) => a + b, 0);
        assert.equal(s.value, total, `${k} count`);
        shown.add(k);
      } else if (s.name === `${family}_sum`) {
        const h = model.histograms.get(key(family, s.labels));
        assert.equal(s.value, (h?.sumNs ?? 0) / 1e9, `${seriesKey(s)} sum`);
      } else if (s.name === `${family}_bucket`) {
        const { le, ...labels } = s.labels;
        const h = model.histograms.get(key(family, labels));
        const upTo = bucketOfLe(le);
        let cumulative = 0;
        for (let b = 0; b <= upTo; b++) cumulative += h?.buckets[b] ?? 0;
        assert.equal(s.value, cumulative, `${seriesKey(s)}`);
      }
    }
    for (const k of model.histograms.keys()) {
      if (k.startsWith(`${family}{`)) assert.ok(shown.has(k), `missing histogram ${k}`);
    }
  }
}
