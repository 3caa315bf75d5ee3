/**
 * `Sim`: the one `SimApi`. Process handling (pid table, new address spaces built on the event
 * loop, budget charges, activities) is `SimProcesses` (sim-processes.ts); this class starts the
 * transport, serves the reads and mutations, maps engine errnos to `SimError`s (sim-errors.ts),
 * reports mutations to listeners (sim-listeners.ts) and answers the config and gauge views. The
 * engine itself runs behind a transport (transport.ts): on the event loop (`--cpus 0`) or on
 * worker CPUs (`--cpus N`) — the same handlers either way, so both give the same answers and
 * counts.
 */
import type { Instruments } from '../metrics/instruments.js';
import type { EngineGauges } from '../metrics/registry.js';
import type { ActivityAdmission } from './activity-admission.js';
import type { QueryReply } from './engine.js';
import { withEventLoopReads } from './event-loop-reads.js';
import { inProcessTransport } from './in-process-transport.js';
import { type MapsRead, ReadPieces } from './read-pieces.js';
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
  type SharedTableLimits,
  type SimApi,
  type SimConfig,
  SimError,
  type StrategyName,
  type SyscallCall,
  type SyscallResult,
} from './sim-api.js';
import { callTransport, queryError, transportError } from './sim-errors.js';
import { SimListeners } from './sim-listeners.js';
import { createSimShared, readsOnFor, type SimOptions } from './sim-options.js';
import { SimProcesses } from './sim-processes.js';
import type { EngineShared, EngineTransport, TransportEvents } from './transport.js';
import { startWorkerTransport } from './worker-transport.js';

export { pageRecordsFor, type SimOptions } from './sim-options.js';

/** The transport `opts` asks for: in-process, or worker CPUs (reads on the event loop or not). */
async function startTransport(
  opts: SimOptions,
  shared: EngineShared,
  events: TransportEvents,
): Promise<EngineTransport> {
  if (opts.cpus === 0) return inProcessTransport(shared, events);
  const workers = await startWorkerTransport(shared, events, {
    cpus: opts.cpus,
    maxInFlightPerCpu: opts.maxInFlightPerCpu,
  });
  return readsOnFor(opts) === 'event-loop' ? withEventLoopReads(shared, workers) : workers;
}

export class Sim implements SimApi {
  readonly instruments: Instruments;
  private readonly processes: SimProcesses;

  private constructor(
    private readonly opts: SimOptions,
    private readonly shared: EngineShared,
    readonly activities: ActivityAdmission,
    private readonly listeners: SimListeners,
    private readonly transport: EngineTransport,
  ) {
    this.instruments = shared.instruments;
    this.processes = new SimProcesses(opts, shared, activities, transport);
  }

  /** Starts the engine threads (if any) and creates the built-in population. */
  static async start(opts: SimOptions): Promise<Sim> {
    const { shared, activities } = createSimShared(opts);
    const listeners = new SimListeners();
    const transport = await startTransport(opts, shared, listeners.transportEvents());
    const sim = new Sim(opts, shared, activities, listeners, transport);
    await sim.processes.populate(opts.population);
    return sim;
  }

  /** Snapshot and restore access (src/state). */
  get durable(): DurableProcesses {
    return this.processes.durable();
  }

  async listProcesses(offset: number, limit: number): Promise<ProcessList> {
    return this.processes.table.list(offset, limit);
  }

  createProcess(opts: CreateProcessOptions): Promise<ProcessSummary> {
    return this.processes.create(opts);
  }

  async inspectProcess(pid: number): Promise<ProcessDetail> {
    const p = this.processes.get(pid);
    return {
      ...this.processes.table.summary(p),
      brkStart: p.mm.startBrk,
      brk: p.mm.brk,
      startStack: p.mm.startStack,
      pkeys: p.mm.pkeys,
      activity: p.activity?.status() ?? null,
    };
  }

  forkProcess(pid: number): Promise<ProcessSummary> {
    return this.processes.fork(pid);
  }

  exitProcess(pid: number): Promise<void> {
    return this.processes.exit(pid);
  }

  async setActivity(pid: number, spec: ActivitySpec): Promise<ActivityStatus> {
    const run = await this.processes.setActivityOf(this.processes.get(pid), spec);
    if (run === null) throw new Error('setActivity: no activity started');
    return run.status();
  }

  async getActivity(pid: number): Promise<ActivityStatus | null> {
    return this.processes.get(pid).activity?.status() ?? null;
  }

  async stopActivity(pid: number): Promise<boolean> {
    return (await this.processes.setActivityOf(this.processes.get(pid), null)) !== null;
  }

