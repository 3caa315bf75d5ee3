/**
 * The shared activity thread (activity-host-worker.ts) and the activities it runs.
 *
 * Why: the start-up population's busy processes are capped at 50–200 calls/s each. On a thread
 * each, every thread woke 50 times a second for a few calls run with cold caches (~60 µs a call
 * after a minute, against ~3 µs back to back), and every thread's V8 isolate compiled the same
 * engine code on its own (TurboFan on the platform threads: ~9 % of a core in the idle server's
 * first 10 s). One thread for all of them wakes once for every activity's due calls and compiles
 * the engine once. Each activity keeps its own counters, event ring, pacing and failure; they all
 * take the same locks as before. What changes: one hosted activity waiting for a lock delays the
 * others' next calls (they catch up after it, as a capped activity does after a sleep).
 *
 * The thread starts with the first hosted activity and stays (asleep when idle) until `close()`.
 * If it cannot start, the activities waiting for it are refused; if it dies, every activity on it
 * dies with it (each shows the failure) and the next `add` starts a new thread.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { Instruments } from '../metrics/instruments.js';
import { ActivityHandle } from './activity-handle.js';
import type { ActivityHostData, HostCommand, HostReport } from './activity-host-worker.js';
import type { EventsGate } from './mutation-ring.js';
import type { ActivitySpec } from './sim-api.js';
import type { EngineThreadData } from './transport.js';

/** One activity on the shared thread. */
export class HostedActivity extends ActivityHandle {
  readonly started: Promise<void>;
  /** Resolves once the thread no longer runs it (stopped, died, or the thread is gone). */
  readonly gone: Promise<void>;
  private running = false;
  private resolveStart: () => void = () => {};
  private rejectStart: (err: Error) => void = () => {};
  private markGone: () => void = () => {};

  constructor(
    spec: ActivitySpec,
    private readonly wakeHost: () => void,
    onDied: (reason: string) => void,
  ) {
    super(spec, onDied);
    this.started = new Promise((resolve, reject) => {
      this.resolveStart = resolve;
      this.rejectStart = reject;
    });
    this.started.catch(() => {}); // the caller awaits it; never an unhandled rejection
    this.gone = new Promise((resolve) => {
      this.markGone = resolve;
    });
  }

  /** By `ActivityHost`: the thread runs it. */
  begun(): void {
    this.running = true;
    this.resolveStart();
  }

  /** The shared buffers the thread runs it with. */
  buffers(): { counters: SharedArrayBuffer; ring: SharedArrayBuffer } {
    return { counters: this.counters.buffer, ring: this.ring.buffer };
  }

  /**
   * By `ActivityHost`: the thread dropped it; `reason` when it died rather than stopped. Before
   * it ran, that refuses its start; after, it is the activity's failure.
   */
  ended(reason: string | null): void {
    if (!this.running) this.rejectStart(new Error(reason ?? 'the activity stopped before it ran'));
    else if (reason !== null && !this.counters.stopRequested) this.die(reason);
    this.markGone();
  }

  /** Asks the thread to drop it after its current call and resolves when it has. */
  stop(): Promise<void> {
    this.counters.requestStop();
    this.wakeHost();
    return this.gone;
  }
}

export class ActivityHost {
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private readonly control = new Int32Array(new SharedArrayBuffer(4));
  private readonly hosted = new Map<number, HostedActivity>();
  private nextId = 1;

  constructor(
    private readonly engine: EngineThreadData,
    private readonly gate: EventsGate,
  ) {}

  /** Starts `spec` on the shared thread (starting the thread first if needed). */
  add(spec: ActivitySpec, mm: SharedArrayBuffer, onDied: (reason: string) => void): HostedActivity {
    const activity = new HostedActivity(spec, () => this.wake(), onDied);
    const id = this.nextId++;
    this.hosted.set(id, activity);
    this.send({ add: { id, mm, spec, ...activity.buffers() } });
    return activity;
  }

  /** Ends the thread (after every hosted activity was stopped) and resolves when it has exited. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    this.send({ close: true });
    await exited;
  }

  private send(command: HostCommand): void {
    (this.port ?? this.start()).postMessage(command);
    this.wake();
  }

  private wake(): void {
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
  }

  private start(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const data: ActivityHostData = {
      engine: this.engine,
      gate: this.gate.buffer,
      control: this.control.buffer as SharedArrayBuffer,
      port: port2,
    };
    const worker = new Worker(new URL('./activity-host-worker.js', import.meta.url), {
      workerData: data,
      transferList: [port2],
      name: 'activities',
    });
    const threadId = worker.threadId;
    this.worker = worker;
    this.port = port1;
    let running = false;
    worker.on('message', (m: 'ready' | HostReport) => {
      if (m === 'ready') running = true;
      else if ('added' in m) this.hosted.get(m.added)?.begun();
      else if ('stopped' in m) this.drop(m.stopped, null);
      else this.drop(m.died, m.reason);
    });
    let failure = 'the shared activity thread exited';
    worker.on('error', (err) => {
      failure = err.stack ?? String(err);
    });
    worker.once('exit', (code) => {
      // A thread that crashed never released its instrument block: give it back (counts kept).
      Instruments.attach(this.engine.instruments).releaseBlocksOfThread(threadId);
      this.worker = null;
      this.port = null;
      port1.close();
      const reason = running ? `${failure} (code ${code})` : failure;
      for (const id of [...this.hosted.keys()]) this.drop(id, reason);
    });
    return port1;
  }

  /** The thread no longer runs `id` (`reason`: it died, or the thread did). */
  private drop(id: number, reason: string | null): void {
    const activity = this.hosted.get(id);
    if (activity === undefined) return;
    this.hosted.delete(id);
    activity.ended(reason);
  }
}
