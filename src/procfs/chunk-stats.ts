/**
 * What each chunk of one maps read took: the reader context's counts (ReadStats) over that
 * chunk's lock window, as a difference of the totals before and after it. Used when a caller asks
 * for a traced read (the page's "read maps now", `/ws` `maps` with `"chunks":true`); an untraced
 * read never touches this.
 *
 * Wire form: one flat array, `CHUNK_STATS_WIDTH` numbers per chunk in `CHUNK_STATS_FIELDS` order
 * (cheap to send back from a worker thread by structured clone).
 */
import type { ReadStats } from './strategies/reader-context.js';

export const CHUNK_STATS_FIELDS = [
  'attempts',
  'retries',
  'fallback_contention',
  'fallback_fancy_vma',
  'fallback_detached',
  'fallback_retry_limit',
  'hazard_use_after_free',
  'hazard_null_deref',
  'mmap_locks',
  'mmap_lock_waits',
] as const;
export const CHUNK_STATS_WIDTH = CHUNK_STATS_FIELDS.length;

function totalsOf(s: ReadStats, out: number[]): void {
  out[0] = s.attempts;
  out[1] = s.retries;
  out[2] = s.fallbacks[0];
  out[3] = s.fallbacks[1];
  out[4] = s.fallbacks[2];
  out[5] = s.fallbacks[3];
  out[6] = s.hazards[0];
  out[7] = s.hazards[1];
  out[8] = s.mmapLocks;
  out[9] = s.mmapLockWaits;
}

/** Appends one row per chunk to `rows` (flat): call `begin` before the read, `chunk` after each. */
export class ChunkStatsTrace {
  readonly rows: number[] = [];
  private readonly last: number[] = new Array(CHUNK_STATS_WIDTH).fill(0);
  private readonly now: number[] = new Array(CHUNK_STATS_WIDTH).fill(0);
  private readonly stats: ReadStats;

  constructor(stats: ReadStats) {
    this.stats = stats;
    totalsOf(stats, this.last);
  }

  chunk(): void {
    totalsOf(this.stats, this.now);
    for (let i = 0; i < CHUNK_STATS_WIDTH; i++) {
      this.rows.push(this.now[i] - this.last[i]);
      this.last[i] = this.now[i];
    }
  }
}

/** One chunk's counts by field name, for JSON answers. */
export function chunkStatsObject(rows: readonly number[], chunk: number): Record<string, number> {
  const o: Record<string, number> = {};
  for (let i = 0; i < CHUNK_STATS_WIDTH; i++) {
    o[CHUNK_STATS_FIELDS[i]] = rows[chunk * CHUNK_STATS_WIDTH + i] ?? 0;
  }
  return o;
}
