/**
 * The listeners of a `Sim`: mutation events, activity events lost to a full ring, and activities
 * that died by themselves; `transportEvents` is what a transport reports them through.
 * Event-loop only.
 */
import {
  type MutationListener,
  SimError,
  type SyscallCall,
  type SyscallResult,
} from './sim-api.js';
import type { TransportEvents } from './transport.js';

export type DroppedListener = (pid: number, count: number) => void;
export type DiedListener = (pid: number, reason: string) => void;

/** Adds `listener` to `set`; the returned function removes it. */
function subscribe<L>(set: Set<L>, listener: L): () => void {
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

export class SimListeners {
  readonly mutation = new Set<MutationListener>();
  private readonly dropped = new Set<DroppedListener>();
  private readonly died = new Set<DiedListener>();
  /** Activities that died by themselves after they started (procfs_activities_died_total). */
  activitiesDied = 0;

  /** The callbacks a transport reports events through. */
  transportEvents(): TransportEvents {
    return {
      mutation: (pid, call, r) => this.emit(pid, call, r < 0 ? SimError.ofCall(call, r) : r),
      dropped: (pid, count) => {
        for (const l of this.dropped) l(pid, count);
      },
      activityDied: (pid, reason) => {
        this.activitiesDied++;
        for (const l of this.died) l(pid, reason);
      },
    };
  }

  emit(pid: number, call: SyscallCall, result: SyscallResult): void {
    for (const l of this.mutation) l({ pid, call, result });
  }

  onDropped(listener: DroppedListener): () => void {
    return subscribe(this.dropped, listener);
  }

  onDied(listener: DiedListener): () => void {
    return subscribe(this.died, listener);
  }

  clear(): void {
    this.mutation.clear();
    this.dropped.clear();
  }
}
