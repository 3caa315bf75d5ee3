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
    /** Called once if the thread dies after it started (the reason: its error, or its exit). */
    private readonly onDied: (reason: string) => void = () => {},
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
    // Every listener is set now, synchronously: 'ready' and a crash right after it may arrive in
    // one turn. Before 'ready' a failure rejects `started`; after it, the activity has died: it
    // must not take the service down, and it must not be silent either (its status shows the
    // failure, the sim hears of it: log line, metric).
    let running = false;
    let rejectStart: (err: Error) => void = () => {};
    this.started = new Promise((resolve, reject) => {
      rejectStart = reject;
      this.worker.on('message', (m: unknown) => {
        if (m === 'ready') {
          running = true;
          resolve();
        } else if (typeof (m as { died?: unknown })?.died === 'string') {
          this.die((m as { died: string }).died);
        }
      });
    });
    this.started.catch(() => {}); // the caller awaits it; never an unhandled rejection
    this.worker.on('error', (err) => {
      if (running) this.die(err.stack ?? String(err));
      else rejectStart(err);
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        // A thread that crashed never released its instrument block: give it back (counts kept).
        Instruments.attach(engine.instruments).releaseBlocksOfThread(threadId);
        if (!running) rejectStart(new Error('the activity thread exited before it started'));
        else if (!this.counters.stopRequested && !this.counters.finished)
          this.die(`the activity thread exited (code ${code}) without being stopped`);
        resolve();
      }),
    );
  }

  /** Why the thread died after it started (null: it did not). */
  failure: string | null = null;

  private die(reason: string): void {
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

  /** Asks the thread to stop after its current call and resolves when it has exited. */
  stop(): Promise<void> {
    this.counters.requestStop();
    return this.exited;
  }
}
