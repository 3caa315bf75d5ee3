/**
 * The event loop's handle on one busy process, wherever its calls run: on an activity thread of
 * its own (activity-thread.ts) or on the shared activity thread (activity-host.ts). It owns the
 * activity's shared counters and event ring, reports its status, and stops it. While the sim's
 * `EventsGate` is open the runner records every call into the ring, which the event loop drains
 * through `events`.
 */
import { ActivityCounters } from './activity-counters.js';
import { ActivityEventReader, EVENT_RECORD_CELLS, EVENT_RING_CAPACITY } from './activity-events.js';
import { MutationRing } from './mutation-ring.js';
import type { ActivitySpec, ActivityStatus } from './sim-api.js';

export abstract class ActivityHandle {
  protected readonly counters = ActivityCounters.create();
  protected readonly ring = MutationRing.create(EVENT_RING_CAPACITY, EVENT_RECORD_CELLS);
  readonly startedAt = Date.now();
  /** The event loop's end of this activity's event ring. */
  readonly events: ActivityEventReader;
  /**
   * Resolves once the activity runs; rejects with the reason if it could not start (every RCU
   * slot taken, out of memory...). Such an activity is gone: the caller must not keep it.
   */
  abstract readonly started: Promise<void>;
  /** Why the activity died after it started (null: it did not). */
  failure: string | null = null;

  constructor(
    readonly spec: ActivitySpec,
    /** Called once if the activity dies after it started (the reason: its error, or its exit). */
    private readonly onDied: (reason: string) => void,
  ) {
    this.events = new ActivityEventReader(this.ring, spec);
  }

  /** Asks the activity to stop after its current call and resolves when it has. */
  abstract stop(): Promise<void>;

  protected die(reason: string): void {
    if (this.failure !== null) return;
    this.failure = reason;
    this.onDied(reason);
  }

  status(): ActivityStatus {
    // `finished` first: once it reads true, the counts below include every call of the run.
    const finished = this.counters.finished;
    const status: ActivityStatus = {
      spec: this.spec,
      startedAt: this.startedAt,
      calls: this.counters.calls,
      errors: this.counters.errors,
      iterations: this.counters.iterations,
    };
    if (this.spec.kind === 'replay')
      status.replay = { mismatches: this.counters.mismatches, done: finished };
    if (this.failure !== null) status.failure = this.failure;
    return status;
  }
}
