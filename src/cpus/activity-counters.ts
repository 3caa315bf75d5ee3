/**
 * The counters of one running activity, in shared memory: written only by the activity's
 * thread (plain stores, monotonic), read by the event loop for `GET /processes/:pid/activity`.
 * A read may be one call behind; the values never go backwards.
 *
 * Int32 word 0: stop flag (event loop sets 1 with Atomics.store + notify; the thread polls it
 * between calls and sleeps on it when rate-capped, so a stop wakes it at once).
 * Float64 cells (after the first cache line): calls, errors, iterations.
 */
const STOP_WORD = 0;
const F64_OFFSET = 64;
const CALLS = 0;
const ERRORS = 1;
const ITERATIONS = 2;
const BYTES = F64_OFFSET + 3 * 8;

export class ActivityCounters {
  readonly words: Int32Array;
  private readonly cells: Float64Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, 16);
    this.cells = new Float64Array(buffer, F64_OFFSET, 3);
  }

  static create(): ActivityCounters {
    return new ActivityCounters(new SharedArrayBuffer(BYTES));
  }

  static attach(buffer: SharedArrayBuffer): ActivityCounters {
    return new ActivityCounters(buffer);
  }

  get stopRequested(): boolean {
    return Atomics.load(this.words, STOP_WORD) !== 0;
  }

  requestStop(): void {
    Atomics.store(this.words, STOP_WORD, 1);
    Atomics.notify(this.words, STOP_WORD);
  }

  /** Sleeps up to `ms` unless a stop is requested (rate capping; returns early on stop). */
  sleepUnlessStopped(ms: number): void {
    Atomics.wait(this.words, STOP_WORD, 0, ms);
  }

  get calls(): number {
    return this.cells[CALLS];
  }
  get errors(): number {
    return this.cells[ERRORS];
  }
  get iterations(): number {
    return this.cells[ITERATIONS];
  }

  /** Activity thread only. */
  countCall(failed: boolean, passDone: boolean): void {
    this.cells[CALLS] += 1;
    if (failed) this.cells[ERRORS] += 1;
    if (passDone) this.cells[ITERATIONS] += 1;
  }
}
