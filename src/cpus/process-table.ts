/**
 * The pid table of a sim: pids handed out in order, the process limit, and the list / summary /
 * gauge views every `SimApi` implementation serves the same way. Event-loop only.
 */
import { ESRCH } from '../mm/errno.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { type ProcessList, type ProcessSummary, SimError } from './sim-api.js';

const EAGAIN = 11;
const EBUSY = 16;

/** What every sim keeps per process (each adds its own activity handle). */
export interface ProcessEntry {
  pid: number;
  comm: string;
  mm: MmStruct;
}

export class ProcessTable<P extends ProcessEntry> {
  private readonly procs = new Map<number, P>();
  private nextPid = 1;
  /** Set by the sim's close(): no process may be created afterwards. */
  closed = false;

  constructor(private readonly maxProcesses: number) {}

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

  /** Throws EBUSY while closing and EAGAIN at the process limit, like fork(2)'s RLIMIT_NPROC. */
  reserve(): void {
    if (this.closed) throw new SimError(EBUSY, 'EBUSY', 'the service is shutting down');
    if (this.procs.size >= this.maxProcesses) {
      throw new SimError(EAGAIN, 'EAGAIN', `process limit (${this.maxProcesses}) reached`);
    }
  }

  /** The pid the next `add` should use. */
  allocPid(): number {
    return this.nextPid++;
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
