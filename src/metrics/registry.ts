// One prom-client Registry per app instance (never the global registry, so apps built side by
// side in tests share nothing): Node default metrics, the engine families summed over every
// thread's instruments, the gauges procfs_processes / procfs_vmas, and the HTTP request
// duration histogram that the service observes from an onResponse hook.

import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { InstrumentAggregator, type InstrumentTotals } from './aggregator.js';
import { registerSharedFamilies } from './exposition.js';
import type { Instruments } from './instruments.js';
import { RequestDurationHistogram } from './request-durations.js';

export interface EngineGauges {
  processes: number;
  vmas: number;
  /** Activities holding a place under --max-activities (procfs_activities). */
  activities?: number;
  /** Activities refused so far, by reason (procfs_activities_refused_total; monotonic). */
  activitiesRefused?: Readonly<Record<string, number>>;
  /** Activities whose thread died after it started (procfs_activities_died_total; monotonic). */
  activitiesDied?: number;
  /** The global file table (procfs_file_table_entries{state}, procfs_file_table_capacity). */
  fileTable?: FileTableGauges;
  /** The memory budget (procfs_memory_budget_bytes{kind}, procfs_memory_budget_refused_total). */
  memory?: { limitBytes: number; usedBytes: number; refused: number };
  /** The global anon-name table (procfs_anon_names{state}, procfs_anon_names_charged_bytes). */
  anonNames?: AnonNameGauges;
}

export interface AnonNameGauges {
  /** Names referenced by a VMA (prctl PR_SET_VMA_ANON_NAME). */
  live: number;
  /** Names the table can hold at once (reserved; charged to the budget as used). */
  capacity: number;
  /** Bytes charged to the memory budget for the slots its high-water mark reached. */
  chargedBytes: number;
}

export interface FileTableGauges {
  /** Entries referenced by a VMA, an mm's exe file, or a call in progress. */
  live: number;
  /** Unreferenced entries waiting for an RCU grace period before their slot is reused. */
  retired: number;
  /** Entries the table can hold at once (reserved; charged to the budget as used). */
  capacity: number;
  /** Path-byte heap in use and its size (entries share nothing: each has its own block). */
  heapUsedBytes: number;
  heapBytes: number;
  /** Bytes of the table's pages charged to the memory budget (entries, hash, heap reached). */
  chargedBytes: number;
}

export interface MetricsRegistryOptions {
  /** The app's instruments (Instruments.create on the main thread). */
  instruments: Instruments;
  /** Current process and VMA counts, read at each scrape. */
  gauges: () => EngineGauges | Promise<EngineGauges>;
}

export interface MetricsRegistry {
  readonly registry: Registry;
  /**
   * http_request_duration_seconds{method, route, status_code}: observe seconds, with `route`
   * the route pattern (e.g. `/proc/:pid/maps`), never the raw URL (unbounded cardinality).
   */
  readonly httpRequestDuration: RequestDurationHistogram;
  /** Engine totals now (for the WebSocket rates stream; see rates.ts). Never decreasing. */
  totals(): InstrumentTotals;
}

export function createMetricsRegistry(options: MetricsRegistryOptions): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // Separate aggregators, so each reader's "never backwards" state is its own.
  registerSharedFamilies(registry, new InstrumentAggregator(options.instruments));
  const ratesAggregator = new InstrumentAggregator(options.instruments);

  // One gauges() call per scrape serves both gauges: Registry.metrics() calls every collect()
  // in one synchronous pass, so the second reuses the first's promise; the memo is cleared
  // when that promise settles, before any later scrape.
  const { gauges } = options;
  let pending: Promise<EngineGauges> | null = null;
  const readGauges = (): Promise<EngineGauges> => {
    if (pending === null) {
      const current = Promise.resolve().then(gauges);
      const clear = (): void => {
        pending = null;
      };
      current.then(clear, clear);
      pending = current;
    }
    return pending;
  };
  new Gauge({
    name: 'procfs_processes',
    help: 'Simulated processes currently alive.',
    registers: [registry],
    async collect() {
      this.set((await readGauges()).processes);
    },
  });
  new Gauge({
    name: 'procfs_vmas',
    help: 'VMAs across all simulated processes.',
    registers: [registry],
    async collect() {
      this.set((await readGauges()).vmas);
    },
  });

  registerLimitFamilies(registry, readGauges);

  const httpRequestDuration = new RequestDurationHistogram().register(registry);

  return { registry, httpRequestDuration, totals: () => ratesAggregator.totals() };
}

