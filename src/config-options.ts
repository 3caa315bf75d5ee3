/**
 * The service's options: `ServiceConfig` and the one table (`OPTION_SPECS`: flag, env var,
 * kind, default, bounds, help) that drives parsing and `--help` (config.ts), so the help text
 * cannot drift.
 */
import { availableParallelism } from 'node:os';
import { defaultMaxMemory } from './cpus/memory-limit.js';
import { PID_RANGE } from './cpus/process-table.js';
import { READS_ON, type ReadsOn, type StrategyName } from './cpus/sim-api.js';
import {
  PKEYS_MODES,
  type PkeysMode,
  THP_CONFIG_MODES,
  type ThpConfigMode,
} from './machine-caps.js';

export interface ServiceConfig {
  host: string;
  port: number;
  strategy: StrategyName;
  /** Worker CPUs; 0 runs the engine on the event loop (local sim). */
  cpus: number;
  /** With worker CPUs: where reads run (event-loop-reads.ts). */
  reads: ReadsOn;
  /** Processes created at start-up from the templates. */
  population: number;
  /** Process limit (EAGAIN beyond); 0 = derived from --max-memory (defaultMaxProcesses). */
  maxProcesses: number;
  maxVmasPerProcess: number;
  /** Activities running at once (EAGAIN beyond); 0 = derived from the CPUs and memory. */
  maxActivities: number;
  /** --max-memory: bytes the hosted processes may take (arenas, views, activity threads). */
  maxMemory: number;
  /** Max entries of a batch (`/syscalls`, batch PROCMAP_QUERY). */
  maxBatch: number;
  /** Max request body bytes (413 beyond). */
  bodyLimit: number;
  /** Max bytes of one WebSocket message from a client (closed with 1009 beyond). */
  wsMaxMessage: number;
  /** Bytes a WebSocket client may fall behind before it is closed as a slow consumer (1008). */
  wsMaxBuffered: number;
  /** /ws event subscriptions open at once (one more is refused with EAGAIN). */
  wsMaxSubscribers: number;
  logLevel: string;
  /** How long close-with-grace lets in-flight work finish before it exits anyway. */
  closeGraceMs: number;
  /** Event-loop delay above which under-pressure answers 503 (0 = off). */
  maxEventLoopDelayMs: number;
  /** Retry-After seconds on 503/429. */
  retryAfterS: number;
  /** Bearer token every request but /healthz must carry; empty = no authentication. */
  token: string;
  /** File holding the bearer token (a mounted secret); read at start into `token`. */
  tokenFile: string;
  /** Host header names accepted (comma list, `*` any); empty = derived from `host`. */
  allowedHosts: string;
  /** Origins accepted on writes and /ws besides the service's own (comma list, `*` any). */
  allowedOrigins: string;
  /** Directory of the snapshot (restored at start, written on shutdown and POST /snapshot); empty = none. */
  stateDir: string;
  /** This replica's pids are pidBase + 1 … pidBase + 2^22 - 1. */
  pidBase: number;
  /** Protection keys of the simulated CPU: on, off, or as the host has them (machine-caps.ts). */
  pkeysMode: PkeysMode;
  /** The simulated kernel's transparent huge page mode, or the host's (machine-caps.ts). */
  thpMode: ThpConfigMode;
}

export type OptionKind =
  | 'string'
  | 'int'
  | 'bytes'
  | 'strategy'
  | 'level'
  | 'pkeys'
  | 'thp'
  | 'reads';

