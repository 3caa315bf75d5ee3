/**
 * Activities for the in-process transport (`in-process-transport.ts`, `--cpus 0`): a process kept busy by a loop of
 * calls or a built-in profile, run on the event loop in small batches so HTTP requests interleave
 * with it (the worker-CPU sim runs them on threads of their own instead).
 *
 * A profile is a `CallSource`: it produces the next call from the result of the previous one, so
 * patterns like "mmap, then munmap what was mapped" need no fixed addresses. Sources are pure
 * (no engine access), so any runner can replay them.
 */
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

/** Produces calls one after another; `next` gets the previous call's result. */
export interface CallSource {
  next(previous: SyscallResult | undefined): SyscallCall;
  /** True right after the call that completed one pass of the pattern. */
  readonly passDone: boolean;
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

/** A fixed list of steps; each step sees the address returned by the pass's first mmap. */
class StepSource implements CallSource {
  private i = 0;
  private base = 0;
  passDone = false;
  constructor(private readonly steps: ReadonlyArray<(base: number) => SyscallCall>) {}
  next(previous: SyscallResult | undefined): SyscallCall {
    // The first step of a pass is the mmap whose address the later steps work on.
    if (this.i === 1) this.base = typeof previous === 'number' ? previous : 0;
    const call = this.steps[this.i](this.base);
    this.i = (this.i + 1) % this.steps.length;
    this.passDone = this.i === 0;
    return call;
  }
}

/** The built-in patterns (API.md `profile`). */
export function profileSource(profile: ProfileName): CallSource {
  switch (profile) {
    // An allocator's big-chunk path: map 64 KiB, give it back.
    case 'mmap_churn':
      return new StepSource([
        () => mmapAnon(16 * PAGE, PROT_RW),
        (b) => ({ op: 'munmap', addr: b, length: 16 * PAGE }),
      ]);
    // A JIT: a writable code buffer, named, flipped to r-x once emitted, then retired.
    case 'jit':
      return new StepSource([
        () => mmapAnon(8 * PAGE, PROT_RW),
        (b) => ({ op: 'anon_name', addr: b, length: 8 * PAGE, name: 'jit-code' }),
        (b) => ({ op: 'mprotect', addr: b, length: 8 * PAGE, prot: PROT_RX }),
        (b) => ({ op: 'munmap', addr: b, length: 8 * PAGE }),
      ]);
    // malloc: an arena grown and trimmed in the middle (splits and re-merges), then freed.
    case 'malloc':
      return new StepSource([
        () => mmapAnon(64 * PAGE, PROT_RW),
        (b) => ({ op: 'mprotect', addr: b + 32 * PAGE, length: 32 * PAGE, prot: PROT_NONE }),
        (b) => ({ op: 'mprotect', addr: b + 32 * PAGE, length: 16 * PAGE, prot: PROT_RW }),
        (b) => ({ op: 'munmap', addr: b, length: 64 * PAGE }),
      ]);
    // pthread stacks: a stack mapping with a PROT_NONE guard page below it, then thread exit.
    case 'thread_stacks':
      return new StepSource([
        () => mmapAnon(256 * PAGE, PROT_RW, MAP_PRIVATE_ANON_STACK),
        (b) => ({ op: 'mprotect', addr: b, length: PAGE, prot: PROT_NONE }),
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
  return spec.kind === 'loop' ? loopSource(spec.loop) : profileSource(spec.profile);
}

/** Calls per event-loop turn when uncapped: enough to be busy, few enough to keep HTTP responsive. */
const UNCAPPED_BATCH = 32;
/** A capped activity catches up at most this often. */
const CAPPED_TICK_MS = 10;

/** One running activity on the event loop. `run` executes a call against the process. */
export class LocalActivity {
  private readonly source: CallSource;
  private readonly counts: ActivityStatus;
  private previous: SyscallResult | undefined;
  private stopped = false;
  private immediate: NodeJS.Immediate | null = null;
  private timeout: NodeJS.Timeout | null = null;

  constructor(
    readonly spec: ActivitySpec,
    private readonly run: (call: SyscallCall) => SyscallResult,
  ) {
    this.source = sourceFor(spec);
    this.counts = { spec, startedAt: Date.now(), calls: 0, errors: 0, iterations: 0 };
    this.schedule();
  }

  status(): ActivityStatus {
    return { ...this.counts };
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

  private step(): void {
    const call = this.source.next(this.previous);
    const result = this.run(call);
    this.previous = result;
    this.counts.calls++;
    if (typeof result !== 'number') this.counts.errors++;
    if (this.source.passDone) this.counts.iterations++;
  }

  private schedule(): void {
    if (this.stopped) return;
    const rate = this.spec.ratePerS;
    if (rate === null) {
      this.immediate = setImmediate(() => {
        for (let i = 0; i < UNCAPPED_BATCH && !this.stopped; i++) this.step();
        this.schedule();
      });
      this.immediate.unref();
    } else {
      this.timeout = setTimeout(() => {
        // Catch up to rate × elapsed, so the average rate holds whatever the timer jitter.
        const due = Math.floor(((Date.now() - this.counts.startedAt) / 1000) * rate);
        let budget = Math.min(due - this.counts.calls, Math.ceil(rate / 10) + 1);
        while (budget-- > 0 && !this.stopped) this.step();
        this.schedule();
      }, CAPPED_TICK_MS);
      this.timeout.unref();
    }
  }
}
