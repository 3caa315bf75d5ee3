/**
 * How the one `Sim` (sim.ts) reaches the engine (engine.ts): in-process on the event loop
 * (`in-process-transport.ts`, `--cpus 0`) or through the worker CPUs (`worker-transport.ts`).
 * Both run the same engine handlers; a transport only decides on which thread they run and how
 * activities (busy processes) are driven. Failures reject with an `OpError` (positive errno) or,
 * for the worker pool, `PoolSaturatedError`.
 */
import type { Instruments } from '../metrics/instruments.js';
import type { MmGlobalBuffers, MmGlobals, MmStruct } from '../mm/mm-struct.js';
import type { QueryColumns } from '../procfs/query-batch.js';
import type { RcuDomain } from '../sync/rcu.js';
import type {
  ColumnsRequest,
  MapsRequest,
  MutateRequest,
  ProcFileRequest,
  QueryReply,
  QueryRequest,
} from './engine.js';
import type { MapsRead } from './read-pieces.js';
import type { SharedConfig } from './shared-config.js';
import type { ActivitySpec, ActivityStatus, SyscallCall } from './sim-api.js';

/** The shared state every engine thread of one sim attaches (made once by the Sim). */
export interface EngineShared {
  globals: MmGlobals;
  rcu: RcuDomain;
  instruments: Instruments;
  config: SharedConfig;
}

/** What a thread other than the event loop is started with (EngineShared's buffers). */
export interface EngineThreadData {
  globals: MmGlobalBuffers;
  rcu: SharedArrayBuffer;
  instruments: SharedArrayBuffer;
  config: SharedArrayBuffer;
}

export function engineThreadData(s: EngineShared): EngineThreadData {
  return {
    globals: s.globals.buffers(),
    rcu: s.rcu.buffer,
    instruments: s.instruments.buffer,
    config: s.config.buffer,
  };
}

/** Where a transport reports what activities did (HTTP mutations the Sim reports itself). */
export interface TransportEvents {
  /** One call an activity made, with its raw result (>= 0, or -errno). */
  mutation(pid: number, call: SyscallCall, ret: number): void;
  /** Activity events lost because the process outran its event ring. */
  dropped(pid: number, count: number): void;
  /** An activity died by itself after it started (its thread crashed), with the reason. */
  activityDied(pid: number, reason: string): void;
}

/** An activity thread that died before it ran (the reason in the message). */
export class ActivityStartError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ActivityStartError';
  }
}

/** A running activity. */
export interface ActivityRun {
  status(): ActivityStatus;
  /** Stops it after its current call; resolves once its events were delivered. */
  stop(): Promise<void>;
}

export interface EngineTransport {
  /** Worker CPUs (0: the event loop runs the engine). */
  readonly cpus: number;
  /** Makes a new arena pid's address space on every engine thread. */
  publish(pid: number, mm: MmStruct): Promise<void>;
  /** Forgets pid on every engine thread (after `exit`). */
  unpublish(pid: number): Promise<void>;
  /**
   * Every chunk of one maps read, each from its own lock window, yielded in pieces of whole
   * chunks. Rejects (ESRCH...) before the first chunk; a process that exits mid-read ends the
   * stream (EOF). With `chunkStats` (a traced read) each piece is one chunk, its counts appended
   * there before it is yielded (chunk-stats.ts). A read that ended within its first event-loop
   * turn may come back whole and at once (`ReadPieces`).
   */
  maps(req: MapsRequest, chunkStats?: number[]): MapsRead;
  /** smaps (a chunk per lock window), smaps_rollup or status, rejecting like `maps`. */
  procFile(req: ProcFileRequest): Promise<AsyncIterable<Uint8Array>>;
  /** On the event loop, a batch answered without waiting for a lock comes back as it is. */
  query(req: QueryRequest): QueryReply[] | Promise<QueryReply[]>;
  /** A compact batch, answered column-wise (rejects ESRCH like `query`). */
  queryColumns(req: ColumnsRequest): Promise<QueryColumns>;
  mutate(req: MutateRequest): Promise<number[]>;
  /** The child's arena, viewed from the event loop (not published yet). */
  fork(pid: number): Promise<MmStruct>;
  exit(pid: number): Promise<void>;
  /**
   * Starts pid's activity; resolves once it runs. Rejects with `ActivityStartError` (nothing
   * left running) when its thread could not start. `shared` (the start-up population): a capped
   * activity may run on one thread with the other shared ones (worker CPUs: activity-host.ts)
   * instead of a thread of its own; the same calls, pacing, counters and locks.
   */
  startActivity(
    pid: number,
    mm: MmStruct,
    spec: ActivitySpec,
    shared?: boolean,
  ): Promise<ActivityRun>;
  /** Whether anyone listens to mutations (activities record events only then). */
  setEventsWanted(wanted: boolean): void;
  /** After every activity was stopped: stops the engine threads. */
  close(): Promise<void>;
}
