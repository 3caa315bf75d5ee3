/**
 * A bounded single-producer/single-consumer ring of fixed-size records in a SharedArrayBuffer,
 * plus the `EventsGate` that tells producers whether anyone wants the records at all.
 *
 * Used for /ws mutation events from activity threads (activity-events.ts has the record format):
 * the activity thread is the only producer of its ring, the event loop the only consumer. The
 * producer never blocks and never grows the ring: when it is full the record is dropped and the
 * `dropped` counter says so.
 *
 * Layout of the control block (Int32, one word per 64-byte cache line so the producer's and the
 * consumer's stores do not false-share):
 * - TAIL (line 0): records published, mod 2^32. Written only by the producer, with Atomics.store
 *   AFTER the record's cells (release: a consumer that loads the new tail sees the whole record).
 *   The consumer reads it with Atomics.load (acquire).
 * - HEAD (line 1): records consumed, mod 2^32. Written only by the consumer, with Atomics.store
 *   AFTER it has copied the records out (release: the producer that loads it may reuse the slots).
 *   The producer reads it with Atomics.load (acquire) before writing a slot.
 * - DROPPED (line 2): records dropped because the ring was full, mod 2^32, monotonic. Written only
 *   by the producer (Atomics.store); the consumer reads it with Atomics.load and takes differences.
 * Record cells (Float64, after the control block): slot `i & (capacity - 1)`; owned by the
 * producer while `i >= tail` and by the consumer while `head <= i < tail` (the TAIL/HEAD rules
 * above are what hand a slot over).
 */

const TAIL = 0;
const HEAD = 16;
const DROPPED = 32;
const CAPACITY = 48;
const RECORD_CELLS = 49;
const CONTROL_BYTES = 4 * 64;

export class MutationRing {
  private readonly control: Int32Array;
  /** The record cells; a record is `recordCells` consecutive cells. */
  readonly cells: Float64Array;
  readonly capacity: number;
  readonly recordCells: number;
  /** Producer side: whether a reserved record awaits `commit()`, and the tail that publishes it. */
  private reserved = false;
  private nextTail = 0;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.capacity = this.control[CAPACITY];
    this.recordCells = this.control[RECORD_CELLS];
    this.cells = new Float64Array(buffer, CONTROL_BYTES, this.capacity * this.recordCells);
  }

  /**
   * `capacity` records (a power of two) of `recordCells` Float64 cells each. `firstIndex` (tests)
   * starts the head and tail there, to cover their wrap past 2^31 and 2^32 without 2^32 records.
   */
  static create(capacity: number, recordCells: number, firstIndex = 0): MutationRing {
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two, got ${capacity}`);
    }
    if (!Number.isInteger(recordCells) || recordCells < 1) {
      throw new RangeError(`record size must be a positive cell count, got ${recordCells}`);
    }
    const buffer = new SharedArrayBuffer(CONTROL_BYTES + capacity * recordCells * 8);
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    // Written before the buffer is shared with any thread (postMessage/workerData orders it).
    control[CAPACITY] = capacity;
    control[RECORD_CELLS] = recordCells;
    control[TAIL] = firstIndex | 0;
    control[HEAD] = firstIndex | 0;
    return new MutationRing(buffer);
  }

  static attach(buffer: SharedArrayBuffer): MutationRing {
    return new MutationRing(buffer);
  }

  /**
   * Producer: the cell index where the next record goes, or -1 when the ring is full (the record
   * is then counted as dropped). A reserved record becomes visible only at `commit()`.
   */
  reserve(): number {
    const tail = Atomics.load(this.control, TAIL);
    const head = Atomics.load(this.control, HEAD);
    if (((tail - head) | 0) >= this.capacity) {
      Atomics.store(this.control, DROPPED, (Atomics.load(this.control, DROPPED) + 1) | 0);
      this.reserved = false;
      return -1;
    }
    this.reserved = true;
    this.nextTail = (tail + 1) | 0;
    return (tail & (this.capacity - 1)) * this.recordCells;
  }

  /** Producer: publishes the record written since `reserve()` (release store of TAIL). */
  commit(): void {
    if (!this.reserved) throw new Error('commit without a successful reserve');
    Atomics.store(this.control, TAIL, this.nextTail);
    this.reserved = false;
  }

  /**
   * Consumer: hands up to `max` published records to `visit` (cell index of each, oldest first),
   * then frees their slots. `visit` must copy what it keeps: the slot is reused afterwards.
   * Returns how many records were visited.
   */
  drain(max: number, visit: (cells: Float64Array, at: number) => void): number {
    const head = Atomics.load(this.control, HEAD);
    const tail = Atomics.load(this.control, TAIL);
    const n = Math.min((tail - head) | 0, max);
    const mask = this.capacity - 1;
    for (let k = 0; k < n; k++) visit(this.cells, (((head + k) | 0) & mask) * this.recordCells);
    if (n > 0) Atomics.store(this.control, HEAD, (head + n) | 0);
    return n;
  }

  /** Consumer: drops every record published so far, unread. */
  skipAll(): void {
    Atomics.store(this.control, HEAD, Atomics.load(this.control, TAIL));
  }

  /** Records published and not yet consumed (either side; a snapshot). */
  get pending(): number {
    return (Atomics.load(this.control, TAIL) - Atomics.load(this.control, HEAD)) | 0;
  }

  /** Records published since creation, mod 2^32 (tests and diagnostics). */
  get published(): number {
    return Atomics.load(this.control, TAIL) >>> 0;
  }

  /** Records dropped since creation because the ring was full, mod 2^32. */
  get dropped(): number {
    return Atomics.load(this.control, DROPPED) >>> 0;
  }
}

/**
 * Whether anyone is subscribed to events, shared by the event loop and every activity thread of
 * one sim. Word 0 holds the current subscription epoch (> 0) while there are listeners, 0 when
 * there are none. Written only by the event loop (Atomics.store); producers Atomics.load it once
 * per call and write no record while it is 0, so events cost nothing without subscribers. The
 * epoch goes into each record, so a record a producer started under an earlier subscription (it
 * loaded the word just before it was cleared) is recognised as stale and not delivered.
 */
export class EventsGate {
  private readonly word: Int32Array;
  /** Event loop only: the last epoch handed out. */
  private lastEpoch = 0;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.word = new Int32Array(buffer, 0, 1);
  }

  static create(): EventsGate {
    return new EventsGate(new SharedArrayBuffer(64));
  }

  static attach(buffer: SharedArrayBuffer): EventsGate {
    return new EventsGate(buffer);
  }

  /** The current epoch, or 0 when closed. */
  get epoch(): number {
    return Atomics.load(this.word, 0);
  }

  /** Event loop: starts a new subscription epoch and returns it. */
  open(): number {
    this.lastEpoch = this.lastEpoch >= 0x7fffffff ? 1 : this.lastEpoch + 1;
    Atomics.store(this.word, 0, this.lastEpoch);
    return this.lastEpoch;
  }

  /** Event loop: no one is subscribed any more. */
  close(): void {
    Atomics.store(this.word, 0, 0);
  }
}
