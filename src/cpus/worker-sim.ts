/**
 * `WorkerSim`: the default `SimApi`. Address spaces live in SharedArrayBuffer arenas; reads and
 * mutations run on a pool of worker CPUs (cpu-worker.ts) and busy processes on activity threads
 * of their own (activity-worker.ts), all in parallel, so lock waits, retries and fallbacks come
 * from real contention. The event loop only builds new address spaces (not yet shared with any
 * other thread), keeps the pid table, dispatches, and streams replies.
 */
import { Instruments } from '../metrics/instruments.js';
import { errnoName } from '../mm/errno.js';
import { MmGlobals, MmStruct } from '../mm/mm-struct.js';
import { RcuDomain } from '../sync/rcu.js';
import { ActivityEventPump } from './activity-event-pump.js';
import { ActivityThread } from './activity-thread.js';
import { CpuPool, CpuRequestError, PoolSaturatedError } from './cpu-pool.js';
import type { EngineThreadData } from './cpu-worker.js';
import { buildTemplateProcess, COMM_MAX, newProcessImage, populationPlan } from './population.js';
import { ProcessTable } from './process-table.js';
import type { MapsReply, QueryReply } from './read-ops.js';
import { SharedConfig } from './shared-config.js';
import {
  type ActivitySpec,
  type ActivityStatus,
  type CreateProcessOptions,
  type DurableProcesses,
  type MapsReadOptions,
  type MutationListener,
  type ProcessDetail,
  type ProcessList,
  type ProcessSummary,
  type QueryArgs,
  type QueryOutcome,
  type ReadOptions,
  type SimApi,
  type SimConfig,
  SimError,
  type StrategyName,
  type SyscallCall,
  type SyscallResult,
} from './sim-api.js';

export interface WorkerSimOptions {
  strategy: StrategyName;
  /** Worker CPUs (>= 1). */
  cpus: number;
  maxProcesses: number;
  maxVmasPerProcess: number;
  maxBatch: number;
  /** Processes created at start (templates in rotation, a few with activities). */
  population: number;
  /** Pids are pidBase + 1 … (process-table.ts). */
  pidBase?: number;
  /** The simulated CPU has x86 protection keys (default false); a process may override it. */
  pkeys?: boolean;
  /** Requests in flight per CPU before new ones are refused with EBUSY (503). */
  maxInFlightPerCpu?: number;
}

const EBUSY = 16;

interface Proc {
  pid: number;
  comm: string;
  /** The event loop's view of the arena (read-only here once published). */
  mm: MmStruct;
  activity: ActivityThread | null;
}

function simError(errno: number, what: string): SimError {
  const name = errnoName(errno);
  return new SimError(errno, name, `${what}: ${name}`);
}

/** Maps a dispatch failure to the errno the HTTP layer answers with. */
function dispatchError(err: unknown, what: string): Error {
  if (err instanceof PoolSaturatedError) return new SimError(EBUSY, 'EBUSY', err.message);
  // A worker crash is not an errno: a plain Error, which the HTTP layer answers 500 and logs.
  if (err instanceof CpuRequestError && err.internal) {
    return new Error(`${what}: internal error on a worker CPU: ${err.message}`);
  }
  if (err instanceof CpuRequestError) return simError(err.errno, what);
  return err instanceof Error ? err : new Error(String(err));
}

export class WorkerSim implements SimApi {
  readonly instruments = Instruments.create();
  private readonly globals = MmGlobals.create();
  private readonly rcu = RcuDomain.create();
  private readonly config: SharedConfig;
  private readonly engineData: EngineThreadData;
  private readonly procs: ProcessTable<Proc>;
  private readonly listeners = new Set<MutationListener>();
  private readonly droppedListeners = new Set<(pid: number, count: number) => void>();
  /** Activity threads' mutations reach the listeners through their event rings. */
  private readonly events = new ActivityEventPump({
    activities: () => this.busyProcesses(),
    emit: (pid, call, r) => this.emit(pid, call, r < 0 ? simError(-r, call.op) : r),
    dropped: (pid, count) => {
      for (const l of this.droppedListeners) l(pid, count);
    },
  });
  private pool!: CpuPool;

