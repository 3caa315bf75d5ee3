/**
 * `SimProcesses`: the process handling of a `Sim`: the pid table, new address spaces built on
 * the event loop and published to every engine thread, their charge to the memory budget,
 * create / fork / exit, and activity changes (queued per process). Event-loop only.
 */
import { ENOMEM, ESRCH } from '../mm/errno.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { ActivityAdmission } from './activity-admission.js';
import { defaultMaxProcesses, PROCESS_VIEW_BYTES } from './memory-limit.js';
import { buildTemplateProcess, COMM_MAX, newProcessImage, populationPlan } from './population.js';
import { ProcessTable } from './process-table.js';
import {
  type ActivitySpec,
  type CreateProcessOptions,
  type DurableProcesses,
  type ProcessSummary,
  SimError,
} from './sim-api.js';
import { callTransport } from './sim-errors.js';
import { mmOptionsFor, type SimOptions } from './sim-options.js';
import {
  type ActivityRun,
  ActivityStartError,
  type EngineShared,
  type EngineTransport,
} from './transport.js';

export interface Proc {
  pid: number;
  /** The simulated parent (fork), 0 for a process created through the API. */
  ppid: number;
  comm: string;
  /** The event loop's view of the arena. */
  mm: MmStruct;
  activity: ActivityRun | null;
  /** Activity changes of this process, in order (a start awaits its thread). */
  activityQueue: Promise<unknown>;
}

/** A process's fixed cost under --max-memory: its views on the engine threads. */
const PROCESS_BYTES = PROCESS_VIEW_BYTES;

function budgetExhausted(): SimError {
  return new SimError(ENOMEM, 'ENOMEM', 'memory budget (--max-memory) exhausted');
}

export class SimProcesses {
  readonly table: ProcessTable<Proc>;

  constructor(
    private readonly opts: SimOptions,
    private readonly shared: EngineShared,
    private readonly activities: ActivityAdmission,
    private readonly transport: EngineTransport,
  ) {
    // 0 = derived from the budget, as --max-processes 0 means (a ServiceConfig spread into options).
    const max =
      opts.maxProcesses || defaultMaxProcesses(opts.maxMemory ?? Number.POSITIVE_INFINITY);
    this.table = new ProcessTable(max, opts.pidBase);
  }

  /** The process, or ESRCH. */
  get(pid: number): Proc {
    return this.table.get(pid);
  }

  mmOptions() {
    return mmOptionsFor(this.opts, this.shared);
  }

  /** Creates the built-in population (start-up). */
  async populate(population: number): Promise<void> {
    for (const p of populationPlan(population)) {
      const mm = buildTemplateProcess(p.template, { ...this.mmOptions(), seed: p.seed });
      this.charge(mm, true);
      const proc = await this.publish(mm, p.comm);
      // Beyond --max-activities the process stays idle (the refusal is counted). The
      // population's activities share one thread (activity-host.ts).
      if (p.activity) await this.setActivityOf(proc, p.activity, true).catch(() => {});
    }
  }

  /** Snapshot and restore access (src/state). */
  durable(): DurableProcesses {
    return {
      pidBase: this.table.pidBase,
      processes: () => [...this.table.values()],
      nextPid: () => this.table.nextPid,
      mmOptions: () => this.mmOptions(),
      adopt: async (procs, nextPid) => {
        for (const p of procs) {
          this.charge(p.mm, true);
          const proc = await this.publish(p.mm, p.comm, p.pid);
          // Beyond --max-activities the process is restored idle (the refusal is counted).
          if (p.activity) await this.setActivityOf(proc, p.activity).catch(() => {});
        }
        this.table.nextPid = nextPid;
      },
    };
  }

  /**
   * Charges a built, not yet shared arena and the process's fixed cost to the memory budget and
   * makes its view strict; ENOMEM (nothing charged) past --max-memory unless `force` (restores
   * and the start-up population, which nobody could retry).
   */
  private charge(mm: MmStruct, force = false): void {
    if (mm.commit.admit(PROCESS_BYTES, force)) return;
    throw budgetExhausted();
  }

  /** Gives back what a process was charged (its arena is freed: exit, or a discarded create). */
  private release(mm: MmStruct): void {
    mm.commit.releaseAll();
    this.shared.globals.budget.release(PROCESS_BYTES);
  }

