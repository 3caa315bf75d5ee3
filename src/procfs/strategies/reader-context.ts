/**
 * The per-thread state of a reader: its RCU registration, its instruments recorder, optional
 * test hooks, the counts of everything it did (for tests and race checks), and reusable buffers
 * so a read allocates nothing once warm. One context per thread (it is not thread-safe); build it
 * once with `createReaderContext` and pass it to every strategy call on that thread.
 *
 * Counting (kernel.md §3; API.md metrics): every speculation attempt and retry, every fallback
 * with its reason and every hazard with its kind is counted where it happens, on this context's
 * `stats` and, when a recorder is set, on the thread's instrument block. Attempts/retries of one
 * read are summed and recorded once when the read ends (`procfs_speculation_*_total`).
 */
import type { FallbackReasonId, HazardKindId, ReadOpId, StrategyId } from '../../metrics/labels.js';
import type { InstrumentRecorder } from '../../metrics/recorder.js';
import type { MmStruct } from '../../mm/mm-struct.js';
import { SYNC_WORDS_BASE } from '../../mm/mm-struct.js';
import { mmapReadLock, mmapReadTrylock, mmapReadUnlock, nowNs } from '../../sync/index.js';
import type { RcuDomain } from '../../sync/rcu.js';
import { ByteSink } from '../byte-sink.js';
import { MapsLineMemo } from '../maps-line-memo.js';
import { MapsPosition } from '../maps-text.js';
import { VmaView } from '../vma-view.js';

/** After this many failed validations of one lookup, a speculative reader takes the mmap lock. */
export const SPECULATION_RETRY_LIMIT = 8;

export const FALLBACK_CONTENTION: FallbackReasonId = 0;
export const FALLBACK_FANCY_VMA: FallbackReasonId = 1;
export const FALLBACK_DETACHED: FallbackReasonId = 2;
export const FALLBACK_RETRY_LIMIT: FallbackReasonId = 3;
export const HAZARD_USE_AFTER_FREE: HazardKindId = 0;
export const HAZARD_NULL_DEREF: HazardKindId = 1;

export const OP_MAPS: ReadOpId = 0;
export const OP_QUERY: ReadOpId = 1;
export const OP_SMAPS: ReadOpId = 2;
export const OP_SMAPS_ROLLUP: ReadOpId = 3;
export const OP_STATUS: ReadOpId = 4;

const LOCK_MMAP = 0;
const MODE_READ = 0;

/**
 * Test-only hook points inside the strategies' lock-free windows. Each runs with NO lock held by
 * the reader (only its RCU read section, which writers never wait for), so a hook may run a
 * whole mutation through src/mm/mm-writer.ts on the same thread without deadlocking.
 */
export interface StrategyHooks {
  /** per_vma, snapshot, lockless*: a VMA `id` was found by an RCU lookup, not yet locked/read. */
  afterLookup?(mm: MmStruct, id: number): void;
  /** per_vma: a fallback is about to take the momentary mmap read lock. */
  beforeFallbackLock?(mm: MmStruct): void;
  /** snapshot, lockless*: VMA `id` was copied/formatted, the sequence not yet re-checked. */
  beforeValidate?(mm: MmStruct, id: number): void;
  /** lockless_nofallback: VMA `id`'s name op was found set, its name not yet fetched. */
  beforeNameCall?(mm: MmStruct, id: number): void;
}

/** Everything counted on one context (totals since the last `reset`). */
export class ReadStats {
  reads = 0;
  attempts = 0;
  retries = 0;
  /** Indexed by fallback reason id (labels.ts FALLBACK_REASONS). */
  readonly fallbacks = [0, 0, 0, 0];
  /** Indexed by hazard kind id (labels.ts HAZARD_KINDS). */
  readonly hazards = [0, 0];
  /** mmap read lock acquisitions, and how many of them had to wait. */
  mmapLocks = 0;
  mmapLockWaits = 0;

  reset(): void {
    this.reads = 0;
    this.attempts = 0;
    this.retries = 0;
    this.fallbacks.fill(0);
    this.hazards.fill(0);
    this.mmapLocks = 0;
    this.mmapLockWaits = 0;
  }

  /**
   * Retries + fallbacks other than `fancy_vma` (which happen with no writer at all) + mmap lock
   * waits: evidence that this reader met a writer.
   */
  get contention(): number {
    const f = this.fallbacks;
    return (
      this.retries +
      f[FALLBACK_CONTENTION] +
      f[FALLBACK_DETACHED] +
      f[FALLBACK_RETRY_LIMIT] +
      this.mmapLockWaits
    );
  }
}

