/**
 * The event loop's handle on one busy process: starts its activity thread, reports its counts,
 * and stops it (the thread finishes its current call, releases its instrument block and RCU slot,
 * and exits). While the sim's `EventsGate` is open the thread records every call into its event
 * ring, which the event loop drains through `events`.
 */
import { Worker } from 'node:worker_threads';
import { Instruments } from '../metrics/instruments.js';
import { ActivityCounters } from './activity-counters.js';
import { ActivityEventReader, EVENT_RECORD_CELLS, EVENT_RING_CAPACITY } from './activity-events.js';
import type { ActivityThreadData } from './activity-worker.js';
import { EventsGate, MutationRing } from './mutation-ring.js';
import type { ActivitySpec, ActivityStatus } from './sim-api.js';
import type { EngineThreadData } from './transport.js';

export class ActivityThread {
  private readonly counters = ActivityCounters.create();
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /**
   * Resolves once the thread runs (it holds its RCU reader slot and instrument block); rejects
   * with the reason if it died first (every RCU slot taken, out of memory...). Such a thread is
   * gone: the caller must not keep it as an activity.
   */
  readonly started: Promise<void>;
  readonly startedAt = Date.now();
  /** The event loop's end of this thread's event ring. */
  readonly events: ActivityEventReader;

  constructor(
    readonly spec: ActivitySpec,
    mm: SharedArrayBuffer,
    engine: EngineThreadData,
    pid: number,
    /** The sim's subscription gate; without one (tests) the thread never records events. */
    gate: EventsGate = EventsGate.create(),
  ) {
    const ring = MutationRing.create(EVENT_RING_CAPACITY, EVENT_RECORD_CELLS);
    this.events = new ActivityEventReader(ring, spec);
    const data: ActivityThreadData = {
      engine,
      mm,
      spec,
      counters: this.counters.buffer,
      events: { ring: ring.buffer, gate: gate.buffer },
    };
    this.worker = new Worker(new URL('./activity-worker.js', import.meta.url), {
      workerData: data,
      name: `activity-${pid}`,
    });
    const threadId = this.worker.threadId;
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        // A thread that crashed never released its instrument block: give it back (counts kept).
        Instruments.attach(engine.instruments).releaseBlocksOfThread(threadId);
        resolve();
      }),
    );
    this.started = new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      const onExit = () => reject(new Error('the activity thread exited before it started'));
      this.worker.once('error', onError);
      this.worker.once('exit', onExit);
      this.worker.once('message', () => {
        this.worker.off('error', onError);
        this.worker.off('exit', onExit);
        resolve();
      });
    });
    this.started.catch(() => {}); // the caller awaits it; never an unhandled rejection
    // An activity that crashes later stops counting; it must not take the service down.
    this.worker.on('error', () => {});
  }

  status(): ActivityStatus {
    const status: ActivityStatus = {
      spec: this.spec,
      startedAt: this.startedAt,
      calls: this.counters.calls,
      errors: this.counters.errors,
      iterations: this.counters.iterations,
    };
    if (this.spec.kind === 'replay')
      status.replay = { mismatches: this.counters.mismatches, done: this.counters.finished };
    return status;
  }

  /** Asks the thread to stop after its current call and resolves when it has exited. */
  stop(): Promise<void> {
    this.counters.requestStop();
    return this.exited;
  }
}
