// Per-second rates from two engine totals snapshots (MetricsRegistry.totals(), taken e.g. once a
// second), in the shape of the WebSocket `rates` message of API.md:
//   {"type":"rates","strategy","reads_per_s","retries_per_s","fallbacks_per_s","hazards_per_s",
//    "mutations_per_s"}
// Mutations have no strategy label (a writer does not depend on how readers read), so every
// strategy's row carries the same, global, mutations_per_s.

import type { InstrumentTotals } from './aggregator.js';
import {
  FALLBACKS,
  FAMILIES,
  HAZARDS,
  type MetricFamily,
  MUTATIONS,
  READS,
  SPECULATION_RETRIES,
  seriesCell,
  seriesLabelIds,
} from './families.js';
import { STRATEGIES, type StrategyName } from './labels.js';

export interface Rates {
  reads_per_s: number;
  retries_per_s: number;
  fallbacks_per_s: number;
  hazards_per_s: number;
  mutations_per_s: number;
}

export interface StrategyRates extends Rates {
  strategy: StrategyName;
}

/** Cells of `family` whose strategy label is `strategy` (all cells if `strategy` < 0). */
function cellsOf(family: MetricFamily, strategy: number): number[] {
  const label = family.labelNames.indexOf('strategy');
  const cells: number[] = [];
  for (let s = 0; s < family.seriesCount; s++) {
    if (strategy >= 0 && seriesLabelIds(family, s)[label] !== strategy) continue;
    cells.push(seriesCell(family, s)); // counters: one cell per series
  }
  return cells;
}

interface RateCells {
  reads: number[];
  retries: number[];
  fallbacks: number[];
  hazards: number[];
}

const perStrategy: RateCells[] = STRATEGIES.map((_, id) => ({
  reads: cellsOf(FAMILIES[READS], id),
  retries: cellsOf(FAMILIES[SPECULATION_RETRIES], id),
  fallbacks: cellsOf(FAMILIES[FALLBACKS], id),
  hazards: cellsOf(FAMILIES[HAZARDS], id),
}));
const allStrategies: RateCells = {
  reads: cellsOf(FAMILIES[READS], -1),
  retries: cellsOf(FAMILIES[SPECULATION_RETRIES], -1),
  fallbacks: cellsOf(FAMILIES[FALLBACKS], -1),
  hazards: cellsOf(FAMILIES[HAZARDS], -1),
};
const mutationCells = cellsOf(FAMILIES[MUTATIONS], -1);

/** Increase of the sum of `cells` from `prev` to `next`, per second (never negative). */
function ratePerSecond(
  prev: InstrumentTotals,
  next: InstrumentTotals,
  cells: readonly number[],
  seconds: number,
): number {
  if (!(seconds > 0)) return 0;
  let delta = 0;
  for (const c of cells) delta += next.cells[c] - prev.cells[c];
  return delta > 0 ? delta / seconds : 0;
}

function ratesOf(
  prev: InstrumentTotals,
  next: InstrumentTotals,
  cells: RateCells,
  seconds: number,
): Rates {
  return {
    reads_per_s: ratePerSecond(prev, next, cells.reads, seconds),
    retries_per_s: ratePerSecond(prev, next, cells.retries, seconds),
    fallbacks_per_s: ratePerSecond(prev, next, cells.fallbacks, seconds),
    hazards_per_s: ratePerSecond(prev, next, cells.hazards, seconds),
    mutations_per_s: ratePerSecond(prev, next, mutationCells, seconds),
  };
}

const secondsBetween = (prev: InstrumentTotals, next: InstrumentTotals): number =>
  (next.atNs - prev.atNs) / 1e9;

/** One row per strategy (STRATEGIES order): rates between the two snapshots. */
export function ratesByStrategy(prev: InstrumentTotals, next: InstrumentTotals): StrategyRates[] {
  const seconds = secondsBetween(prev, next);
  return STRATEGIES.map((strategy, id) => ({
    strategy,
    ...ratesOf(prev, next, perStrategy[id], seconds),
  }));
}

/** Rates summed over all strategies. */
export function totalRates(prev: InstrumentTotals, next: InstrumentTotals): Rates {
  return ratesOf(prev, next, allStrategies, secondsBetween(prev, next));
}