export interface ReaderContextOptions {
  rcu: RcuDomain;
  recorder: InstrumentRecorder | null;
  hooks?: StrategyHooks | null;
  retryLimit?: number;
  /**
   * false on the event loop, which never sleeps on a simulated lock: where the mmap read lock is
   * not free at once, the read is abandoned with `ReadWouldWait` (see there). Default true.
   */
  mayWait?: boolean;
}

/**
 * Thrown by `ctx.mmapReadLock` on a context that may not wait (the event loop) when a writer
 * holds or waits for the lock. The read in progress is abandoned: it unwinds through the
 * strategy (every m_stop/teardown that runs drops what it took), and the caller must at once call
 * `ctx.abandonRead()`, then wait for the lock without blocking (`mmapReadLockAsync`) and run the
 * same chunk or query again under `ctx.coverMmapLock(mm, waitedNs)` (see there).
 * Every call site of `ctx.mmapReadLock` is outside any RCU read section (a reader never waits
 * for the mmap lock inside one), but some unwind through an m_stop that drops the section the
 * strategy re-enters after the lock; so the context enters one RCU read section before throwing
 * and `abandonRead` drops whatever is left: the nesting is balanced on every path.
 */
export class ReadWouldWait extends Error {
  /** Where a batch of queries stopped (set by the engine that ran it). */
  resumeAt = 0;
  constructor(readonly mm: MmStruct) {
    super('the mmap read lock is not free and this reader may not wait');
    this.name = 'ReadWouldWait';
  }
}

export class ReaderContext {
  readonly rcu: RcuDomain;
  readonly recorder: InstrumentRecorder | null;
  hooks: StrategyHooks | null;
  /** Failed validations of one lookup before a speculative reader falls back (`retry_limit`). */
  retryLimit: number;
  readonly stats = new ReadStats();
  readonly mayWait: boolean;
  /**
   * The mm whose mmap read lock the caller already holds for this whole chunk or query (a read
   * re-run after `ReadWouldWait`): the strategy's own lock/unlock calls on it are then no-ops.
   */
  private covered: MmStruct | null = null;

  // The read in progress (set by beginRead): its op, strategy and per-read speculation counts.
  op: ReadOpId = OP_MAPS;
  strategy: StrategyId = 0;
  private readAttempts = 0;
  private readRetries = 0;
  private readStartNs = 0;
  /** When the mmap read lock held now was taken (0: not timed). */
  private holdStartNs = 0;

  // Reusable buffers (one read at a time per context).
  readonly position = new MapsPosition();
  readonly sink = new ByteSink(8192);
  readonly view = new VmaView();
  /** Per-mm walker caches of the strategies (keyed by strategy, then mm). */
  readonly caches = new Map<string, WeakMap<MmStruct, unknown>>();

  constructor(o: ReaderContextOptions) {
    this.rcu = o.rcu;
    this.recorder = o.recorder;
    this.hooks = o.hooks ?? null;
    this.retryLimit = o.retryLimit ?? SPECULATION_RETRY_LIMIT;
    this.mayWait = o.mayWait ?? true;
  }

  /** The cached per-mm object of `kind`, made by `make` on first use. */
  cached<T>(kind: string, mm: MmStruct, make: () => T): T {
    let m = this.caches.get(kind);
    if (!m) {
      m = new WeakMap();
      this.caches.set(kind, m);
    }
    let v = m.get(mm) as T | undefined;
    if (v === undefined) {
      v = make();
      m.set(mm, v);
    }
    return v;
  }

  /** This context's memo of the maps lines it last read from `mm` (maps-line-memo.ts). */
  mapsLines(mm: MmStruct): MapsLineMemo {
    return this.cached('maps-lines', mm, () => new MapsLineMemo());
  }

  beginRead(op: ReadOpId, strategy: StrategyId): void {
    this.op = op;
    this.strategy = strategy;
    this.readAttempts = 0;
    this.readRetries = 0;
    this.readStartNs = this.recorder?.enabled ? nowNs() : 0;
  }

