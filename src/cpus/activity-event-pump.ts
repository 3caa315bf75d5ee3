/**
 * The event loop's consumer of the activity threads' event rings (worker-transport.ts): while someone is
 * subscribed it keeps the `EventsGate` open and drains every activity's ring periodically. The
 * period is a consumer poll, not synchronisation: the ring's TAIL/HEAD words order each record.
 *
 * Bounded on both sides: each ring holds EVENT_RING_CAPACITY records and each drain takes at most
 * MAX_RECORDS_PER_DRAIN from a ring, so a process busier than the event loop can deliver loses
 * records (counted, reported through `onDropped`) instead of stalling the loop or growing memory.
 */
import type { ActivityHandle } from './activity-handle.js';
import { EventsGate } from './mutation-ring.js';
import type { SyscallCall } from './sim-api.js';

/** How often the rings are drained while someone is subscribed. */
export const DRAIN_INTERVAL_MS = 20;
/** Records taken from one ring per drain (≈ 51k events/s per busy process at most). */
export const MAX_RECORDS_PER_DRAIN = 1024;

export interface EventPumpSinks {
  /** The busy processes right now. */
  activities(): Iterable<{ pid: number; activity: ActivityHandle }>;
  /** One recorded call and its raw result (>= 0 or -errno). */
  emit(pid: number, call: SyscallCall, result: number): void;
  /** `count` records of `pid` were lost because its ring was full. */
  dropped(pid: number, count: number): void;
}

export class ActivityEventPump {
  readonly gate = EventsGate.create();
  private epoch = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly sinks: EventPumpSinks) {}

  get running(): boolean {
    return this.timer !== null;
  }

  /** The first subscriber: forget what is left from before, open the gate, start draining. */
  start(): void {
    if (this.timer) return;
    for (const { activity } of this.sinks.activities()) activity.events.reset();
    this.epoch = this.gate.open();
    this.timer = setInterval(() => this.drainAll(), DRAIN_INTERVAL_MS);
    this.timer.unref();
  }

  /** The last subscriber left: producers stop recording at their next call. */
  stop(): void {
    if (!this.timer) return;
    this.gate.close();
    clearInterval(this.timer);
    this.timer = null;
  }

  /** Delivers what a stopped (or stopping) activity recorded, so its last calls are not lost. */
  flush(pid: number, activity: ActivityHandle): void {
    if (this.timer) this.drainOne(pid, activity, Number.POSITIVE_INFINITY);
  }

  drainAll(): void {
    for (const { pid, activity } of this.sinks.activities()) {
      this.drainOne(pid, activity, MAX_RECORDS_PER_DRAIN);
    }
  }

  private drainOne(pid: number, activity: ActivityHandle, max: number): void {
    activity.events.drain(this.epoch, max, (call, result) => this.sinks.emit(pid, call, result));
    const lost = activity.events.takeDropped();
    if (lost > 0) this.sinks.dropped(pid, lost);
  }
}
