/**
 * `Sim`: the one `SimApi`. It owns the process table (pids, limit, comm, activities), builds new
 * address spaces on the event loop (not yet shared with any thread), maps engine errnos to
 * `SimError`s and replies to the API's shapes, and reports mutations to listeners. The engine
 * itself runs behind a transport (transport.ts): on the event loop (`--cpus 0`) or on worker CPUs
 * (`--cpus N`) — the same handlers either way, so both give the same answers and counts.
 */
import { Instruments } from '../metrics/instruments.js';
import type { EngineGauges } from '../metrics/registry.js';
import { MAX_ANON_NAME_SLOTS } from '../mm/anon-names.js';
import { IMMEDIATE_GRACE } from '../mm/deferred-free.js';
import { EBUSY, ENOMEM, ESRCH } from '../mm/errno.js';
import { MmGlobals, type MmStruct } from '../mm/mm-struct.js';
import { FAULT_RESERVE, RECORD_BYTES } from '../mm/pages/page-pool.js';
import type { ThpMode } from '../mm/pages/thp.js';
import { RcuDomain } from '../sync/rcu.js';
import { ActivityAdmission, defaultMaxActivities, rcuSlotsFor } from './activity-admission.js';
import { CpuRequestError, PoolSaturatedError } from './cpu-pool.js';
import { OpError } from './cpu-protocol.js';
import type { QueryReply } from './engine.js';
import { withEventLoopReads } from './event-loop-reads.js';
import { inProcessTransport } from './in-process-transport.js';
import { PROCESS_VIEW_BYTES } from './memory-limit.js';
import { buildTemplateProcess, COMM_MAX, newProcessImage, populationPlan } from './population.js';
import { ProcessTable } from './process-table.js';
import { SharedConfig } from './shared-config.js';
import {
  type ActivitySpec,
  type ActivityStatus,
  type AddressBatch,
  type CreateProcessOptions,
  type DurableProcesses,
  type MapsReadOptions,
  type MemoryGauge,
  type MutationListener,
  type ProcessDetail,
  type ProcessList,
  type ProcessSummary,
  type ProcFileName,
  type QueryArgs,
  type QueryColumns,
  type QueryOutcome,
  type ReadOptions,
  type ReadsOn,
  type SharedTableLimits,
  type SimApi,
  type SimConfig,
  SimError,
  type StrategyName,
  type SyscallCall,
  type SyscallResult,
} from './sim-api.js';
import {
  type ActivityRun,
  ActivityStartError,
  type EngineShared,
  type EngineTransport,
  type TransportEvents,
} from './transport.js';
import { startWorkerTransport } from './worker-transport.js';

export interface SimOptions {
  strategy: StrategyName;
  /** Worker CPUs; 0 = the engine runs on the event loop. */
  cpus: number;
  /**
   * With worker CPUs: reads on the event loop (default; event-loop-reads.ts) or dispatched to
   * the workers like mutations.
   */
  reads?: ReadsOn;
  maxProcesses: number;
  maxVmasPerProcess: number;
  maxBatch: number;
  /** Processes created at start (templates in rotation, a few with activities). */
  population: number;
  /** Pids are pidBase + 1 … (process-table.ts). */
  pidBase?: number;
  /** The simulated CPU has x86 protection keys (default false); a process may override it. */
  pkeys?: boolean;
  /**
   * Read faults on private anonymous memory allocate a page instead of mapping the shared zero
   * page (default false: Linux's rule; the server follows the host, machine-caps.ts).
   */
  noZeroPage?: boolean;
  /** The simulated kernel's THP mode (default `madvise`, the reference host's; src/mm/pages/thp.ts). */
  thp?: ThpMode;
  /** Requests in flight per worker CPU before new ones are refused with EBUSY (503). */
  maxInFlightPerCpu?: number;
  /** Activities running at once (EAGAIN beyond); 0 or absent: `defaultMaxActivities(cpus)`. */
  maxActivities?: number;
  /** --max-memory in bytes: arenas, per-process views and activities (default: no limit). */
  maxMemory?: number;
  /** RCU reader slots (tests only: default room for every CPU and `maxActivities` threads). */
  rcuSlots?: number;
}

