/**
 * `LocalSim`: the `SimApi` that runs the engine in-process, on the event loop (`--cpus 0`, and the
 * inject/e2e tests). Everything runs single-threaded, so a syscall is atomic with respect to every
 * other request; maps reads still come out chunk by chunk, one chunk per event-loop turn, so
 * mutations (and activities) can land between chunks exactly where a real reader would drop its
 * locks between read() calls. Strategies are accepted and recorded in the metrics, but with one
 * thread there is nothing to race with: the worker-CPU sim (issue 3) is where they differ.
 */

import { nowNs } from '../metrics/clock.js';
import { type InstrumentRecorder, Instruments } from '../metrics/instruments.js';
import { readOpId, strategyId } from '../metrics/labels.js';
import { errnoName } from '../mm/errno.js';
import { MmGlobals, type MmStruct } from '../mm/mm-struct.js';
import type { WriterEnv } from '../mm/mm-writer.js';
import { CHUNK_STATS_WIDTH } from '../procfs/chunk-stats.js';
import { MapsCursor } from '../procfs/maps-text.js';
import { ProcmapQueryResult, procmapQuery, queryArgs } from '../procfs/procmap-query.js';
import { directMapsWalker, directQueryTarget } from '../procfs/vma-capture.js';
import { RcuDomain } from '../sync/rcu.js';
import { LocalActivity } from './local-activity.js';
import { buildTemplateProcess, COMM_MAX, newProcessImage, populationPlan } from './population.js';
import { ProcessTable } from './process-table.js';
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
import { execExit, execFork, execSyscall } from './syscall-exec.js';

const EMPTY_CHUNK_STATS: readonly number[] = new Array(CHUNK_STATS_WIDTH).fill(0);

export interface LocalSimOptions {
  strategy: StrategyName;
  maxProcesses: number;
  maxVmasPerProcess: number;
  maxBatch: number;
  /** Processes created at start (templates in rotation, a few with activities). */
  population: number;
  /** Pids are pidBase + 1 … (process-table.ts). */
  pidBase?: number;
  /** The simulated CPU has x86 protection keys (default false); a process may override it. */
  pkeys?: boolean;
}

interface LocalProcess {
  pid: number;
  comm: string;
  mm: MmStruct;
  activity: LocalActivity | null;
}

function errnoError(negErrno: number, what: string): SimError {
  const name = errnoName(-negErrno);
  return new SimError(-negErrno, name, `${what}: ${name}`);
}

export class LocalSim implements SimApi {
  readonly instruments = Instruments.create({ capacity: 4 });
  private readonly recorder: InstrumentRecorder = this.instruments.recorder();
  private readonly globals = MmGlobals.create();
  /**
   * Grace periods for deferred frees. With one thread no reader is ever inside a read section
   * when a writer runs, so they end at once; the writer protocol still requires a domain.
   */
  private readonly rcu = RcuDomain.create();
  private readonly procs: ProcessTable<LocalProcess>;
  private readonly listeners = new Set<MutationListener>();
  private readonly queryOut = new ProcmapQueryResult();
  private strategy: StrategyName;