  private constructor(private readonly opts: WorkerSimOptions) {
    this.procs = new ProcessTable(opts.maxProcesses, opts.pidBase);
    this.config = SharedConfig.create(opts.strategy);
    this.engineData = {
      globals: this.globals.buffers(),
      rcu: this.rcu.buffer,
      instruments: this.instruments.buffer,
      config: this.config.buffer,
    };
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
          const proc = await this.publish(p.mm, p.comm, p.pid);
          if (p.activity) proc.activity = this.startActivity(proc, p.activity);
        }
        this.procs.nextPid = nextPid;
      },
    };
  }

  /** Starts the worker CPUs and creates the built-in population. */
  static async start(opts: WorkerSimOptions): Promise<WorkerSim> {
    const sim = new WorkerSim(opts);
    sim.pool = await CpuPool.start({
      cpus: opts.cpus,
      workerUrl: new URL('./cpu-worker.js', import.meta.url),
      workerData: sim.engineData,
      maxInFlight: opts.maxInFlightPerCpu,
      onWorkerExit: (threadId) => sim.instruments.releaseBlocksOfThread(threadId),
    });
    for (const p of populationPlan(opts.population)) {
      const mm = buildTemplateProcess(p.template, { ...sim.mmOptions(), seed: p.seed });
      const proc = await sim.publish(mm, p.comm);
      if (p.activity) proc.activity = sim.startActivity(proc, p.activity);
    }
    return sim;
  }

  private mmOptions() {
    return {
      maxVmas: this.opts.maxVmasPerProcess,
      globals: this.globals,
      grace: this.rcu,
      pkeys: this.opts.pkeys ?? false,
    };
  }

  private get(pid: number): Proc {
    return this.procs.get(pid);
  }

  /** Hands a new arena to every CPU, then makes the pid visible. */
  private async publish(mm: MmStruct, comm: string, pid = this.procs.allocPid()): Promise<Proc> {
    await this.pool.broadcast('attach', { pid, buffer: mm.buffer });
    const proc: Proc = { pid, comm: comm.slice(0, COMM_MAX), mm, activity: null };
    return this.procs.add(proc);
  }

  private async run<T>(op: string, args: unknown, what: string): Promise<T> {
    try {
      return await this.pool.run<T>(op, args);
    } catch (err) {
      throw dispatchError(err, what);
    }
  }

  private summary(p: Proc): ProcessSummary {
    return this.procs.summary(p);
  }

  async listProcesses(offset: number, limit: number): Promise<ProcessList> {
    return this.procs.list(offset, limit);
  }

  async createProcess(opts: CreateProcessOptions): Promise<ProcessSummary> {
    this.procs.reserve();
    const { mm, comm } = newProcessImage(opts, this.mmOptions());
    const proc = await this.publish(mm, comm);
    if (opts.activity) proc.activity = this.startActivity(proc, opts.activity);
    return this.summary(proc);
  }

  async inspectProcess(pid: number): Promise<ProcessDetail> {
    const p = this.get(pid);
    return {
      ...this.summary(p),
      brkStart: p.mm.startBrk,
      brk: p.mm.brk,
      startStack: p.mm.startStack,
      pkeys: p.mm.pkeys,
      activity: p.activity?.status() ?? null,
    };
  }

  async forkProcess(pid: number): Promise<ProcessSummary> {
    const parent = this.get(pid);
    this.procs.reserve();
    const buffer = await this.run<SharedArrayBuffer>('fork', { pid }, 'fork');
    const child = await this.publish(MmStruct.attach(buffer, this.globals, this.rcu), parent.comm);
    return this.summary(child);
  }

  async exitProcess(pid: number): Promise<void> {
    const p = this.get(pid);
    // Unlisted first: new requests for the pid get ESRCH while the address space is torn down.
    this.procs.delete(pid);
    if (p.activity) await this.retireActivity(pid, p.activity);
    await this.run('exit', { pid }, 'exit');
    await this.pool.broadcast('detach', { pid });
  }

  private startActivity(p: Proc, spec: ActivitySpec): ActivityThread {
    return new ActivityThread(spec, p.mm.buffer, this.engineData, p.pid, this.events.gate);
  }

  /** Stops an activity and delivers the events it recorded before it stopped. */
  private async retireActivity(pid: number, a: ActivityThread): Promise<void> {
    await a.stop();
    this.events.flush(pid, a);
  }

  private *busyProcesses(): Iterable<{ pid: number; activity: ActivityThread }> {
    for (const p of this.procs.values()) if (p.activity) yield { pid: p.pid, activity: p.activity };
  }

  private emit(pid: number, call: SyscallCall, result: SyscallResult): void {
    for (const l of this.listeners) l({ pid, call, result });
  }

  async setActivity(pid: number, spec: ActivitySpec): Promise<ActivityStatus> {
    const p = this.get(pid);
    const old = p.activity;
    p.activity = null;
    if (old) await this.retireActivity(pid, old);
    p.activity = this.startActivity(p, spec);
    return p.activity.status();
  }

  async getActivity(pid: number): Promise<ActivityStatus | null> {
    return this.get(pid).activity?.status() ?? null;
  }

  async stopActivity(pid: number): Promise<boolean> {
    const p = this.get(pid);
    const a = p.activity;
    if (!a) return false;
    p.activity = null;
    await this.retireActivity(pid, a);
    return true;
  }

  async readMaps(pid: number, opts: MapsReadOptions): Promise<AsyncIterable<Uint8Array>> {
    this.get(pid);
    const strategy = opts.strategy ?? null;
    const trace = opts.chunkStats !== undefined;
    const reply = await this.run<MapsReply>(
      'maps',
      { pid, strategy, chunk: opts.chunk, trace },
      'maps',
    );
    if (reply.stats) for (const n of reply.stats) opts.chunkStats?.push(n);
    const bytes = new Uint8Array(reply.bytes);
    return (async function* chunks() {
      let from = 0;
      for (const end of reply.ends) {
        yield bytes.subarray(from, end);
        from = end;
      }
    })();
  }

  async query(
    pid: number,
    opts: ReadOptions,
    queries: readonly QueryArgs[],
  ): Promise<QueryOutcome[]> {
    this.get(pid);
    const replies = await this.run<QueryReply[]>(
      'query',
      { pid, strategy: opts.strategy ?? null, queries },
      'PROCMAP_QUERY',
    );
    return replies.map((r) => (typeof r === 'number' ? simError(r, 'PROCMAP_QUERY') : r));
  }

  async syscalls(pid: number, calls: readonly SyscallCall[]): Promise<SyscallResult[]> {
    this.get(pid);
    const raw = await this.run<number[]>('mutate', { pid, calls }, 'syscalls');
    const results = raw.map((r, i) => (r < 0 ? simError(-r, calls[i].op) : r));
    if (this.listeners.size > 0) {
      for (let i = 0; i < results.length; i++) this.emit(pid, calls[i], results[i]);
    }
    return results;
  }

  getConfig(): SimConfig {
    return {
      strategy: this.config.strategy,
      cpus: this.opts.cpus,
      maxProcesses: this.opts.maxProcesses,
      maxVmasPerProcess: this.opts.maxVmasPerProcess,
      maxBatch: this.opts.maxBatch,
      pkeys: this.opts.pkeys ?? false,
    };
  }

  setStrategy(strategy: StrategyName): void {
    this.config.strategy = strategy;
  }

  onMutation(listener: MutationListener): () => void {
    this.listeners.add(listener);
    this.events.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.events.stop();
    };
  }

  /**
   * Activity events lost because a busy process's event ring was full (the consumer drains it
   * every few ms; a process faster than that loses records rather than stalling anything).
   */
  onEventsDropped(listener: (pid: number, count: number) => void): () => void {
    this.droppedListeners.add(listener);
    return () => {
      this.droppedListeners.delete(listener);
    };
  }

  gauges() {
    return this.procs.gauges();
  }

  async close(): Promise<void> {
    if (this.procs.closed) return;
    this.procs.closed = true;
    await Promise.all([...this.procs.values()].map((p) => p.activity?.stop()));
    this.events.stop();
    this.listeners.clear();
    this.droppedListeners.clear();
    await this.pool.close();
  }
}
