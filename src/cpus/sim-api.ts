/**
 * The seam between the HTTP layer (routes/, src/plugins/) and the engine that hosts the simulated
 * processes. Routes only ever talk to a `SimApi`; `sim.ts` implements it over a transport: the
 * event loop (`--cpus 0`, inject tests) or the worker CPUs, running the same engine (engine.ts).
 *
 * Units: every address, length and offset here is an engine `number` (exact below 2^53; user
 * addresses are below TASK_SIZE). Values from HTTP that do not fit are mapped before they get here
 * (`src/schemas/uapi.ts`). prot and flag values are the kernel's bit values (docs/ARCHITECTURE.md).
 *
 * Errors: methods reject with `SimError` (an errno with its Linux name). Syscalls are different on
 * purpose: each call's outcome is *returned* (a result or a `SimError`), so a batch carries a failure
 * per call without exceptions; only a missing process (ESRCH) rejects the whole batch. Keeping the
 * errno naming inside the implementation means the HTTP layer needs no errno table.
 */

import type { Instruments } from '../metrics/instruments.js';
import type { StrategyName } from '../metrics/labels.js';
import type { EngineGauges } from '../metrics/registry.js';
import { errnoName } from '../mm/errno.js';
import type { MmCreateOptions, MmStruct } from '../mm/mm-struct.js';
import type { ThpMode } from '../mm/pages/thp.js';
import { touchErrno, touchReason } from '../mm/syscalls/touch-result.js';
import type { AddressBatch, QueryColumns } from '../procfs/query-batch.js';
import type { MapsRead } from './read-pieces.js';
import type { TracedCall } from './replay/strace-trace.js';
import type { SyscallCall } from './syscall-call.js';

/** Locking strategies of the readers; the names are API (API.md); the list is labels.ts's. */
export { isStrategyName, STRATEGIES, type StrategyName } from '../metrics/labels.js';