  /**
   * The read begun by `beginRead` is over. `count` > 1: it was a batch of that many reads (each
   * counted; their speculation counts summed; the duration spread evenly over them).
   */
  endRead(count = 1): void {
    this.stats.reads += count;
    const rec = this.recorder;
    if (rec === null || !rec.enabled) return;
    if (this.readAttempts > 0) {
      rec.speculation(this.op, this.strategy, this.readAttempts, this.readRetries);
    }
    const ns = this.readStartNs === 0 ? 0 : nowNs() - this.readStartNs;
    if (count === 1) rec.read(this.op, this.strategy, ns);
    else rec.reads(this.op, this.strategy, count, ns);
  }

  /** One speculative attempt (a lookup + lock, copy or format that will be validated). */
  attempt(): void {
    this.readAttempts++;
    this.stats.attempts++;
  }

  /** `n` attempts at once (a walk that adds them up as it goes). */
  attempts(n: number): void {
    this.readAttempts += n;
    this.stats.attempts += n;
  }

  /** An attempt failed validation and is being repeated. */
  retry(): void {
    this.readRetries++;
    this.stats.retries++;
  }

  fallback(reason: FallbackReasonId): void {
    this.stats.fallbacks[reason]++;
    this.recorder?.fallback(this.op, this.strategy, reason);
  }

  hazard(kind: HazardKindId): void {
    this.stats.hazards[kind]++;
    this.recorder?.hazard(kind, this.strategy);
  }

  /**
   * `mmap_read_lock(mm)`, recording the wait; blocking (worker threads, or uncontended). On a
   * context that may not wait, a lock that is not free at once throws `ReadWouldWait`.
   */
  mmapReadLock(mm: MmStruct): void {
    if (this.mayWait) {
      if (this.covered !== mm) this.lockTaken(mmapReadLock(mm.i32, SYNC_WORDS_BASE));
      return;
    }
    if (this.mmapReadTrylock(mm)) return;
    this.rcu.readLock(); // balanced by the m_stop it unwinds through, or by abandonRead
    throw new ReadWouldWait(mm);
  }

  /**
   * `mmap_read_trylock(mm)`: true if the read lock is held now (release it with
   * `mmapReadUnlock`), false if a writer holds or waits for it. Never waits, so a reader may try
   * it inside its RCU read section (docs/locking.md rule 1).
   */
  mmapReadTrylock(mm: MmStruct): boolean {
    if (this.covered === mm) return true;
    if (!mmapReadTrylock(mm.i32, SYNC_WORDS_BASE)) return false;
    this.lockTaken(0);
    return true;
  }

  private lockTaken(waited: number): void {
    this.stats.mmapLocks++;
    if (waited > 0) this.stats.mmapLockWaits++;
    const rec = this.recorder;
    if (rec?.enabled) {
      rec.lockWait(LOCK_MMAP, MODE_READ, this.strategy, waited);
      this.holdStartNs = nowNs();
    } else {
      this.holdStartNs = 0;
    }
  }

  /** `mmap_read_unlock(mm)`, recording how long it was held. */
  mmapReadUnlock(mm: MmStruct): void {
    if (this.covered === mm) return;
    this.lockReleased(mm);
  }

  private lockReleased(mm: MmStruct): void {
    mmapReadUnlock(mm.i32, SYNC_WORDS_BASE);
    if (this.holdStartNs !== 0) {
      this.recorder?.lockHold(LOCK_MMAP, MODE_READ, this.strategy, nowNs() - this.holdStartNs);
      this.holdStartNs = 0;
    }
  }

  /** After `ReadWouldWait` was caught: leaves the RCU read section the abandoned read left open. */
  abandonRead(): void {
    while (this.rcu.inReadSection()) this.rcu.readUnlock();
  }

  /**
   * The caller took `mm`'s mmap read lock (after waiting `waitedNs`, recorded as this read's
   * wait) and holds it while it runs one chunk or query again: every lock/unlock the strategy
   * does on `mm` meanwhile is a no-op, so the re-run cannot meet a writer. `uncoverMmapLock`
   * releases it. The wait and hold are labelled with `strategy`.
   */
  coverMmapLock(mm: MmStruct, strategy: StrategyId, waitedNs: number): void {
    this.strategy = strategy;
    this.covered = mm;
    this.lockTaken(waitedNs);
  }

  uncoverMmapLock(): void {
    const mm = this.covered;
    if (mm === null) return;
    this.covered = null;
    this.lockReleased(mm);
  }
}

/** Built once per thread from its RCU registration and instruments recorder. */
export function createReaderContext(o: ReaderContextOptions): ReaderContext {
  return new ReaderContext(o);
}
