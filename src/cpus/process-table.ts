/**
 * The pid table of a sim: pids handed out in order, the process limit, and the list / summary /
 * gauge views every `SimApi` implementation serves the same way. Event-loop only.
 *
 * Pids: a table owns the range `pidBase + 1 … pidBase + PID_RANGE - 1` (`--pid-base`), the same
 * 1 … 2^22 - 1 as Linux's pid_max limit, shifted so that replicas never share a pid and a router
 * can tell the replica from the pid alone (README, "Scaling out"). Like the kernel's cyclic pid
 * allocation, the counter wraps at the top of the range and skips pids still in use.
 */
import { EAGAIN, EBUSY, ESRCH } from '../mm/errno.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { type ProcessList, type ProcessSummary, SimError } from './sim-api.js';

/** Pids per table: Linux's PID_MAX_LIMIT (2^22) on 64-bit. */
export const PID_RANGE = 1 << 22;

/** What every sim keeps per process (each adds its own activity handle). */
export interface ProcessEntry {
  pid: number;
  comm: string;
  mm: MmStruct;
}

export class ProcessTable<P extends ProcessEntry> {
  private readonly procs = new Map<number, P>();
  /** Next pid to try, relative to pidBase (1 … PID_RANGE - 1). */
  private nextLocal = 1;
  /** Creates admitted but not yet added (or failed): they count against the limit. */
  private reserved = 0;
  /** Set by the sim's close(): no process may be created afterwards. */
  closed = false;

  constructor(
    readonly maxProcesses: number,
    readonly pidBase = 0,
  ) {
    if (!Number.isSafeInteger(pidBase) || pidBase < 0 || pidBase + PID_RANGE > 2 ** 31) {
      throw new RangeError(`pid base ${pidBase} out of range (0 … ${2 ** 31 - PID_RANGE})`);
    }
  }

  /** Whether `pid` lies in this table's range. */
  owns(pid: number): boolean {
    return Number.isInteger(pid) && pid > this.pidBase && pid < this.pidBase + PID_RANGE;
  }

  /** The process, or ESRCH. */
  get(pid: number): P {
    const p = this.procs.get(pid);
    if (!p) throw new SimError(ESRCH, 'ESRCH', `no process with pid ${pid}`);
    return p;
  }

  /** The process, or undefined once it has exited. */
  find(pid: number): P | undefined {
    return this.procs.get(pid);
  }

  /**
   * Runs `make` (which creates the process and `add`s it) in a reserved slot: EBUSY while closing,
   * EAGAIN at the process limit, like fork(2)'s RLIMIT_NPROC. The slot counts against the limit
   * from the check until `make` settles, so creates that await in between cannot overshoot it,
   * and a create that fails gives its slot back.
   */
  async admit<T>(make: () => T | Promise<T>): Promise<T> {
    if (this.closed) throw new SimError(EBUSY, 'EBUSY', 'the service is shutting down');
    if (this.procs.size + this.reserved >= this.maxProcesses) {
      throw new SimError(EAGAIN, 'EAGAIN', `process limit (${this.maxProcesses}) reached`);
    }
    this.reserved++;
    try {
      return await make();
    } finally {
      this.reserved--;
    }
  }

  /** The pid the next `add` should use (the limit guarantees a free one exists). */
  allocPid(): number {
    for (;;) {
      const pid = this.pidBase + this.nextLocal;
      this.nextLocal = this.nextLocal + 1 < PID_RANGE ? this.nextLocal + 1 : 1;
      if (!this.procs.has(pid)) return pid;
    }
  }

  /** The pid `allocPid` tries next (snapshot). */
  get nextPid(): number {
    return this.pidBase + this.nextLocal;
  }
  /** Restore the counter (restore; `pid` must be owned). */
  set nextPid(pid: number) {
    if (!this.owns(pid)) throw new RangeError(`next pid ${pid} outside this table's range`);
    this.nextLocal = pid - this.pidBase;
  }

  add(p: P): P {
    this.procs.set(p.pid, p);
    return p;
  }

  delete(pid: number): void {
    this.procs.delete(pid);
  }

  values(): IterableIterator<P> {
    return this.procs.values();
  }

  summary(p: P): ProcessSummary {
    return { pid: p.pid, comm: p.comm, vmas: p.mm.mapCount };
  }

  list(offset: number, limit: number): ProcessList {
    const all = [...this.procs.values()];
    return {
      total: all.length,
      processes: all.slice(offset, offset + limit).map((p) => this.summary(p)),
    };
  }

  gauges(): { processes: number; vmas: number } {
    let vmas = 0;
    for (const p of this.procs.values()) vmas += p.mm.mapCount;
    return { processes: this.procs.size, vmas };
  }
}