/** Templates a process can be created from (src/mm/templates/). */
export const TEMPLATES = ['minimal', 'bash', 'node', 'jvm'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

/** Built-in activity profiles (API.md). */
export const PROFILES = ['mmap_churn', 'jit', 'malloc', 'thread_stacks'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** An engine error: an errno, with the Linux name and a human-readable message. */
export class SimError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(errno: number, code: string, message: string) {
    super(message);
    this.name = 'SimError';
    this.errno = errno;
    this.code = code;
  }

  /** The error of `what` failing with `errno` (positive), named as Linux names it. */
  static of(errno: number, what: string): SimError {
    const code = errnoName(errno);
    return new SimError(errno, code, `${what}: ${code}`);
  }

  /** The error of a call whose raw result `r` is < 0 (a touch's carries its reason). */
  static ofCall(call: SyscallCall, r: number): SimError {
    if (call.op !== 'touch') return SimError.of(-r, call.op);
    const errno = touchErrno(r);
    const code = errnoName(errno);
    const reason = touchReason(r);
    return new SimError(errno, code, `touch: ${code}${reason ? `: ${reason}` : ''}`);
  }
}

export type { FileRef, SyscallCall, SyscallOp } from './syscall-call.js';

/** The call's result (address, break, or 0), or the errno it failed with. */
export type SyscallResult = number | SimError;

export interface ProcessSummary {
  pid: number;
  comm: string;
  vmas: number;
}

export interface ProcessDetail extends ProcessSummary {
  brkStart: number;
  brk: number;
  startStack: number;
  /** Its CPU has protection keys (fixed at creation, inherited by fork). */
  pkeys: boolean;
  activity: ActivityStatus | null;
}

export interface ProcessList {
  total: number;
  processes: ProcessSummary[];
}

/**
 * A recorded program (src/cpus/replay/): its modelled calls with their recorded results, the
 * identity (dev, inode) of the files it mapped by path, and the calls the engine does not model.
 * Plain data, so it travels to an activity thread as it is.
 */
export interface ReplayPlan {
  calls: TracedCall[];
  files: Record<string, { devMajor: number; devMinor: number; inode: number }>;
  unmodelled: Record<string, number>;
}

/**
 * What makes a process busy: a loop of calls, a built-in profile (both optionally rate-capped),
 * or a recorded program replayed at its recorded pace × `speed` (0: as fast as it can), once or,
 * with `loop`, again and again (each pass first unmaps what the previous one mapped).
 */
export type ActivitySpec =
  | { kind: 'loop'; loop: SyscallCall[]; ratePerS: number | null }
  | { kind: 'profile'; profile: ProfileName; ratePerS: number | null }
  | { kind: 'replay'; replay: ReplayPlan; speed: number; loop: boolean; ratePerS: null };

/** How a replay is going (`ActivityStatus.replay`). */
export interface ReplayStatus {
  /** Calls whose result differed from the recorded one (after relocation). */
  mismatches: number;
  /** The trace has run to its end (never, with `loop`). */
  done: boolean;
}

export interface ActivityStatus {
  spec: ActivitySpec;
  /** ms since the epoch when the activity started. */
  startedAt: number;
  /** Syscalls executed so far, and how many of them returned an error. */
  calls: number;
  errors: number;
  /** Whole passes over the loop (profiles: iterations of their pattern). */
  iterations: number;
  /** Replays only. */
  replay?: ReplayStatus;
  /** Set when the activity died by itself after it started (its thread crashed): why. */
  failure?: string;
}

export interface CreateProcessOptions {
  comm?: string;
  template?: TemplateName;
  /** Text of a real /proc/PID/maps to import. */
  maps?: string;
  activity?: ActivitySpec;
  /** Protection keys of this process's CPU; default: the service's (`SimConfig.pkeys`). */
  pkeys?: boolean;
}

export interface ReadOptions {
  /** Per-request override of the configured strategy. */
  strategy?: StrategyName;
}

/** The files besides maps that `readProcFile` serves. */
export type ProcFileName = 'smaps' | 'smaps_rollup' | 'status';

export interface MapsReadOptions extends ReadOptions {
  /** Max bytes of whole lines per chunk (one lock window each); 0 = one window for the file. */
  chunk: number;
  /**
   * A traced read: when given, the implementation appends `CHUNK_STATS_WIDTH` numbers per chunk
   * (src/procfs/chunk-stats.ts: attempts, retries, fallbacks by reason, hazards, mmap locks) —
   * what that chunk's lock window took — before yielding the chunk.
   */
  chunkStats?: number[];
}

/** One PROCMAP_QUERY, with the kernel's flag bits. */
export interface QueryArgs {
  addr: number;
  flags: number;
  /** Ask for the VMA name (vma_name_size != 0) / build ID (build_id_size != 0). */
  name: boolean;
  buildId: boolean;
}

export interface QueryAnswer {
  vmaStart: number;
  vmaEnd: number;
  vmaFlags: number;
  vmaPageSize: number;
  vmaOffset: number;
  inode: number;
  devMajor: number;
  devMinor: number;
  /** Raw name (no `\012` escaping); null when none or not asked for. */
  vmaName: string | null;
  /** Lowercase hex; null when none or not asked for. */
  buildId: string | null;
}

export type { AddressBatch, QueryColumns } from '../procfs/query-batch.js';

/** A per-query outcome in a batch: an answer, or the errno the ioctl would return. */
export type QueryOutcome = QueryAnswer | SimError;

/** Service configuration as `GET /config` shows it. */
/** Where reads (maps, PROCMAP_QUERY) run with worker CPUs (`--reads`; event-loop-reads.ts). */
export const READS_ON = ['event-loop', 'workers'] as const;
export type ReadsOn = (typeof READS_ON)[number];

export interface SimConfig {
  strategy: StrategyName;
  cpus: number;
  /** Where reads run: on the event loop (always so with cpus 0) or on the worker CPUs. */
  reads: ReadsOn;
  maxProcesses: number;
  maxVmasPerProcess: number;
  maxBatch: number;
  /** The simulated CPU has x86 protection keys (`--pkeys`, resolved). */
  pkeys: boolean;
  /** The simulated kernel's THP mode (`--thp`, resolved). */
  thp: ThpMode;
  /** The memory budget (`--max-memory`) and what is charged to it now (bytes). */
  memory?: MemoryGauge;
  /** Activities running at once (`--max-activities`, resolved: never 0). */
  maxActivities?: number;
  /** Capacities of the global tables every process shares. */
  tables?: SharedTableLimits;
}

/** What the global tables hold at most (ENOMEM for the call that needs one more). */
export interface SharedTableLimits {
  /** File identities mapped at once (files and shared anonymous mappings). */
  fileEntries: number;
  /** Bytes of their paths and build ids. */
  filePathBytes: number;
  /** Live anon names (`PR_SET_VMA_ANON_NAME` calls whose names are still in use). */
  anonNames: number;
  /** Page-state records (each charged to --max-memory as it is first used). */
  pageRecords: number;
  /**
   * Bytes charged to --max-memory per file entry, path byte, anon name and page record: their
   * size, or more when the budget is larger than the table (src/mm/table-charge.ts), so that the
   * budget, never a table, is what a client runs out of.
   */
  charges: { fileEntry: number; filePathByte: number; anonName: number; pageRecord: number };
}

/** The memory budget: its limit and what is charged (arenas, process views, activities). */
export interface MemoryGauge {
  limitBytes: number;
  usedBytes: number;
  /** Charges refused so far (ENOMEM / EAGAIN answers; monotonic). */
  refused: number;
}

/** One mutation as it happened, for /ws subscribers. */
export interface MutationEvent {
  pid: number;
  call: SyscallCall;
  result: SyscallResult;
}

export type MutationListener = (event: MutationEvent) => void;

/** A process as snapshot and restore (src/state) see it. */
export interface DurableProcess {
  pid: number;
  comm: string;
  /** The event loop's view of the address space: read it under its mmap read lock. */
  mm: MmStruct;
}

/**
 * What src/state needs from a sim to snapshot and restore it (docs/durable-state.md). Pids are
 * in the sim's range (`pidBase`, see process-table.ts).
 */
export interface DurableProcesses {
  readonly pidBase: number;
  /** Live processes, in the order `listProcesses` lists them. */
  processes(): DurableProcess[];
  /** The pid the next created process would try. */
  nextPid(): number;
  /** Options building address spaces for this sim (its global tables, RCU, max_map_count). */
  mmOptions(): MmCreateOptions;
  /**
   * Before serving: adds restored processes under their own pids, in order (each mm built from
   * `mmOptions()` and shared with no thread yet), starts their activities, sets the pid counter.
   */
  adopt(
    procs: ReadonlyArray<DurableProcess & { activity: ActivitySpec | null }>,
    nextPid: number,
  ): Promise<void>;
}

export interface SimApi {
  listProcesses(offset: number, limit: number): Promise<ProcessList>;
  /** Rejects EAGAIN at the process limit, EINVAL for an unparsable `maps`. */
  createProcess(opts: CreateProcessOptions): Promise<ProcessSummary>;
  inspectProcess(pid: number): Promise<ProcessDetail>;
  /** fork(2): a child with a copy of the address space. */
  forkProcess(pid: number): Promise<ProcessSummary>;
  /** exit: later calls for this pid reject ESRCH. */
  exitProcess(pid: number): Promise<void>;

  /** Replaces any running activity. */
  setActivity(pid: number, spec: ActivitySpec): Promise<ActivityStatus>;
  /** null when the process is idle. */
  getActivity(pid: number): Promise<ActivityStatus | null>;
  /** Resolves false when there was no activity to stop. */
  stopActivity(pid: number): Promise<boolean>;

  /**
   * /proc/PID/maps in chunks of whole lines; each chunk is produced in its own lock window, and
   * the next one resumes by address (seq_file's last_pos rule). Rejects ESRCH before the first
   * chunk; a process that exits mid-read ends the stream (EOF, as the kernel's m_start does).
   * The stream yields pieces of whole chunks (the event loop yields the chunks read in one turn
   * as one piece); a traced read (`chunkStats`) yields exactly one piece per chunk. A read the
   * event loop finished within its first turn may come back whole and at once (a `ReadPieces`,
   * no promise); await the result either way.
   */
  readMaps(pid: number, opts: MapsReadOptions): MapsRead;
  /**
   * /proc/PID/smaps (chunks of whole blocks, each under the mmap read lock, like maps),
   * /proc/PID/smaps_rollup or /proc/PID/status (one chunk each). Rejects ESRCH before the first
   * chunk.
   */
  readProcFile(
    pid: number,
    file: ProcFileName,
    opts: { chunk: number },
  ): Promise<AsyncIterable<Uint8Array>>;
  /**
   * PROCMAP_QUERY for each args, in order; ESRCH rejects the whole call. A batch the event loop
   * answered without waiting may come back at once (an array, no promise); await it either way.
   */
  query(
    pid: number,
    opts: ReadOptions,
    queries: readonly QueryArgs[],
  ): QueryOutcome[] | Promise<QueryOutcome[]>;
  /**
   * The compact batch: PROCMAP_QUERY of every address with the same flags (no build id), the
   * answers column-wise (`errno` 0 where answered); ESRCH rejects the whole call.
   */
  queryColumns(pid: number, opts: ReadOptions, batch: AddressBatch): Promise<QueryColumns>;

  /** Runs the calls in order like a program's syscalls; a failing call does not stop the rest. */
  syscalls(pid: number, calls: readonly SyscallCall[]): Promise<SyscallResult[]>;

  getConfig(): SimConfig;
  setStrategy(strategy: StrategyName): void;

  /** Every mutation (HTTP, /ws and activities). Returns the unsubscribe function. */
  onMutation(listener: MutationListener): () => void;
  /**
   * An activity died by itself after it started (its thread crashed): the reason. Its status then
   * carries `failure`; it keeps its place until stopped. Optional: fakes need not implement it.
   */
  onActivityDied?(listener: (pid: number, reason: string) => void): () => void;
  /**
   * The shared instrument blocks every thread of this sim records into (src/metrics); the
   * metrics plugin sums them on scrape and for the /ws rates.
   */
  readonly instruments: Instruments;
  /** Current process and VMA counts (the procfs_processes / procfs_vmas gauges). */
  gauges(): EngineGauges | Promise<EngineGauges>;

  /** Snapshot and restore access (real engines; test fakes leave it out). */
  readonly durable?: DurableProcesses;

  /** Stops activities and CPUs; in-flight calls finish first. */
  close(): Promise<void>;
}
