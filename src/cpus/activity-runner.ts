/**
 * One activity's calls, paced: what an activity thread (activity-worker.ts, one activity) and the
 * shared activity thread (activity-host-worker.ts, many) both run. The runner says how long until
 * its next call is due and makes that call under the writer protocol, counting it and recording
 * it for /ws subscribers; the thread around it decides how to sleep.
 */
import type { MmStruct } from '../mm/mm-struct.js';
import type { WriterEnv } from '../mm/mm-writer.js';
import type { ActivityCounters } from './activity-counters.js';
import type { ActivityEventWriter } from './activity-events.js';
import { type CallSource, sourceFor } from './local-activity.js';
import type { ActivitySpec } from './sim-api.js';
import { execSyscall } from './syscall-exec.js';

/**
 * The shortest sleep of a rate-capped activity. Waking once per call costs more than the calls'
 * own JS: each wake is a timed futex wait and a context switch, and the first calls after a wake
 * run with cold caches. At the default population's 200 calls/s a thread took ~3.3% of a core
 * (loaded 2-core machine), ~2.2% waking at most 50 times a second and running the calls that fell
 * due meanwhile together: the same calls at the same average rate, none before its due time (a
 * replay keeps its recorded pace).
 */
export const RATE_SLEEP_MS = 20;

export class ActivityRunner {
  private readonly source: CallSource;
  private readonly rate: number | null;
  private readonly startedMs = performance.now();
  private previous: number | undefined;
  private done = 0;

  constructor(
    private readonly mm: MmStruct,
    private readonly env: WriterEnv,
    spec: ActivitySpec,
    readonly counters: ActivityCounters,
    private readonly events: ActivityEventWriter,
  ) {
    this.source = sourceFor(spec);
    this.rate = spec.ratePerS !== null && spec.ratePerS > 0 ? spec.ratePerS : null;
  }

  /**
   * 0 when the next call is due now; else how long to sleep before it: a replay's exact wait, or
   * for a capped activity at least RATE_SLEEP_MS (the n-th call is due n / rate seconds after the
   * start, never before; the calls that fell due meanwhile then run back to back).
   */
  sleepMs(): number {
    const elapsedMs = performance.now() - this.startedMs;
    const dueS = this.source.nextDueS ?? null;
    if (dueS !== null) {
      // A replay keeps its recorded pace: the next call is due dueS after the start.
      const dueMs = dueS * 1000 - elapsedMs;
      if (dueMs > 0) return dueMs;
    }
    if (this.rate !== null) {
      const dueMs = (this.done / this.rate) * 1000 - elapsedMs;
      if (dueMs > 0) return Math.max(dueMs, RATE_SLEEP_MS);
    }
    return 0;
  }

  /** Makes the next call; false when the source has run out (the counters say finished). */
  step(): boolean {
    const source = this.source;
    const call = source.next(this.previous);
    if (call === null) {
      this.counters.finish(source.passDone);
      return false;
    }
    const r = execSyscall(this.mm, this.env, call);
    this.previous = r;
    this.done++;
    if (source.mismatches !== undefined) this.counters.setMismatches(source.mismatches);
    this.counters.countCall(r < 0, source.passDone);
    this.events.afterCall(call, r, source.passDone);
    return true;
  }
}
