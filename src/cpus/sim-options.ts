/**
 * `SimOptions`: how a `Sim` is started, and what is derived from them once: the state shared by
 * every engine thread (`createSimShared`: page records sized from the memory budget, the RCU
 * domain, activity admission) and the options new address spaces are built with (`mmOptionsFor`).
 */
import { DEFAULT_CAPACITY, Instruments, MAX_INSTRUMENT_BLOCKS } from '../metrics/instruments.js';
import { anonNameSlotsFor } from '../mm/anon-names.js';
import { IMMEDIATE_GRACE } from '../mm/deferred-free.js';
import { FILE_ID_SIDE_BYTES, fileTableReserveFor } from '../mm/file-table-layout.js';
import { MmGlobals } from '../mm/mm-struct.js';
import { FAULT_RESERVE, RECORD_BYTES } from '../mm/pages/page-pool.js';
import type { ThpMode } from '../mm/pages/thp.js';
import { RcuDomain } from '../sync/rcu.js';
import { ActivityAdmission, defaultMaxActivities, rcuSlotsFor } from './activity-admission.js';
import { SharedConfig } from './shared-config.js';
import type { ReadsOn, StrategyName } from './sim-api.js';
import type { EngineShared } from './transport.js';

export interface SimOptions {
  strategy: StrategyName;
  /** Worker CPUs; 0 = the engine runs on the event loop. */
  cpus: number;
  /**
   * With worker CPUs: reads on the event loop (default; event-loop-reads.ts) or dispatched to
   * the workers like mutations.
   */
  reads?: ReadsOn;
  /** Process limit (EAGAIN beyond); 0: `defaultMaxProcesses(maxMemory)`. */
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
  /**
   * Shared tables smaller than --max-memory sizes them (tests only: the charge rule of
   * src/mm/table-charge.ts checked without filling 44 M names or 1.75 GiB of paths).
   */
  tableSizes?: { anonNameSlots?: number; maxFiles?: number; fileHeapBytes?: number };
}

/** Where reads run: always the event loop without worker CPUs. */
export function readsOnFor(opts: SimOptions): ReadsOn {
  return opts.cpus === 0 ? 'event-loop' : (opts.reads ?? 'event-loop');
}

/**
 * Page-state records to reserve: enough for the whole memory budget to be page state (records
 * are charged to it as they are used, so the budget, not the pool, is the limit a client meets),
 * plus the records kept for syscalls, at least 64 Ki records, at most what fits beside the pool's
 * per-file slots (`maxFiles` of them) in 4 GiB - 4 MiB (a growable SharedArrayBuffer stays under
 * 4 GiB: reserved, not committed); 2 Mi without a budget.
 */
export function pageRecordsFor(maxMemory: number | undefined, maxFiles = 65_536): number {
  if (maxMemory === undefined || !Number.isFinite(maxMemory)) return 1 << 21;
  const records = Math.ceil(maxMemory / RECORD_BYTES) + 2 * FAULT_RESERVE;
  const most = Math.floor((2 ** 32 - (4 << 20) - maxFiles * FILE_ID_SIDE_BYTES) / RECORD_BYTES);
  return Math.min(most, Math.max(1 << 16, records));
}

/** The state every engine thread of one sim shares, and the sim's activity admission. */
export function createSimShared(opts: SimOptions): {
  shared: EngineShared;
  activities: ActivityAdmission;
} {
  // The file table reserves as much as the budget could pay for, charged as used (issue 11).
  const files = fileTableReserveFor(opts.maxMemory);
  const sizes = opts.tableSizes ?? {};
  const maxFiles = sizes.maxFiles ?? files.maxFiles;
  const globals = MmGlobals.create({
    maxFiles,
    fileHeapBytes: sizes.fileHeapBytes ?? files.heapBytes,
    pageRecords: pageRecordsFor(opts.maxMemory, maxFiles + 1),
    // As many live anon names as the budget could pay for (up to 44.7 M), each charged at least
    // budget / slots (table-charge.ts): a client meets --max-memory before it can starve others.
    anonNameSlots: sizes.anonNameSlots ?? anonNameSlotsFor(opts.maxMemory),
    maxMemory: opts.maxMemory,
    guardTables: true,
  });
  // 0 = computed, as --max-activities 0 means (a ServiceConfig spread into the options).
  const activities = new ActivityAdmission(
    opts.maxActivities || defaultMaxActivities(opts.cpus),
    globals.budget,
  );
  const rcuSlots = opts.rcuSlots ?? rcuSlotsFor(opts.cpus, activities.max);
  // In-process, the event loop is the only recording thread; with worker CPUs, a block for every
  // thread that may run (as the RCU slots): 1,024 blocks used to refuse activity threads past
  // ~1,000 under a larger --max-activities (EAGAIN below the configured limit).
  const instruments = Instruments.create({
    capacity:
      opts.cpus === 0 ? 4 : Math.min(MAX_INSTRUMENT_BLOCKS, Math.max(DEFAULT_CAPACITY, rcuSlots)),
  });
  const shared: EngineShared = {
    globals,
    rcu: RcuDomain.create(rcuSlots),
    instruments,
    config: SharedConfig.create(opts.strategy),
  };
  return { shared, activities };
}

/**
 * Options for building a new address space on the event loop. It is not shared with any thread
 * until it is published, so it is built with IMMEDIATE_GRACE (replaced index nodes are reused at
 * once: the arena's high-water marks, its resident pages, stay what it holds); publishing hands
 * it the RCU before any other thread sees it.
 */
export function mmOptionsFor(opts: SimOptions, shared: EngineShared) {
  return {
    maxVmas: opts.maxVmasPerProcess,
    globals: shared.globals,
    grace: IMMEDIATE_GRACE,
    pkeys: opts.pkeys ?? false,
    noZeroPage: opts.noZeroPage ?? false,
    thp: opts.thp ?? 'madvise',
  };
}
