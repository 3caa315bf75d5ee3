/**
 * Activities for the in-process transport (`in-process-transport.ts`, `--cpus 0`): a process kept busy by a loop of
 * calls or a built-in profile, run on the event loop in small batches so HTTP requests interleave
 * with it (the worker-CPU sim runs them on threads of their own instead).
 *
 * A profile is a `CallSource`: it produces the next call from the result of the previous one, so
 * patterns like "mmap, then munmap what was mapped" need no fixed addresses. Sources are pure
 * (no engine access), so any runner can replay them.
 */
import { ReplayCallSource } from './replay/replay-activity.js';
import type {
  ActivitySpec,
  ActivityStatus,
  ProfileName,
  SyscallCall,
  SyscallResult,
} from './sim-api.js';

const PAGE = 4096;
const PROT_NONE = 0;
const PROT_RW = 3;
const PROT_RX = 5;
const MAP_PRIVATE_ANON = 0x02 | 0x20;
const MAP_PRIVATE_ANON_STACK = MAP_PRIVATE_ANON | 0x20000;

/**
 * Produces calls one after another; `next` gets the previous call's raw result (>= 0, or -errno)
 * and returns null when the source has nothing more to run (a replay that reached its end).
 */
export interface CallSource {
  next(previous: number | undefined): SyscallCall | null;
  /** True right after the call that completed one pass of the pattern. */
  readonly passDone: boolean;
  /**
   * Seconds after the activity's start when the next call is due (a replay's recorded pace);
   * null or absent: as soon as the rate cap allows.
   */
  readonly nextDueS?: number | null;
  /** A replay's count of results that differed from the recorded ones. */
  readonly mismatches?: number;
}

const mmapAnon = (length: number, prot: number, flags = MAP_PRIVATE_ANON): SyscallCall => ({
  op: 'mmap',
  addr: 0,
  length,
  prot,
  flags,
  offset: 0,
  file: null,
});

const touchRange = (addr: number, length: number, write: boolean): SyscallCall => ({
  op: 'touch',
  addr,
  length,
  write,
});

/** A fixed list of steps; each step sees the address returned by the pass's first mmap. */
class StepSource implements CallSource {
  private i = 0;
  private base = 0;
  passDone = false;
  constructor(private readonly steps: ReadonlyArray<(base: number) => SyscallCall>) {}
  next(previous: number | undefined): SyscallCall {
    // The first step of a pass is the mmap whose address the later steps work on.
    if (this.i === 1) this.base = previous !== undefined && previous >= 0 ? previous : 0;
    const call = this.steps[this.i](this.base);
    this.i = (this.i + 1) % this.steps.length;
    this.passDone = this.i === 0;
    return call;
  }
}

/** The built-in patterns (API.md `profile`). */
export function profileSource(profile: ProfileName): CallSource {
  switch (profile) {
    // An allocator's big-chunk path: map 64 KiB, fill it, give it back.
    case 'mmap_churn':
      return new StepSource([
        () => mmapAnon(16 * PAGE, PROT_RW),
        (b) => touchRange(b, 16 * PAGE, true),
        (b) => ({ op: 'munmap', addr: b, length: 16 * PAGE }),
      ]);
    // A JIT: a writable code buffer, named, written, flipped to r-x once emitted, run, retired.
    case 'jit':
      return new StepSource([
        () => mmapAnon(8 * PAGE, PROT_RW),
        (b) => ({ op: 'anon_name', addr: b, length: 8 * PAGE, name: 'jit-code' }),
        (b) => touchRange(b, 8 * PAGE, true),
        (b) => ({ op: 'mprotect', addr: b, length: 8 * PAGE, prot: PROT_RX }),
        (b) => touchRange(b, 8 * PAGE, false),
        (b) => ({ op: 'munmap', addr: b, length: 8 * PAGE }),
      ]);
    // malloc: an arena used, trimmed in the middle (splits and re-merges), reused, then freed.
    case 'malloc':
      return new StepSource([
        () => mmapAnon(64 * PAGE, PROT_RW),
        (b) => touchRange(b, 32 * PAGE, true),
        (b) => ({ op: 'mprotect', addr: b + 32 * PAGE, length: 32 * PAGE, prot: PROT_NONE }),
        (b) => ({ op: 'mprotect', addr: b + 32 * PAGE, length: 16 * PAGE, prot: PROT_RW }),
        (b) => touchRange(b + 16 * PAGE, 32 * PAGE, true),
        (b) => ({ op: 'munmap', addr: b, length: 64 * PAGE }),
      ]);
    // pthread stacks: a stack mapping with a PROT_NONE guard page below it, the thread using the
    // top of its stack, then thread exit.
    case 'thread_stacks':
      return new StepSource([
        () => mmapAnon(256 * PAGE, PROT_RW, MAP_PRIVATE_ANON_STACK),
        (b) => ({ op: 'mprotect', addr: b, length: PAGE, prot: PROT_NONE }),
        (b) => touchRange(b + 248 * PAGE, 8 * PAGE, true),
        (b) => ({ op: 'munmap', addr: b, length: 256 * PAGE }),
      ]);
  }
}