  /** Hands a new arena to every engine thread, then makes the pid visible. */
  private async publish(
    mm: MmStruct,
    comm: string,
    pid = this.table.allocPid(),
    ppid = 0,
  ): Promise<Proc> {
    mm.reclaim();
    mm.setGracePeriods(this.shared.rcu);
    await this.transport.publish(pid, mm);
    const proc: Proc = {
      pid,
      ppid,
      comm: comm.slice(0, COMM_MAX),
      mm,
      activity: null,
      activityQueue: Promise.resolve(),
    };
    return this.table.add(proc);
  }

  /**
   * Replaces `proc`'s activity with `spec` (null: none), after the changes queued before it. A
   * new activity takes a place under --max-activities and waits until its thread runs: EAGAIN
   * (counted) at the limit or if the thread cannot start, and the process is then left without
   * an activity. ESRCH if the process exited meanwhile. `shared`: see
   * `EngineTransport.startActivity` (the start-up population's activities).
   */
  setActivityOf(
    proc: Proc,
    spec: ActivitySpec | null,
    shared = false,
  ): Promise<ActivityRun | null> {
    const change = async (): Promise<ActivityRun | null> => {
      const old = proc.activity;
      if (old) {
        proc.activity = null;
        await old.stop();
        this.activities.release();
      }
      if (spec === null) return old;
      if (this.table.find(proc.pid) !== proc) {
        throw new SimError(ESRCH, 'ESRCH', `no process with pid ${proc.pid}`);
      }
      this.activities.admit();
      try {
        proc.activity = await this.transport.startActivity(proc.pid, proc.mm, spec, shared);
      } catch (err) {
        if (err instanceof ActivityStartError)
          throw this.activities.refuse('thread_start', err.message);
        this.activities.release();
        throw err;
      }
      return proc.activity;
    };
    const run = proc.activityQueue.then(change, change);
    proc.activityQueue = run.catch(() => {});
    return run;
  }

  /** Tears down a process that never became visible to clients (a failed create). */
  private async discard(proc: Proc): Promise<void> {
    this.table.delete(proc.pid);
    await callTransport('exit', () => this.transport.exit(proc.pid));
    await this.transport.unpublish(proc.pid);
    this.release(proc.mm);
  }

  async create(opts: CreateProcessOptions): Promise<ProcessSummary> {
    return this.table.admit(async () => {
      const { mm, comm } = newProcessImage(opts, this.mmOptions());
      this.charge(mm); // ENOMEM: the arena is dropped, nothing was shared or charged
      const proc = await this.publish(mm, comm);
      if (opts.activity) {
        try {
          await this.setActivityOf(proc, opts.activity);
        } catch (err) {
          await this.discard(proc); // EAGAIN changes nothing: no process either
          throw err;
        }
      }
      return this.table.summary(proc);
    });
  }

  async fork(pid: number): Promise<ProcessSummary> {
    const parent = this.get(pid);
    return this.table.admit(async () => {
      // The child is built on an engine thread: reserve what the parent holds first (a copy is
      // never bigger than its parent's arena), then charge what the child really took.
      const budget = this.shared.globals.budget;
      const reserve = parent.mm.commit.chargedBytes + PROCESS_BYTES;
      if (!budget.tryCharge(reserve)) throw budgetExhausted();
      let mm: MmStruct;
      try {
        mm = await callTransport('fork', () => this.transport.fork(pid));
      } finally {
        budget.release(reserve);
      }
      this.charge(mm, true);
      return this.table.summary(await this.publish(mm, parent.comm, undefined, pid));
    });
  }

  async exit(pid: number): Promise<void> {
    const p = this.get(pid);
    // Unlisted first: new requests for the pid get ESRCH while the address space is torn down.
    this.table.delete(pid);
    await this.setActivityOf(p, null);
    await callTransport('exit', () => this.transport.exit(pid));
    await this.transport.unpublish(pid);
    this.release(p.mm);
  }

  /** Refuses new processes and stops every activity (the sim is closing). */
  async close(): Promise<void> {
    this.table.closed = true;
    await Promise.all([...this.table.values()].map((p) => this.setActivityOf(p, null)));
  }
}
