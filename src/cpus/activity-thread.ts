/**
 * An activity on a thread of its own (activity-worker.ts): starts the thread, and stops it (the
 * thread finishes its current call, releases its instrument block and RCU slot, and exits).
 */
import { Worker } from 'node:worker_threads';
import { Instruments } from '../metrics/instruments.js';
import { ActivityHandle } from './activity-handle.js';
import type { ActivityThreadData } from './activity-worker.js';
import { EventsGate } from './mutation-ring.js';
import type { ActivitySpec } from './sim-api.js';
import type { EngineThreadData } from './transport.js';

export class ActivityThread extends ActivityHandle {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /** Resolves once the thread runs (it holds its RCU reader slot and instrument block). */
  readonly started: Promise<void>;

  constructor(
    spec: ActivitySpec,
    mm: SharedArrayBuffer,
    engine: EngineThreadData,
    pid: number,
    /** The sim's subscription gate; without one (tests) the thread never records events. */
    gate: EventsGate = EventsGate.create(),
    onDied: (reason: string) => void = () => {},
  ) {
    super(spec, onDied);
    const data: ActivityThreadData = {
      engine,
      mm,
      spec,
      counters: this.counters.buffer,
      events: { ring: this.ring.buffer, gate: gate.buffer },
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

  /** Asks the thread to stop after its current call and resolves when it has exited. */
  stop(): Promise<void> {
    this.counters.requestStop();
    return this.exited;
  }
}