/** A user loop replayed verbatim, forever. */
class LoopSource implements CallSource {
  private i = 0;
  passDone = false;
  constructor(private readonly loop: readonly SyscallCall[]) {}
  next(): SyscallCall {
    const call = this.loop[this.i];
    this.i = (this.i + 1) % this.loop.length;
    this.passDone = this.i === 0;
    return call;
  }
}

export function loopSource(loop: readonly SyscallCall[]): CallSource {
  return new LoopSource(loop);
}

export function sourceFor(spec: ActivitySpec): CallSource {
  switch (spec.kind) {
    case 'loop':
      return loopSource(spec.loop);
    case 'profile':
      return profileSource(spec.profile);
    case 'replay':
      return new ReplayCallSource(spec.replay, spec.speed, spec.loop);
  }
}

/** Calls per event-loop turn when uncapped: enough to be busy, few enough to keep HTTP responsive. */
const UNCAPPED_BATCH = 32;
/** A capped activity catches up at most this often. */
const CAPPED_TICK_MS = 10;

/** One running activity on the event loop. `run` executes a call against the process. */
export class LocalActivity {
  private readonly source: CallSource;
  private readonly counts: ActivityStatus;
  private previous: number | undefined;
  private stopped = false;
  private finished = false;
  private immediate: NodeJS.Immediate | null = null;
  private timeout: NodeJS.Timeout | null = null;

  /** Why the activity died by itself (a call source or the engine threw), or null. */
  private failure: string | null = null;

  constructor(
    readonly spec: ActivitySpec,
    private readonly run: (call: SyscallCall) => SyscallResult,
    /** Called once if a step throws: the activity stops there, the service goes on. */
    private readonly onDied: (reason: string) => void = () => {},
  ) {
    this.source = sourceFor(spec);
    this.counts = { spec, startedAt: Date.now(), calls: 0, errors: 0, iterations: 0 };
    this.schedule();
  }

  status(): ActivityStatus {
    const status: ActivityStatus = { ...this.counts };
    if (this.spec.kind === 'replay')
      status.replay = { mismatches: this.source.mismatches ?? 0, done: this.finished };
    if (this.failure !== null) status.failure = this.failure;
    return status;
  }

  stop(): void {
    this.stopped = true;
    // Each kind with its own clear: clearImmediate() on a Timeout corrupts node's count of
    // pending immediates and leaves the event loop spinning.
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timeout) clearTimeout(this.timeout);
    this.immediate = null;
    this.timeout = null;
  }

  /** Runs the next call; false when the source has run out or the activity died. */
  private step(): boolean {
    try {
      return this.stepOnce();
    } catch (err) {
      this.failure = (err as Error)?.stack ?? String(err);
      this.stop();
      this.onDied(this.failure);
      return false;
    }
  }

  private stepOnce(): boolean {
    const call = this.source.next(this.previous);
    if (call === null) {
      this.finished = true;
      if (this.source.passDone) this.counts.iterations++;
      return false;
    }
    const result = this.run(call);
    this.previous = typeof result === 'number' ? result : -result.errno;
    this.counts.calls++;
    if (typeof result !== 'number') this.counts.errors++;
    if (this.source.passDone) this.counts.iterations++;
    return true;
  }

  private schedule(): void {
    if (this.stopped || this.finished) return;
    const dueS = this.source.nextDueS ?? null;
    if (dueS !== null) {
      // A replay: run every call that is due, then wait for the next one.
      const waitMs = dueS * 1000 - (Date.now() - this.counts.startedAt);
      this.timeout = setTimeout(
        () => {
          for (let i = 0; i < UNCAPPED_BATCH && !this.stopped && !this.finished; i++) {
            const due = this.source.nextDueS ?? null;
            if (due !== null && due * 1000 > Date.now() - this.counts.startedAt) break;
            if (!this.step()) break;
          }
          this.schedule();
        },
        Math.max(0, waitMs),
      );
      this.timeout.unref();
      return;
    }
    const rate = this.spec.ratePerS;
    if (rate === null) {
      this.immediate = setImmediate(() => {
        for (let i = 0; i < UNCAPPED_BATCH && !this.stopped; i++) if (!this.step()) break;
        this.schedule();
      });
      this.immediate.unref();
    } else {
      this.timeout = setTimeout(() => {
        // Catch up to rate × elapsed, so the average rate holds whatever the timer jitter.
        const due = Math.floor(((Date.now() - this.counts.startedAt) / 1000) * rate);
        let budget = Math.min(due - this.counts.calls, Math.ceil(rate / 10) + 1);
        while (budget-- > 0 && !this.stopped) if (!this.step()) break;
        this.schedule();
      }, CAPPED_TICK_MS);
      this.timeout.unref();
    }
  }
}