export interface OptionSpec {
  key: keyof ServiceConfig;
  flag: string;
  env: string;
  kind: OptionKind;
  def: () => string | number;
  min?: number;
  max?: number;
  help: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    key: 'host',
    flag: 'host',
    env: 'HOST',
    kind: 'string',
    def: () => '127.0.0.1',
    help: 'listen address',
  },
  {
    key: 'port',
    flag: 'port',
    env: 'PORT',
    kind: 'int',
    min: 0,
    def: () => 8080,
    help: 'listen port (0 = any free port)',
  },
  {
    key: 'strategy',
    flag: 'strategy',
    env: 'STRATEGY',
    kind: 'strategy',
    def: () => 'per_vma',
    help: 'default locking strategy of the readers',
  },
  {
    key: 'cpus',
    flag: 'cpus',
    env: 'CPUS',
    kind: 'int',
    min: 0,
    def: () => availableParallelism(),
    help: 'worker CPUs (0 = run the engine on the event loop)',
  },
  {
    key: 'reads',
    flag: 'reads',
    env: 'READS',
    kind: 'reads',
    def: () => 'event-loop',
    help: `where maps/PROCMAP_QUERY reads run with worker CPUs (${READS_ON.join('|')})`,
  },
  {
    key: 'population',
    flag: 'population',
    env: 'POPULATION',
    kind: 'int',
    min: 0,
    def: () => 64,
    help: 'processes created at start-up from the templates',
  },
  {
    key: 'maxProcesses',
    flag: 'max-processes',
    env: 'MAX_PROCESSES',
    kind: 'int',
    min: 0,
    max: PID_RANGE - 1,
    def: () => 0,
    help: 'process limit (POST /processes and fork answer EAGAIN beyond); 0 = one more than --max-memory pays for at 16 KiB a process, so the budget (ENOMEM) is met first',
  },
  {
    key: 'maxVmasPerProcess',
    flag: 'max-vmas',
    env: 'MAX_VMAS',
    kind: 'int',
    min: 1,
    def: () => 65530,
    help: 'VMAs per process (max_map_count; ENOMEM beyond)',
  },
  {
    key: 'maxActivities',
    flag: 'max-activities',
    env: 'MAX_ACTIVITIES',
    kind: 'int',
    min: 0,
    def: () => 0,
    help: 'activities running at once, each a ~10 MB thread (EAGAIN beyond); 0 = min(63 - cpus, RAM/8 / 10 MB)',
  },
  {
    key: 'maxMemory',
    flag: 'max-memory',
    env: 'MAX_MEMORY',
    kind: 'bytes',
    min: 1 << 20,
    def: () => defaultMaxMemory(),
    help: 'bytes the hosted processes may take: committed arena pages, 8 KB per process, 10 MB per activity, the pages the shared tables (page state, file table, anon names) use (creates/forks/mmaps ENOMEM, activities EAGAIN beyond); default half of RAM or of the cgroup memory.max',
  },
  {
    key: 'maxBatch',
    flag: 'max-batch',
    env: 'MAX_BATCH',
    kind: 'int',
    min: 1,
    def: () => 65536,
    help: 'entries per batch query or /syscalls (E2BIG beyond)',
  },
  {
    key: 'bodyLimit',
    flag: 'body-limit',
    env: 'BODY_LIMIT',
    kind: 'int',
    min: 1024,
    def: () => 16 * 1024 * 1024,
    help: 'max request body bytes of any route (413 beyond; single calls 64 KiB, batches 256 B an entry)',
  },
  {
    key: 'wsMaxMessage',
    flag: 'ws-max-message',
    env: 'WS_MAX_MESSAGE',
    kind: 'int',
    min: 256,
    def: () => 1024 * 1024,
    help: 'max WebSocket message bytes from a client (close 1009 beyond)',
  },
  {
    key: 'wsMaxBuffered',
    flag: 'ws-max-buffered',
    env: 'WS_MAX_BUFFERED',
    kind: 'int',
    min: 1024,
    def: () => 8 * 1024 * 1024,
    help: 'bytes a WebSocket client may lag before it is closed (1008)',
  },
  {
    key: 'wsMaxSubscribers',
    flag: 'ws-max-subscribers',
    env: 'WS_MAX_SUBSCRIBERS',
    kind: 'int',
    min: 0,
    def: () => 32,
    help: '/ws event subscriptions open at once (one more is answered EAGAIN)',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: 'level',
    def: () => 'info',
    help: `log level (${LOG_LEVELS.join('|')})`,
  },
  {
    key: 'closeGraceMs',
    flag: 'close-grace-ms',
    env: 'CLOSE_GRACE_MS',
    kind: 'int',
    min: 0,
    def: () => 10_000,
    help: 'time in-flight work gets on SIGTERM/SIGINT before exit',
  },
  {
    key: 'maxEventLoopDelayMs',
    flag: 'max-event-loop-delay-ms',
    env: 'MAX_EVENT_LOOP_DELAY_MS',
    kind: 'int',
    min: 0,
    def: () => 1000,
    help: 'event-loop delay that makes the service answer 503 (0 = off)',
  },
  {
    key: 'retryAfterS',
    flag: 'retry-after-s',
    env: 'RETRY_AFTER_S',
    kind: 'int',
    min: 1,
    def: () => 2,
    help: 'Retry-After seconds on 503/429',
  },
  {
    key: 'token',
    flag: 'token',
    env: 'TOKEN',
    kind: 'string',
    def: () => '',
    help: 'bearer token required on every request but /healthz (empty: no authentication)',
  },
  {
    key: 'tokenFile',
    flag: 'token-file',
    env: 'TOKEN_FILE',
    kind: 'string',
    def: () => '',
    help: 'file holding the bearer token (a mounted secret; surrounding whitespace ignored)',
  },
  {
    key: 'allowedHosts',
    flag: 'allowed-hosts',
    env: 'ALLOWED_HOSTS',
    kind: 'string',
    def: () => '',
    help: 'Host header names accepted, comma-separated, * for any (empty: the listen address; any when it is 0.0.0.0 or ::)',
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'ALLOWED_ORIGINS',
    kind: 'string',
    def: () => '',
    help: 'Origins allowed to write and open /ws besides the service itself, comma-separated, * for any',
  },
  {
    key: 'stateDir',
    flag: 'state-dir',
    env: 'STATE_DIR',
    kind: 'string',
    def: () => '',
    help: 'directory for the snapshot: restored at start, written on shutdown and POST /snapshot',
  },
  {
    key: 'pidBase',
    flag: 'pid-base',
    env: 'PID_BASE',
    kind: 'int',
    min: 0,
    max: 2 ** 31 - 2 ** 22,
    def: () => 0,
    help: 'pids of this replica are base+1 … base+4194303 (shards: ordinal × 10000000)',
  },
  {
    key: 'pkeysMode',
    flag: 'pkeys',
    env: 'PKEYS',
    kind: 'pkeys',
    def: () => 'host',
    help: `x86 protection keys of the simulated CPU (${PKEYS_MODES.join('|')}; host = as this machine)`,
  },
  {
    key: 'thpMode',
    flag: 'thp',
    env: 'THP',
    kind: 'thp',
    def: () => 'host',
    help: `transparent huge pages of the simulated kernel (${THP_CONFIG_MODES.join('|')}; host = /sys/kernel/mm/transparent_hugepage/enabled)`,
  },
];