  constructor(private readonly opts: LocalSimOptions) {
    this.procs = new ProcessTable(opts.maxProcesses, opts.pidBase);
    this.strategy = opts.strategy;
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
          const proc = this.add(p.mm, p.comm, p.pid);
          if (p.activity) proc.activity = this.startActivity(proc, p.activity);
        }
        this.procs.nextPid = nextPid;
      },
    };
  }

  /** Creates the built-in population (see population.ts). */
  populate(): void {
    for (const p of populationPlan(this.opts.population)) {
      const mm = buildTemplateProcess(p.template, { ...this.mmOptions(), seed: p.seed });
      const proc = this.add(mm, p.comm);
      if (p.activity) proc.activity = this.startActivity(proc, p.activity);
    }
  }

  private mmOptions() {
    return {
      maxVmas: this.opts.maxVmasPerProcess,
      globals: this.globals,
      grace: this.rcu,
      pkeys: this.opts.pkeys ?? false,
    };
  }

  private writerEnv(): WriterEnv {
    return { recorder: this.recorder, strategy: strategyId(this.strategy) };
  }

  private get(pid: number): LocalProcess {
    return this.procs.get(pid);
  }

  private add(mm: MmStruct, comm: string, pid = this.procs.allocPid()): LocalProcess {
    return this.procs.add({ pid, comm: comm.slice(0, COMM_MAX), mm, activity: null });
  }

  private summary(p: LocalProcess): ProcessSummary {
    return this.procs.summary(p);
  }

  async listProcesses(offset: number, limit: number): Promise<ProcessList> {
    return this.procs.list(offset, limit);
  }

  async createProcess(opts: CreateProcessOptions): Promise<ProcessSummary> {
    this.procs.reserve();
    const { mm, comm } = newProcessImage(opts, this.mmOptions());
    const proc = this.add(mm, comm);
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
      activity: p.activity?.snapshot() ?? null,
    };
  }

  async forkProcess(pid: number): Promise<ProcessSummary> {
    const parent = this.get(pid);
    this.procs.reserve();
    const child = this.add(execFork(parent.mm, this.writerEnv()), parent.comm);
    return this.summary(child);
  }

  async exitProcess(pid: number): Promise<void> {
    const p = this.get(pid);
    p.activity?.stop();
    this.procs.delete(pid);
    execExit(p.mm, this.writerEnv());
  }

  private startActivity(p: LocalProcess, spec: ActivitySpec): LocalActivity {
    return new LocalActivity(spec, (call) => this.execute(p, call));
  }

  async setActivity(pid: number, spec: ActivitySpec): Promise<ActivityStatus> {
    const p = this.get(pid);
    p.activity?.stop();
    p.activity = this.startActivity(p, spec);
    return p.activity.snapshot();
  }

  async getActivity(pid: number): Promise<ActivityStatus | null> {
    return this.get(pid).activity?.snapshot() ?? null;
  }

  async stopActivity(pid: number): Promise<boolean> {
    const p = this.get(pid);
    if (!p.activity) return false;
    p.activity.stop();
    p.activity = null;
    return true;
  }

  async readMaps(pid: number, opts: MapsReadOptions): Promise<AsyncIterable<Uint8Array>> {
    this.get(pid);
    const strategy = strategyId(opts.strategy ?? this.strategy);
    const recorder = this.recorder;
    const procs = this.procs;
    return (async function* chunks() {
      const cursor = new MapsCursor(opts.chunk);
      const t0 = nowNs();
      for (;;) {
        // m_start(): a process that exited since the last chunk ends the file (EOF).
        const p = procs.find(pid);
        if (!p) break;
        const n = cursor.readChunk(directMapsWalker(p.mm));
        if (n <= 0) break;
        // One thread: no lock is contended, nothing is retried (all counts of a traced read are 0).
        opts.chunkStats?.push(...EMPTY_CHUNK_STATS);
        yield cursor.chunk().slice();
        // The "lock" is dropped between chunks: let other requests and activities run.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      recorder.read(readOpId('maps'), strategy, nowNs() - t0);
    })();
  }

  async query(
    pid: number,
    opts: ReadOptions,
    queries: readonly QueryArgs[],
  ): Promise<QueryOutcome[]> {
    const p = this.get(pid);
    const strategy = strategyId(opts.strategy ?? this.strategy);
    const target = directQueryTarget(p.mm);
    const out = this.queryOut;
    const results: QueryOutcome[] = new Array(queries.length);
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i];
      const t0 = nowNs();
      const err = procmapQuery(queryArgs(q.addr, q.flags, q.name, q.buildId), target, out);
      this.recorder.read(readOpId('query'), strategy, nowNs() - t0);
      results[i] =
        err < 0
          ? errnoError(err, 'PROCMAP_QUERY')
          : {
              vmaStart: out.vmaStart,
              vmaEnd: out.vmaEnd,
              vmaFlags: out.vmaFlags,
              vmaPageSize: out.vmaPageSize,
              vmaOffset: out.vmaOffset,
              inode: out.inode,
              devMajor: out.devMajor,
              devMinor: out.devMinor,
              vmaName: out.nameString(),
              buildId:
                out.buildIdSize > 0 && out.buildId
                  ? Buffer.from(out.buildId).toString('hex')
                  : null,
            };
    }
    return results;
  }

  async syscalls(pid: number, calls: readonly SyscallCall[]): Promise<SyscallResult[]> {
    const p = this.get(pid);
    return calls.map((call) => this.execute(p, call));
  }

  /** One syscall against one process: engine call, metrics, event. */
  private execute(p: LocalProcess, call: SyscallCall): SyscallResult {
    // Uncontended on one thread, the write lock never waits here; its hold time and the
    // mutation's result and duration are recorded exactly as on a worker.
    const r = execSyscall(p.mm, this.writerEnv(), call);
    const result = r < 0 ? errnoError(r, call.op) : r;
    for (const l of this.listeners) l({ pid: p.pid, call, result });
    return result;
  }

  getConfig(): SimConfig {
    return {
      strategy: this.strategy,
      cpus: 0,
      maxProcesses: this.opts.maxProcesses,
      maxVmasPerProcess: this.opts.maxVmasPerProcess,
      maxBatch: this.opts.maxBatch,
      pkeys: this.opts.pkeys ?? false,
    };
  }

  setStrategy(strategy: StrategyName): void {
    this.strategy = strategy;
  }

  onMutation(listener: MutationListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  gauges() {
    return this.procs.gauges();
  }

  async close(): Promise<void> {
    this.procs.closed = true;
    for (const p of this.procs.values()) p.activity?.stop();
    this.listeners.clear();
  }
}

export function createLocalSim(opts: LocalSimOptions): LocalSim {
  const sim = new LocalSim(opts);
  sim.populate();
  return sim;
}
