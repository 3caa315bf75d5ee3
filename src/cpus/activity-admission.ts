/**
 * Admission of activities (busy processes): how many may run at once, and what a refusal says.
 *
 * On worker CPUs each activity is a thread of its own (~10 MB of RSS: a V8 isolate) that needs a
 * reader slot in the sim's RCU domain. Without a cap, a client could start threads until memory
 * ran out, and every thread past the domain's slots died at start while its activity answered
 * 201 and counted `calls: 0` forever. `ActivityAdmission` is the one place that decides:
 * `admit()` throws `EAGAIN` at the cap (nothing changed), `started()` / `release()` keep the
 * count, `refuse(reason)` counts a thread that could not start (its slot is released by the
 * caller). The limit is `--max-activities`; the sim sizes its RCU domain so that the event loop,
 * every worker CPU and `max` activity threads all have a slot (`rcuSlotsFor`).
 *
 * The memory budget (`--max-memory`) is checked here too: each admitted activity charges
 * ACTIVITY_THREAD_BYTES to it (refusal reason `memory`), given back by `release()`.
 */
import { totalmem } from 'node:os';
import { EAGAIN } from '../mm/errno.js';
import type { MemoryBudget } from '../mm/memory-budget.js';
import { RCU_DEFAULT_MAX_THREADS } from '../sync/layout.js';
import { SimError } from './sim-api.js';

/** RSS one activity thread costs (measured: a worker isolate plus its engine views). */
export const ACTIVITY_THREAD_BYTES = 10 * 1024 * 1024;
/** Share of the machine's memory activity threads may take by default. */
const DEFAULT_MEMORY_SHARE = 1 / 8;

/** Why an activity was refused (the `reason` label of procfs_activities_refused_total). */
export const ACTIVITY_REFUSAL_REASONS = ['limit', 'thread_start', 'memory'] as const;
export type ActivityRefusalReason = (typeof ACTIVITY_REFUSAL_REASONS)[number];

/**
 * The default `--max-activities`: what the default RCU domain (64 reader slots) leaves after the
 * event loop and `cpus` worker CPUs, and no more threads than 1/8 of the machine's memory holds
 * (never below 1). With `--cpus 0` activities run on the event loop, but the same default keeps
 * both transports' limits alike.
 */
export function defaultMaxActivities(cpus: number, memoryBytes: number = totalmem()): number {
  const bySlots = RCU_DEFAULT_MAX_THREADS - 1 - cpus;
  const byMemory = Math.floor((memoryBytes * DEFAULT_MEMORY_SHARE) / ACTIVITY_THREAD_BYTES);
  return Math.max(1, Math.min(bySlots, byMemory));
}

/** RCU reader slots a sim needs: the event loop, each worker CPU, each activity thread. */
export function rcuSlotsFor(cpus: number, maxActivities: number): number {
  return Math.max(RCU_DEFAULT_MAX_THREADS, 1 + cpus + maxActivities);
}

export class ActivityAdmission {
  /** Activities admitted and not yet released (running, starting or finished but attached). */
  private held = 0;
  private readonly refusals: Record<ActivityRefusalReason, number> = {
    limit: 0,
    thread_start: 0,
    memory: 0,
  };

  constructor(
    readonly max: number,
    private readonly memory: MemoryBudget | null = null,
  ) {}

  /** Takes a place for one more activity, or throws EAGAIN (counted) and changes nothing. */
  admit(): void {
    if (this.held >= this.max) {
      this.refusals.limit++;
      throw new SimError(EAGAIN, 'EAGAIN', `activity limit (${this.max}) reached`);
    }
    if (this.memory !== null && !this.memory.tryCharge(ACTIVITY_THREAD_BYTES)) {
      this.refusals.memory++;
      throw new SimError(EAGAIN, 'EAGAIN', 'memory budget (--max-memory) exhausted');
    }
    this.held++;
  }

  /** Gives back the place `admit` took (the activity stopped, or never started). */
  release(): void {
    if (this.held === 0) return;
    this.held--;
    this.memory?.release(ACTIVITY_THREAD_BYTES);
  }

  /**
   * An admitted activity whose thread could not start: gives its place back, counts the refusal
   * and returns the EAGAIN to answer.
   */
  refuse(reason: ActivityRefusalReason, detail: string): SimError {
    this.release();
    this.refusals[reason]++;
    return new SimError(EAGAIN, 'EAGAIN', `activity could not start: ${detail}`);
  }

  get running(): number {
    return this.held;
  }

  /** Refusals so far by reason (monotonic). */
  refused(): Record<ActivityRefusalReason, number> {
    return { ...this.refusals };
  }
}
