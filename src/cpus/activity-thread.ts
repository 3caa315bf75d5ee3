/**
 * The event loop's handle on one busy process: starts its activity thread, reports its counts,
 * and stops it (the thread finishes its current call, releases its instrument block and RCU slot,
 * and exits).
 */
import { Worker } from 'node:worker_threads';
import { Instruments } from '../metrics/instruments.js';
import { ActivityCounters } from './activity-counters.js';
import type { ActivityThreadData } from './activity-worker.js';
import type { EngineThreadData } from './cpu-worker.js';
import type { ActivitySpec, ActivityStatus } from './sim-api.js';

export class ActivityThread {
  private readonly counters = ActivityCounters.create();
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  readonly startedAt = Date.now();

  constructor(
    readonly spec: ActivitySpec,
    mm: SharedArrayBuffer,
    engine: EngineThreadData,
    pid: number,
  ) {
    const data: ActivityThreadData = { engine, mm, spec, counters: this.counters.buffer };
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
    // An activity that crashes stops counting; it must not take the service down.
    this.worker.on('error', () => {});
  }

  status(): ActivityStatus {
    return {
      spec: this.spec,
      startedAt: this.startedAt,
      calls: this.counters.calls,
      errors: this.counters.errors,
      iterations: this.counters.iterations,
    };
  }

  /** Asks the thread to stop after its current call and resolves when it has exited. */
  stop(): Promise<void> {
    this.counters.requestStop();
    return this.exited;
  }
}