/** Gauges and counters of the service's shared limits (activities, the global file table). */
function registerLimitFamilies(registry: Registry, read: () => Promise<EngineGauges>): void {
  new Gauge({
    name: 'procfs_activities',
    help: 'Activities running (each a thread on worker CPUs), against --max-activities.',
    registers: [registry],
    async collect() {
      this.set((await read()).activities ?? 0);
    },
  });
  new Counter<'reason'>({
    name: 'procfs_activities_refused_total',
    help: 'Activities refused with EAGAIN: limit = --max-activities reached, thread_start = its thread could not start.',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const refused = (await read()).activitiesRefused ?? {};
      this.reset();
      for (const [reason, n] of Object.entries(refused)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'procfs_activities_died_total',
    help: 'Activities whose thread died by itself after it started (a crash: the activity shows the failure).',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await read()).activitiesDied ?? 0);
    },
  });
  new Gauge<'state'>({
    name: 'procfs_file_table_entries',
    help: 'Global file table entries: live (referenced) or retired (unreferenced, reused after an RCU grace period).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const f = (await read()).fileTable;
      this.set({ state: 'live' }, f?.live ?? 0);
      this.set({ state: 'retired' }, f?.retired ?? 0);
    },
  });
  new Gauge({
    name: 'procfs_file_table_capacity',
    help: 'Entries the global file table reserves (mmaps of new files answer ENOMEM beyond, or sooner past --max-memory: see procfs_file_table_charged_bytes).',
    registers: [registry],
    async collect() {
      this.set((await read()).fileTable?.capacity ?? 0);
    },
  });
  new Gauge<'kind'>({
    name: 'procfs_memory_budget_bytes',
    help: 'The memory budget (--max-memory): kind=limit, and kind=used = charged now (committed arena pages, per-process views, activity threads).',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const m = (await read()).memory;
      this.set({ kind: 'limit' }, m?.limitBytes ?? 0);
      this.set({ kind: 'used' }, m?.usedBytes ?? 0);
    },
  });
  new Counter({
    name: 'procfs_memory_budget_refused_total',
    help: 'Allocations refused by the memory budget (creates, forks, mmaps answered ENOMEM; activities EAGAIN).',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await read()).memory?.refused ?? 0);
    },
  });
  new Gauge({
    name: 'procfs_file_table_heap_used_bytes',
    help: 'Bytes of the global file table heap (paths, build ids) in use, incl. retired entries.',
    registers: [registry],
    async collect() {
      this.set((await read()).fileTable?.heapUsedBytes ?? 0);
    },
  });
  new Gauge<'state'>({
    name: 'procfs_anon_names',
    help: 'Global anon-name table (prctl PR_SET_VMA_ANON_NAME): state=live names, state=capacity (prctls answer ENOMEM from --max-memory before it is reached).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const a = (await read()).anonNames;
      this.set({ state: 'live' }, a?.live ?? 0);
      this.set({ state: 'capacity' }, a?.capacity ?? 0);
    },
  });
  new Gauge({
    name: 'procfs_anon_names_charged_bytes',
    help: 'Bytes of the global anon-name table charged to the memory budget (the slots its high-water mark reached); never given back.',
    registers: [registry],
    async collect() {
      this.set((await read()).anonNames?.chargedBytes ?? 0);
    },
  });
  new Gauge({
    name: 'procfs_file_table_charged_bytes',
    help: 'Bytes of the global file table (entries, hash, heap pages its high-water marks reached) charged to the memory budget; never given back.',
    registers: [registry],
    async collect() {
      this.set((await read()).fileTable?.chargedBytes ?? 0);
    },
  });
}
