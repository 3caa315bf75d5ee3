/**
 * A replay as an activity's call source: the recorded calls in order (ReplaySource relocates and
 * compares them), each due at its recorded offset from the first call divided by `speed`.
 *
 * With `loop`, a pass ends by undoing what it did to the address space, as if the program exited
 * and started again from the same image: every range the pass had the kernel place is unmapped
 * (where the engine put it) and the break is set back; then the next pass starts. Without `loop`
 * the source is finished after the last call.
 */
import type { ReplayPlan, SyscallCall } from '../sim-api.js';
import { ReplaySource } from './replay-source.js';

export class ReplayCallSource {
  private readonly source: ReplaySource;
  /** Cleanup calls still to run at the end of a looping pass. */
  private cleanup: SyscallCall[] = [];
  private cleaning = false;
  /** Ranges the engine placed during this pass (address, length), for the cleanup. */
  private placed: Array<[number, number]> = [];
  /** The break when the pass started (the first brk(0) answer), for the cleanup. */
  private passBreak: number | null = null;
  private last: SyscallCall | null = null;
  /** Seconds after the activity's start when the current pass started. */
  private passStartS = 0;
  private elapsedPassesS = 0;
  passDone = false;
  /** A replay without `loop` after its last call. */
  finished = false;

  constructor(
    plan: ReplayPlan,
    private readonly speed: number,
    private readonly loop: boolean,
  ) {
    this.source = new ReplaySource({ calls: plan.calls, unmodelled: plan.unmodelled }, (path) =>
      Object.hasOwn(plan.files, path) ? plan.files[path] : undefined,
    );
  }

  get mismatches(): number {
    return this.source.mismatches;
  }

  /**
   * Seconds after the activity's start when the next call is due; null when it may run now
   * (speed 0, cleanup calls, or a trace without timestamps).
   */
  get nextDueS(): number | null {
    if (this.speed === 0 || this.cleaning) return null;
    const i = this.source.position;
    if (i >= this.source.length) return null;
    return this.passStartS + this.source.offsetS(i) / this.speed;
  }

  /** The next call, or null once a replay without `loop` has run its last call. */
  next(previous: number | undefined): SyscallCall | null {
    if (this.finished) return null;
    const result = previous;
    this.remember(result);
    this.passDone = false;
    if (!this.cleaning) {
      const call = this.source.next(result);
      if (call !== null) return (this.last = call);
      // The pass is over (the last call's result is settled by now).
      if (!this.loop) {
        this.finished = true;
        this.passDone = true;
        return null;
      }
      this.cleaning = true;
      this.cleanup = this.placed.map(([addr, length]) => ({ op: 'munmap', addr, length }));
      // The break back where the pass found it (brk(0), a no-op query, when it never asked):
      // always one call, so the pass ends on a call of its own.
      this.cleanup.push({ op: 'brk', addr: this.passBreak ?? 0 });
      this.placed = [];
    }
    const call = this.cleanup.shift()!;
    if (this.cleanup.length === 0) this.endPass();
    return (this.last = call);
  }

  private endPass(): void {
    this.cleaning = false;
    this.passDone = true;
    this.source.rewind();
    this.elapsedPassesS += this.source.offsetS(this.source.length - 1) / (this.speed || 1);
    this.passStartS = this.speed === 0 ? 0 : this.elapsedPassesS;
    this.passBreak = null;
  }

  /** Notes what the previous call placed or reported, for a looping pass's cleanup. */
  private remember(result: number | undefined): void {
    const c = this.last;
    if (c === null || result === undefined || result < 0 || this.cleaning || !this.loop) return;
    if (c.op === 'mmap') this.placed.push([result, c.length]);
    else if (c.op === 'mremap') this.placed.push([result, c.newSize]);
    else if (c.op === 'brk' && c.addr === 0 && this.passBreak === null) this.passBreak = result;
  }
}

/**
 * The trace's calls as a pass hands them out when every result is the recorded one (addresses
 * unrelocated): the shapes /ws events are rebuilt from (activity-events.ts).
 */
export function replayShapes(plan: ReplayPlan): SyscallCall[] {
  const source = new ReplayCallSource(plan, 0, false);
  const shapes: SyscallCall[] = [];
  let previous: number | undefined;
  for (let call = source.next(previous); call !== null; call = source.next(previous)) {
    shapes.push(call);
    previous = plan.calls[shapes.length - 1]?.result;
  }
  return shapes;
}
