// The per-thread recorder: hot-path methods that add to this thread's own instrument block.
// Only the owning thread writes the block (block-layout.ts), so every update is a plain
// Float64 add: no atomics, no contention, no cache-line bouncing. Arguments are the numeric ids
// of labels.ts; durations are nanoseconds (see src/sync/clock.ts).
//
// Why plain Float64 stores are enough: counts stay exact integers up to 2^53; the scraper's
// racy reads may miss the latest increments (they appear at the next scrape) and it clamps
// every cell to the largest value it has seen (aggregator.ts), so totals never go backwards.
// (ECMAScript allows a non-atomic Float64 access to tear; V8 on x86-64 and arm64 emits one
// aligned 8-byte move, which does not.)

import { bucketIndexForNs } from './buckets.js';
import {
  FALLBACKS,
  FAMILIES,
  FAULT_DURATION,
  FAULTS,
  HAZARDS,
  HISTOGRAM_CELLS,
  HISTOGRAM_SUM_CELL,
  LOCK_HOLD,
  LOCK_WAIT,
  MUTATION_DURATION,
  MUTATIONS,
  READ_DURATION,
  READS,
  SPECULATION_ATTEMPTS,
  SPECULATION_RETRIES,
} from './families.js';
import {
  FALLBACK_REASONS,
  FAULT_RESULTS,
  type FallbackReasonId,
  type FaultPathId,
  type FaultResultId,
  type HazardKindId,
  LOCK_MODES,
  type LockId,
  type LockModeId,
  MUTATION_RESULTS,
  type MutationOpId,
  type MutationResultId,
  type ReadOpId,
  STRATEGIES,
  type StrategyId,
} from './labels.js';

const N_STRATEGIES = STRATEGIES.length;
const N_MODES = LOCK_MODES.length;
const N_REASONS = FALLBACK_REASONS.length;
const N_RESULTS = MUTATION_RESULTS.length;

const LOCK_HOLD_AT = FAMILIES[LOCK_HOLD].offset;
const LOCK_WAIT_AT = FAMILIES[LOCK_WAIT].offset;
const READS_AT = FAMILIES[READS].offset;
const READ_DURATION_AT = FAMILIES[READ_DURATION].offset;
const ATTEMPTS_AT = FAMILIES[SPECULATION_ATTEMPTS].offset;
const RETRIES_AT = FAMILIES[SPECULATION_RETRIES].offset;
const FALLBACKS_AT = FAMILIES[FALLBACKS].offset;
const HAZARDS_AT = FAMILIES[HAZARDS].offset;
const MUTATIONS_AT = FAMILIES[MUTATIONS].offset;
const MUTATION_DURATION_AT = FAMILIES[MUTATION_DURATION].offset;
const FAULTS_AT = FAMILIES[FAULTS].offset;
const FAULT_DURATION_AT = FAMILIES[FAULT_DURATION].offset;
const N_FAULT_RESULTS = FAULT_RESULTS.length;

/** Larger (or non-finite) durations are recorded as this much: a bogus clock delta must not
 * turn a histogram sum into Infinity forever. 1000 s is far beyond anything real here. */
const MAX_OBSERVED_NS = 1e12;

function observe(cells: Float64Array, base: number, ns: number): void {
  const v = ns > 0 ? Math.min(ns, MAX_OBSERVED_NS) : 0; // NaN -> 0
  cells[base + bucketIndexForNs(v)] += 1;
  cells[base + HISTOGRAM_SUM_CELL] += v;
}

export class InstrumentRecorder {
  /** This thread's block, or a private scratch array after release(). */
  private cells: Float64Array;
  private readonly header: Int32Array;
  private readonly enabledWord: number;
  private releaseBlock: (() => void) | null;

  /** @internal Created by Instruments.recorder(); `cells` is the claimed block. */
  constructor(
    header: Int32Array,
    enabledWord: number,
    cells: Float64Array,
    readonly blockIndex: number,
    releaseBlock: () => void,
  ) {
    this.header = header;
    this.enabledWord = enabledWord;
    this.cells = cells;
    this.releaseBlock = releaseBlock;
  }

  /**
   * Whether recording is on (shared switch, Instruments.enabled). Hot paths may test it to
   * skip reading the clock when instruments are off.
   */
  get enabled(): boolean {
    return this.header[this.enabledWord] !== 0;
  }

