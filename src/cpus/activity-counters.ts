/**
 * The counters of one running activity, in shared memory: written only by the activity's
 * thread (plain stores, monotonic), read by the event loop for `GET /processes/:pid/activity`.
 * A read may be one call behind; the values never go backwards.
 *
 * Int32 word 0: stop flag (event loop sets 1 with Atomics.store + notify; the thread polls it
 * between calls and sleeps on it when rate-capped, so a stop wakes it at once).
 * Int32 word 1: a replay has run to its end (1), stored with Atomics after its last counts, so a
 * reader that loads it first (Atomics) and then the counts sees every call of the run: read in
 * the other order, a preempted reader could pair a stale `calls` with `finished`.
 * Float64 cells (after the first cache line): calls, errors, iterations, and for a replay its
 * mismatches.
 */
const STOP_WORD = 0;
const FINISHED_WORD = 1;
const F64_OFFSET = 64;
const CALLS = 0;
const ERRORS = 1;
const ITERATIONS = 2;
const MISMATCHES = 3;
const CELLS = 4;
const BYTES = F64_OFFSET + CELLS * 8;

export class ActivityCounters {
  readonly words: Int32Array;
  private readonly cells: Float64Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, 16);
    this.cells = new Float64Array(buffer, F64_OFFSET, CELLS);
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

  get mismatches(): number {
    return this.cells[MISMATCHES];
  }
  /** Load this before the counts (see the header). */
  get finished(): boolean {
    return Atomics.load(this.words, FINISHED_WORD) !== 0;
  }

  /** Activity thread only: a replay's mismatches so far. */
  setMismatches(n: number): void {
    this.cells[MISMATCHES] = n;
  }

  /** Activity thread only: the source ran out (a replay reached its end); `passDone` counts it. */
  finish(passDone: boolean): void {
    if (passDone) this.cells[ITERATIONS] += 1;
    Atomics.store(this.words, FINISHED_WORD, 1);
  }

  /** Activity thread only. */
  countCall(failed: boolean, passDone: boolean): void {
    this.cells[CALLS] += 1;
    if (failed) this.cells[ERRORS] += 1;
    if (passDone) this.cells[ITERATIONS] += 1;
  }
}
