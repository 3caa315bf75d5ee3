/**
 * Per-strategy figures from two scrapes of `GET /metrics` (Prometheus text): reads, speculation
 * retries, fallbacks by reason and hazards per second, and the p99 of reader lock hold times
 * (mmap_lock and vma_lock, mode read) over the interval, from the histogram's bucket increases.
 */

// The label values are API; the page uses the server's own lists (bundled by esbuild).
export { FALLBACK_REASONS, STRATEGIES } from '../../src/metrics/labels.js';

import { FALLBACK_REASONS, STRATEGIES } from '../../src/metrics/labels.js';

/** Series value by `name{sorted labels}` key. */
export type Scrape = { at: number; series: Map<string, number> };

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseLine(line: string): Sample | null {
  const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
  if (!m) return null;
  const labels: Record<string, string> = {};
  for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
  return { name: m[1], labels, value: Number(m[3]) };
}

const WANTED = new Set([
  'procfs_reads_total',
  'procfs_speculation_retries_total',
  'procfs_fallbacks_total',
  'procfs_hazards_total',
  'procfs_lock_hold_seconds_bucket',
]);

/** The procfs_* series the panel needs, summed by the key each figure is computed from. */
export function parseScrape(text: string, at: number): Scrape {
  const series = new Map<string, number>();
  const add = (k: string, v: number) => series.set(k, (series.get(k) ?? 0) + v);
  for (const line of text.split('\n')) {
    if (!line.startsWith('procfs_')) continue;
    const s = parseLine(line);
    if (!s || !WANTED.has(s.name)) continue;
    const st = s.labels.strategy;
    switch (s.name) {
      case 'procfs_reads_total':
        add(`reads/${st}`, s.value);
        break;
      case 'procfs_speculation_retries_total':
        add(`retries/${st}`, s.value);
        break;
      case 'procfs_fallbacks_total':
        add(`fallbacks/${st}/${s.labels.reason}`, s.value);
        break;
      case 'procfs_hazards_total':
        add(`hazards/${st}`, s.value);
        break;
      case 'procfs_lock_hold_seconds_bucket':
        if (s.labels.mode === 'read') add(`hold/${st}/${s.labels.le}`, s.value);
        break;
    }
  }
  return { at, series };
}

export interface StrategyFigures {
  reads: number;
  retries: number;
  /** Per second, by reason (FALLBACK_REASONS order). */
  fallbacks: number[];
  hazards: number;
  /** Seconds; null when no lock was held in the interval. */
  holdP99: number | null;
}

function rate(prev: Scrape, next: Scrape, key: string, seconds: number): number {
  const d = (next.series.get(key) ?? 0) - (prev.series.get(key) ?? 0);
  return d > 0 ? d / seconds : 0;
}

/** The 99th percentile's bucket bound from cumulative bucket increases (null if none). */
function p99(prev: Scrape, next: Scrape, strategy: string): number | null {
  const prefix = `hold/${strategy}/`;
  const bounds: { le: number; count: number }[] = [];
  for (const [k, v] of next.series) {
    if (!k.startsWith(prefix)) continue;
    const le = k.slice(prefix.length);
    bounds.push({
      le: le === '+Inf' ? Infinity : Number(le),
      count: v - (prev.series.get(k) ?? 0),
    });
  }
  bounds.sort((a, b) => a.le - b.le);
  const total = bounds.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const want = total * 0.99;
  for (const b of bounds) if (b.count >= want) return b.le;
  return null;
}

export function figures(prev: Scrape, next: Scrape): Record<string, StrategyFigures> {
  const seconds = Math.max(0.001, (next.at - prev.at) / 1000);
  const out: Record<string, StrategyFigures> = {};
  for (const s of STRATEGIES) {
    out[s] = {
      reads: rate(prev, next, `reads/${s}`, seconds),
      retries: rate(prev, next, `retries/${s}`, seconds),
      fallbacks: FALLBACK_REASONS.map((r) => rate(prev, next, `fallbacks/${s}/${r}`, seconds)),
      hazards: rate(prev, next, `hazards/${s}`, seconds),
      holdP99: p99(prev, next, s),
    };
  }
  return out;
}