  /** A lock of `lock` in `mode` was held for `ns` nanoseconds. */
  lockHold(lock: LockId, mode: LockModeId, strategy: StrategyId, ns: number): void {
    if (this.header[this.enabledWord] === 0) return;
    const series = (lock * N_MODES + mode) * N_STRATEGIES + strategy;
    observe(this.cells, LOCK_HOLD_AT + series * HISTOGRAM_CELLS, ns);
  }

  /** Acquiring `lock` in `mode` took `ns` nanoseconds of waiting. */
  lockWait(lock: LockId, mode: LockModeId, strategy: StrategyId, ns: number): void {
    if (this.header[this.enabledWord] === 0) return;
    const series = (lock * N_MODES + mode) * N_STRATEGIES + strategy;
    observe(this.cells, LOCK_WAIT_AT + series * HISTOGRAM_CELLS, ns);
  }

  /** One read completed (a whole maps read or one query) in `ns` nanoseconds. */
  read(op: ReadOpId, strategy: StrategyId, ns: number): void {
    if (this.header[this.enabledWord] === 0) return;
    const series = op * N_STRATEGIES + strategy;
    this.cells[READS_AT + series] += 1;
    observe(this.cells, READ_DURATION_AT + series * HISTOGRAM_CELLS, ns);
  }

  /**
   * `count` reads completed together in `ns` nanoseconds (a batch of queries timed as a whole):
   * counted as `count` reads, each observed at the batch's mean duration (the histogram's sum is
   * exact, its buckets see the mean).
   */
  reads(op: ReadOpId, strategy: StrategyId, count: number, ns: number): void {
    if (this.header[this.enabledWord] === 0 || count <= 0) return;
    const series = op * N_STRATEGIES + strategy;
    this.cells[READS_AT + series] += count;
    const base = READ_DURATION_AT + series * HISTOGRAM_CELLS;
    const v = ns > 0 ? Math.min(ns, MAX_OBSERVED_NS) : 0;
    this.cells[base + bucketIndexForNs(v / count)] += count;
    this.cells[base + HISTOGRAM_SUM_CELL] += v;
  }

  /** A read made `attempts` speculative attempts of which `retries` failed validation. */
  speculation(op: ReadOpId, strategy: StrategyId, attempts: number, retries: number): void {
    if (this.header[this.enabledWord] === 0) return;
    const series = op * N_STRATEGIES + strategy;
    this.cells[ATTEMPTS_AT + series] += attempts;
    this.cells[RETRIES_AT + series] += retries;
  }

  /** A reader fell back to the mmap read lock for `reason`. */
  fallback(op: ReadOpId, strategy: StrategyId, reason: FallbackReasonId): void {
    if (this.header[this.enabledWord] === 0) return;
    this.cells[FALLBACKS_AT + (op * N_STRATEGIES + strategy) * N_REASONS + reason] += 1;
  }

  /** A speculative reader detected a hazard of `kind`. */
  hazard(kind: HazardKindId, strategy: StrategyId): void {
    if (this.header[this.enabledWord] === 0) return;
    this.cells[HAZARDS_AT + kind * N_STRATEGIES + strategy] += 1;
  }

  /** A mutation finished with `result` (labels.mutationResultId) after `ns` nanoseconds. */
  mutation(op: MutationOpId, result: MutationResultId, ns: number): void {
    if (this.header[this.enabledWord] === 0) return;
    this.cells[MUTATIONS_AT + op * N_RESULTS + result] += 1;
    observe(this.cells, MUTATION_DURATION_AT + op * HISTOGRAM_CELLS, ns);
  }

  /** A page fault took `path`, ended with `result`, after `ns`, under read strategy `strategy`. */
  fault(path: FaultPathId, result: FaultResultId, strategy: StrategyId, ns: number): void {
    if (this.header[this.enabledWord] === 0) return;
    this.cells[FAULTS_AT + path * N_FAULT_RESULTS + result] += 1;
    observe(this.cells, FAULT_DURATION_AT + (path * N_STRATEGIES + strategy) * HISTOGRAM_CELLS, ns);
  }

  /**
   * Give the block back (its counts move into the retired block, so totals keep them). Call
   * from the owning thread when it stops recording, e.g. before a worker exits. Later calls
   * on this recorder are harmless and go to a private scratch array that nobody reads.
   */
  release(): void {
    const release = this.releaseBlock;
    if (release === null) return;
    this.releaseBlock = null;
    this.cells = new Float64Array(this.cells.length);
    release();
  }
}