interface Proc {
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

/** Maps a transport failure to the errno the HTTP layer answers with. */
function transportError(err: unknown, what: string): Error {
  if (err instanceof PoolSaturatedError) return new SimError(EBUSY, 'EBUSY', err.message);
  // A crash on a worker CPU is not an errno: a plain Error, which the HTTP layer answers 500.
  if (err instanceof CpuRequestError && err.internal) {
    return new Error(`${what}: internal error on a worker CPU: ${err.message}`);
  }
  if (err instanceof OpError) return SimError.of(err.errno, what);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The failed PROCMAP_QUERY of an errno: one immutable SimError per errno, made once (an Error
 * captures a stack when made, several µs; a batch may fail thousands of lookups).
 */
const queryErrors = new Map<number, SimError>();
function queryError(errno: number): SimError {
  let e = queryErrors.get(errno);
  if (e === undefined) {
    e = SimError.of(errno, 'PROCMAP_QUERY');
    queryErrors.set(errno, e);
  }
  return e;
}

/**
 * Page-state records to reserve: enough for the whole memory budget to be page state (records
 * are charged to it as they are used, so the budget, not the pool, is the limit a client meets),
 * plus the records kept for syscalls, at least 64 Ki records, at most 2^27 - 2^16 (just under the
 * 4 GiB a growable SharedArrayBuffer may have: reserved, not committed); 2 Mi without a budget.
 */
export function pageRecordsFor(maxMemory: number | undefined): number {
  if (maxMemory === undefined || !Number.isFinite(maxMemory)) return 1 << 21;
  const records = Math.ceil(maxMemory / RECORD_BYTES) + 2 * FAULT_RESERVE;
  return Math.min((1 << 27) - (1 << 16), Math.max(1 << 16, records));
}

export class Sim implements SimApi {
  readonly instruments: Instruments;
  private readonly shared: EngineShared;
  private readonly procs: ProcessTable<Proc>;
  private readonly listeners = new Set<MutationListener>();
  private readonly droppedListeners = new Set<(pid: number, count: number) => void>();
  private readonly diedListeners = new Set<(pid: number, reason: string) => void>();
  /** Activities that died by themselves after they started (procfs_activities_died_total). */
  private activitiesDied = 0;
  private transport!: EngineTransport;
  private readonly readsOn: ReadsOn;
  readonly activities: ActivityAdmission;

  private constructor(private readonly opts: SimOptions) {
    this.procs = new ProcessTable(opts.maxProcesses, opts.pidBase);
    this.readsOn = opts.cpus === 0 ? 'event-loop' : (opts.reads ?? 'event-loop');
    // In-process, the event loop is the only recording thread.
    this.instruments = Instruments.create(opts.cpus === 0 ? { capacity: 4 } : {});
    // 0 = computed, as --max-activities 0 means (a ServiceConfig spread into the options).
    const globals = MmGlobals.create({
      pageRecords: pageRecordsFor(opts.maxMemory),
      // As many live anon names as a handle can name (1 Mi: one per VMA of 1M VMAs), charged to
      // the budget as used: a client meets --max-memory before it can starve the others.
      anonNameSlots: MAX_ANON_NAME_SLOTS,
      maxMemory: opts.maxMemory,
    });
    this.activities = new ActivityAdmission(
      opts.maxActivities || defaultMaxActivities(opts.cpus),
      globals.budget,
    );
    this.shared = {
      globals,
      rcu: RcuDomain.create(opts.rcuSlots ?? rcuSlotsFor(opts.cpus, this.activities.max)),
      instruments: this.instruments,
      config: SharedConfig.create(opts.strategy),
    };
  }

  /** Starts the engine threads (if any) and creates the built-in population. */
  static async start(opts: SimOptions): Promise<Sim> {
    const sim = new Sim(opts);
    const events: TransportEvents = {
      mutation: (pid, call, r) => sim.emit(pid, call, r < 0 ? SimError.ofCall(call, r) : r),
      dropped: (pid, count) => {
        for (const l of sim.droppedListeners) l(pid, count);
      },
      activityDied: (pid, reason) => {
        sim.activitiesDied++;
        for (const l of sim.diedListeners) l(pid, reason);
      },
    };
    if (opts.cpus === 0) sim.transport = inProcessTransport(sim.shared, events);
    else {
      const workers = await startWorkerTransport(sim.shared, events, {
        cpus: opts.cpus,
        maxInFlightPerCpu: opts.maxInFlightPerCpu,
      });
      sim.transport =
        sim.readsOn === 'event-loop' ? withEventLoopReads(sim.shared, workers) : workers;
    }
    for (const p of populationPlan(opts.population)) {
      const mm = buildTemplateProcess(p.template, { ...sim.mmOptions(), seed: p.seed });
      sim.chargeProcess(mm, true);
      const proc = await sim.publish(mm, p.comm);
      // Beyond --max-activities the process stays idle (the refusal is counted).
      if (p.activity) await sim.setActivityOf(proc, p.activity).catch(() => {});
    }
    return sim;
  }

  /** Snapshot and restore access (src/state). */
  get durable(): DurableProcesses {
    return {
      pidBase: this.procs.pidBase,
      processes: () => [...this.procs.values()],
      nextPid: () => this.procs.nextPid,
      mmOptions: () => this.mmOptions(),
      adopt: async (procs, nextPid) => {
        for (const p of procs) {
          this.chargeProcess(p.mm, true);
          const proc = await this.publish(p.mm, p.comm, p.pid);
          // Beyond --max-activities the process is restored idle (the refusal is counted).
          if (p.activity) await this.setActivityOf(proc, p.activity).catch(() => {});
        }
        this.procs.nextPid = nextPid;
      },
    };
  }

  /**
   * Options for building a new address space on the event loop. It is not shared with any thread
   * until `publish`, so it is built with IMMEDIATE_GRACE (replaced index nodes are reused at once:
   * the arena's high-water marks, its resident pages, stay what it holds); `publish` hands it the
   * RCU before any other thread sees it.
   */
  private mmOptions() {
    const pkeys = this.opts.pkeys ?? false;
    const noZeroPage = this.opts.noZeroPage ?? false;
    const { globals } = this.shared;
    return {
      maxVmas: this.opts.maxVmasPerProcess,
      globals,
      grace: IMMEDIATE_GRACE,
      pkeys,
      noZeroPage,
      thp: this.opts.thp ?? 'madvise',
    };
  }

  private get(pid: number): Proc {
    return this.procs.get(pid);
  }

  /** A process's fixed cost under --max-memory: its views on the engine threads. */
  private get processBytes(): number {
    return PROCESS_VIEW_BYTES;
  }

  /**
   * Charges a built, not yet shared arena and the process's fixed cost to the memory budget and
   * makes its view strict; ENOMEM (nothing charged) past --max-memory unless `force` (restores
   * and the start-up population, which nobody could retry).
   */
  private chargeProcess(mm: MmStruct, force = false): void {
    if (mm.commit.admit(this.processBytes, force)) return;
    throw new SimError(ENOMEM, 'ENOMEM', 'memory budget (--max-memory) exhausted');
  }

  /** Gives back what a process was charged (its arena is freed: exit, or a discarded create). */
  private releaseProcess(mm: MmStruct): void {
    mm.commit.releaseAll();
    this.shared.globals.budget.release(this.processBytes);
  }

  /** Hands a new arena to every engine thread, then makes the pid visible. */
  private async publish(
    mm: MmStruct,
    comm: string,
    pid = this.procs.allocPid(),
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
    return this.procs.add(proc);
  }

  /**
   * Replaces `proc`'s activity with `spec` (null: none), after the changes queued before it. A
   * new activity takes a place under --max-activities and waits until its thread runs: EAGAIN
   * (counted) at the limit or if the thread cannot start, and the process is then left without
   * an activity. ESRCH if the process exited meanwhile.
   */
  private setActivityOf(proc: Proc, spec: ActivitySpec | null): Promise<ActivityRun | null> {
    const change = async (): Promise<ActivityRun | null> => {
      const old = proc.activity;
      if (old) {
        proc.activity = null;
        await old.stop();
        this.activities.release();
      }
      if (spec === null) return old;
      if (this.procs.find(proc.pid) !== proc) {
        throw new SimError(ESRCH, 'ESRCH', `no process with pid ${proc.pid}`);
      }
      this.activities.admit();
      try {
        proc.activity = await this.transport.startActivity(proc.pid, proc.mm, spec);
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
    this.procs.delete(proc.pid);
    await this.call('exit', () => this.transport.exit(proc.pid));
    await this.transport.unpublish(proc.pid);
    this.releaseProcess(proc.mm);
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw transportError(err, what);
    }
  }

  private emit(pid: number, call: SyscallCall, result: SyscallResult): void {
    for (const l of this.listeners) l({ pid, call, result });
  }

  async listProcesses(offset: number, limit: number): Promise<ProcessList> {
    return this.procs.list(offset, limit);
  }

  async createProcess(opts: CreateProcessOptions): Promise<ProcessSummary> {
    return this.procs.admit(async () => {
      const { mm, comm } = newProcessImage(opts, this.mmOptions());
      this.chargeProcess(mm); // ENOMEM: the arena is dropped, nothing was shared or charged
      const proc = await this.publish(mm, comm);
      if (opts.activity) {
        try {
          await this.setActivityOf(proc, opts.activity);
        } catch (err) {
          await this.discard(proc); // EAGAIN changes nothing: no process either
          throw err;
        }
      }
      return this.procs.summary(proc);
    });
  }

  async inspectProcess(pid: number): Promise<ProcessDetail> {
    const p = this.get(pid);
    return {
      ...this.procs.summary(p),
      brkStart: p.mm.startBrk,
      brk: p.mm.brk,
      startStack: p.mm.startStack,
      pkeys: p.mm.pkeys,
      activity: p.activity?.status() ?? null,
    };
  }

  async forkProcess(pid: number): Promise<ProcessSummary> {
    const parent = this.get(pid);
    return this.procs.admit(async () => {
      // The child is built on an engine thread: reserve what the parent holds first (a copy is
      // never bigger than its parent's arena), then charge what the child really took.
      const budget = this.shared.globals.budget;
      const reserve = parent.mm.commit.chargedBytes + this.processBytes;
      if (!budget.tryCharge(reserve)) {
        throw new SimError(ENOMEM, 'ENOMEM', 'memory budget (--max-memory) exhausted');
      }
      let mm: MmStruct;
      try {
        mm = await this.call('fork', () => this.transport.fork(pid));
      } finally {
        budget.release(reserve);
      }
      this.chargeProcess(mm, true);
      return this.procs.summary(await this.publish(mm, parent.comm, undefined, pid));
    });
  }

  async exitProcess(pid: number): Promise<void> {
    const p = this.get(pid);
    // Unlisted first: new requests for the pid get ESRCH while the address space is torn down.
    this.procs.delete(pid);
    await this.setActivityOf(p, null);
    await this.call('exit', () => this.transport.exit(pid));
    await this.transport.unpublish(pid);
    this.releaseProcess(p.mm);
  }

  async setActivity(pid: number, spec: ActivitySpec): Promise<ActivityStatus> {
    const run = await this.setActivityOf(this.get(pid), spec);
    if (run === null) throw new Error('setActivity: no activity started');
    return run.status();
  }

  async getActivity(pid: number): Promise<ActivityStatus | null> {
    return this.get(pid).activity?.status() ?? null;
  }

  async stopActivity(pid: number): Promise<boolean> {
    return (await this.setActivityOf(this.get(pid), null)) !== null;
  }

  async readMaps(pid: number, opts: MapsReadOptions): Promise<AsyncIterable<Uint8Array>> {
    this.get(pid);
    const req = { pid, strategy: opts.strategy ?? null, chunk: opts.chunk };
    return this.call('maps', () => this.transport.maps(req, opts.chunkStats));
  }

  async readProcFile(
    pid: number,
    file: ProcFileName,
    opts: { chunk: number },
  ): Promise<AsyncIterable<Uint8Array>> {
    const p = this.get(pid);
    const req = { pid, file, chunk: opts.chunk, identity: { pid, ppid: p.ppid, comm: p.comm } };
    return this.call(file, () => this.transport.procFile(req));
  }

  async query(
    pid: number,
    opts: ReadOptions,
    queries: readonly QueryArgs[],
  ): Promise<QueryOutcome[]> {
    this.get(pid);
    const req = { pid, strategy: opts.strategy ?? null, queries };
    let replies: QueryReply[];
    try {
      replies = await this.transport.query(req); // inline `call`: one promise layer less
    } catch (err) {
      throw transportError(err, 'PROCMAP_QUERY');
    }
    return replies.map((r) => (typeof r === 'number' ? queryError(r) : r));
  }

  async queryColumns(pid: number, opts: ReadOptions, batch: AddressBatch): Promise<QueryColumns> {
    this.get(pid);
    const req = { pid, strategy: opts.strategy ?? null, ...batch };
    return this.call('PROCMAP_QUERY', () => this.transport.queryColumns(req));
  }

  async syscalls(pid: number, calls: readonly SyscallCall[]): Promise<SyscallResult[]> {
    this.get(pid);
    const raw = await this.call('syscalls', () => this.transport.mutate({ pid, calls }));
    const results = raw.map((r, i) => (r < 0 ? SimError.ofCall(calls[i], r) : r));
    if (this.listeners.size > 0) {
      for (let i = 0; i < results.length; i++) this.emit(pid, calls[i], results[i]);
    }
    return results;
  }

  getConfig(): SimConfig {
    return {
      strategy: this.shared.config.strategy,
      cpus: this.transport.cpus,
      reads: this.readsOn,
      maxProcesses: this.opts.maxProcesses,
      maxVmasPerProcess: this.opts.maxVmasPerProcess,
      maxBatch: this.opts.maxBatch,
      pkeys: this.opts.pkeys ?? false,
      thp: this.opts.thp ?? 'madvise',
      memory: this.memoryGauge(),
      maxActivities: this.activities.max,
      tables: this.tableLimits(),
    };
  }

  private tableLimits(): SharedTableLimits {
    const g = this.shared.globals;
    const files = g.files.usage();
    return {
      fileEntries: files.capacity,
      filePathBytes: files.heapBytes,
      anonNames: g.anonNames.capacity - 1,
      pageRecords: g.pages.capacity - 1,
    };
  }

  private memoryGauge(): MemoryGauge {
    const b = this.shared.globals.budget;
    return { limitBytes: b.limitBytes, usedBytes: b.usedBytes, refused: b.refusals };
  }

  setStrategy(strategy: StrategyName): void {
    this.shared.config.strategy = strategy;
  }

  onMutation(listener: MutationListener): () => void {
    this.listeners.add(listener);
    this.transport.setEventsWanted(true);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.transport.setEventsWanted(false);
    };
  }

  /**
   * Activity events lost because a busy process's event ring was full (worker CPUs: the event
   * loop drains the rings every few ms; a process faster than that loses records rather than
   * stalling anything).
   */
  onEventsDropped(listener: (pid: number, count: number) => void): () => void {
    this.droppedListeners.add(listener);
    return () => {
      this.droppedListeners.delete(listener);
    };
  }

  onActivityDied(listener: (pid: number, reason: string) => void): () => void {
    this.diedListeners.add(listener);
    return () => {
      this.diedListeners.delete(listener);
    };
  }

  gauges(): EngineGauges {
    return {
      ...this.procs.gauges(),
      activities: this.activities.running,
      activitiesDied: this.activitiesDied,
      activitiesRefused: this.activities.refused(),
      fileTable: this.shared.globals.files.usage(),
      memory: this.memoryGauge(),
    };
  }

  async close(): Promise<void> {
    if (this.procs.closed) return;
    this.procs.closed = true;
    await Promise.all([...this.procs.values()].map((p) => this.setActivityOf(p, null)));
    this.transport.setEventsWanted(false);
    this.listeners.clear();
    this.droppedListeners.clear();
    await this.transport.close();
  }
}