  /** Not async: a read the event loop finished at once comes back as it is (`MapsRead`). */
  readMaps(pid: number, opts: MapsReadOptions): MapsRead {
    let read: MapsRead;
    try {
      this.processes.get(pid);
      read = this.transport.maps(
        { pid, strategy: opts.strategy ?? null, chunk: opts.chunk },
        opts.chunkStats,
      );
    } catch (err) {
      return Promise.reject(transportError(err, 'maps'));
    }
    if (read instanceof ReadPieces) return read;
    return read.catch((err: unknown) => {
      throw transportError(err, 'maps');
    });
  }

  async readProcFile(
    pid: number,
    file: ProcFileName,
    opts: { chunk: number },
  ): Promise<AsyncIterable<Uint8Array>> {
    const p = this.processes.get(pid);
    const req = { pid, file, chunk: opts.chunk, identity: { pid, ppid: p.ppid, comm: p.comm } };
    return callTransport(file, () => this.transport.procFile(req));
  }

  /** Not async: a batch the event loop answered at once comes back as it is. */
  query(
    pid: number,
    opts: ReadOptions,
    queries: readonly QueryArgs[],
  ): QueryOutcome[] | Promise<QueryOutcome[]> {
    let replies: QueryReply[] | Promise<QueryReply[]>;
    try {
      this.processes.get(pid);
      replies = this.transport.query({ pid, strategy: opts.strategy ?? null, queries });
    } catch (err) {
      return Promise.reject(transportError(err, 'PROCMAP_QUERY'));
    }
    if (!(replies instanceof Promise)) return outcomesOf(replies);
    return replies.then(outcomesOf, (err: unknown) => {
      throw transportError(err, 'PROCMAP_QUERY');
    });
  }

  async queryColumns(pid: number, opts: ReadOptions, batch: AddressBatch): Promise<QueryColumns> {
    this.processes.get(pid);
    const req = { pid, strategy: opts.strategy ?? null, ...batch };
    return callTransport('PROCMAP_QUERY', () => this.transport.queryColumns(req));
  }

  async syscalls(pid: number, calls: readonly SyscallCall[]): Promise<SyscallResult[]> {
    this.processes.get(pid);
    const raw = await callTransport('syscalls', () => this.transport.mutate({ pid, calls }));
    const results = raw.map((r, i) => (r < 0 ? SimError.ofCall(calls[i], r) : r));
    if (this.listeners.mutation.size > 0) {
      for (let i = 0; i < results.length; i++) this.listeners.emit(pid, calls[i], results[i]);
    }
    return results;
  }

  getConfig(): SimConfig {
    return {
      strategy: this.shared.config.strategy,
      cpus: this.transport.cpus,
      reads: readsOnFor(this.opts),
      maxProcesses: this.processes.table.maxProcesses,
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
      charges: {
        fileEntry: g.files.charges.entry,
        filePathByte: g.files.charges.heapByte,
        anonName: g.anonNames.slotCharge,
        pageRecord: g.pages.recordCharge,
      },
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
    const mutation = this.listeners.mutation;
    mutation.add(listener);
    this.transport.setEventsWanted(true);
    return () => {
      mutation.delete(listener);
      if (mutation.size === 0) this.transport.setEventsWanted(false);
    };
  }

  /**
   * Activity events lost because a busy process's event ring was full (worker CPUs: the event
   * loop drains the rings every few ms; a process faster than that loses records rather than
   * stalling anything).
   */
  onEventsDropped(listener: (pid: number, count: number) => void): () => void {
    return this.listeners.onDropped(listener);
  }

  onActivityDied(listener: (pid: number, reason: string) => void): () => void {
    return this.listeners.onDied(listener);
  }

  gauges(): EngineGauges {
    return {
      ...this.processes.table.gauges(),
      activities: this.activities.running,
      activitiesDied: this.listeners.activitiesDied,
      activitiesRefused: this.activities.refused(),
      fileTable: this.shared.globals.files.usage(),
      anonNames: this.shared.globals.anonNames.usage(),
      memory: this.memoryGauge(),
    };
  }

  async close(): Promise<void> {
    if (this.processes.table.closed) return;
    await this.processes.close();
    this.transport.setEventsWanted(false);
    this.listeners.clear();
    await this.transport.close();
  }
}

/** The engine's replies as the API answers them (an errno as its shared SimError). */
function outcomesOf(replies: QueryReply[]): QueryOutcome[] {
  return replies.map((r) => (typeof r === 'number' ? queryError(r) : r));
}
