/** `GET /config` (and the /ws `config` request): the running configuration, snake_case. */
import { Type } from 'typebox';
import type { ServiceConfig } from '../config.js';
import type { SimConfig } from '../cpus/sim-api.js';
import { StrategyName } from './common.js';

export const ConfigBody = Type.Object({
  strategy: StrategyName,
  cpus: Type.Integer(),
  reads: Type.Union([Type.Literal('event-loop'), Type.Literal('workers')], {
    description: 'where maps and PROCMAP_QUERY reads run (--reads; always event-loop with cpus 0)',
  }),
  max_processes: Type.Integer(),
  max_vmas_per_process: Type.Integer(),
  max_batch: Type.Integer(),
  body_limit: Type.Integer(),
  ws_max_message: Type.Integer(),
  ws_max_buffered: Type.Integer({ description: 'bytes a /ws client may lag (--ws-max-buffered)' }),
  ws_max_subscribers: Type.Integer({
    description: '/ws event subscriptions open at once (--ws-max-subscribers)',
  }),
  max_event_loop_delay_ms: Type.Integer({
    description: 'event-loop delay that makes requests answer 503 (0: off)',
  }),
  max_activities: Type.Optional(
    Type.Integer({ description: 'activities running at once (--max-activities, resolved)' }),
  ),
  tables: Type.Optional(
    Type.Object(
      {
        file_entries: Type.Integer(),
        file_path_bytes: Type.Integer(),
        anon_names: Type.Integer(),
        page_records: Type.Integer(),
        file_entry_charge: Type.Number(),
        file_path_byte_charge: Type.Number(),
        anon_name_charge: Type.Number(),
        page_record_charge: Type.Number(),
      },
      {
        description:
          'capacities of the global tables every process shares: files mapped at once, their path bytes, live anon names, page-state records; and the bytes charged to --max-memory per entry as used (*_charge: the entry size, or more when the budget exceeds the table, so the budget runs out before any table)',
      },
    ),
  ),
  pkeys: Type.Boolean({ description: 'the simulated CPU has x86 protection keys (--pkeys)' }),
  thp: Type.Union([Type.Literal('always'), Type.Literal('madvise'), Type.Literal('never')], {
    description: 'transparent huge page mode of the simulated kernel (--thp)',
  }),
  memory: Type.Optional(
    Type.Object(
      {
        limit_bytes: Type.Integer(),
        used_bytes: Type.Integer(),
        refused: Type.Integer(),
      },
      {
        description:
          'the memory budget (--max-memory) and what is charged now: committed arena pages, per-process views, activity threads',
      },
    ),
  ),
});

export function formatConfig(sim: SimConfig, svc: ServiceConfig) {
  return {
    strategy: sim.strategy,
    cpus: sim.cpus,
    reads: sim.reads,
    max_processes: sim.maxProcesses,
    max_vmas_per_process: sim.maxVmasPerProcess,
    max_batch: sim.maxBatch,
    body_limit: svc.bodyLimit,
    ws_max_message: svc.wsMaxMessage,
    ws_max_buffered: svc.wsMaxBuffered,
    ws_max_subscribers: svc.wsMaxSubscribers,
    max_event_loop_delay_ms: svc.maxEventLoopDelayMs,
    ...(sim.maxActivities === undefined ? {} : { max_activities: sim.maxActivities }),
    ...(sim.tables === undefined
      ? {}
      : {
          tables: {
            file_entries: sim.tables.fileEntries,
            file_path_bytes: sim.tables.filePathBytes,
            anon_names: sim.tables.anonNames,
            page_records: sim.tables.pageRecords,
            file_entry_charge: sim.tables.charges.fileEntry,
            file_path_byte_charge: sim.tables.charges.filePathByte,
            anon_name_charge: sim.tables.charges.anonName,
            page_record_charge: sim.tables.charges.pageRecord,
          },
        }),
    pkeys: sim.pkeys,
    thp: sim.thp,
    ...(sim.memory
      ? {
          memory: {
            limit_bytes: sim.memory.limitBytes,
            used_bytes: sim.memory.usedBytes,
            refused: sim.memory.refused,
          },
        }
      : {}),
  };
}
