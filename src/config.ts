/**
 * Service configuration: CLI flags, then environment variables, then defaults (a flag wins over
 * its env var). One table drives parsing and `--help`, so the help text cannot drift.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultMaxMemory } from './cpus/memory-limit.js';
import { isStrategyName, READS_ON, type ReadsOn, type StrategyName } from './cpus/sim-api.js';
import {
  isPkeysMode,
  isThpConfigMode,
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

type Kind = 'string' | 'int' | 'bytes' | 'strategy' | 'level' | 'pkeys' | 'thp' | 'reads';

interface OptionSpec {
  key: keyof ServiceConfig;
  flag: string;
  env: string;
  kind: Kind;
  def: () => string | number;
  min?: number;
  max?: number;
  help: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
    min: 1,
    def: () => 4096,
    help: 'process limit (POST /processes and fork answer EAGAIN beyond)',
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
    help: 'bytes the hosted processes may take: committed arena pages, 8 KB per process, 10 MB per activity (creates/forks/mmaps ENOMEM, activities EAGAIN beyond); default half of RAM or of the cgroup memory.max',
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

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseValue(spec: OptionSpec, raw: string, source: string): string | number {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^[0-9]+$/.test(raw)) throw new ConfigError(`${source}: "${raw}" is not an integer`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < (spec.min ?? 0) || n > (spec.max ?? Infinity)) {
        const max = spec.max === undefined ? '' : `, max ${spec.max}`;
        throw new ConfigError(`${source}: ${raw} is out of range (min ${spec.min ?? 0}${max})`);
      }
      return n;
    }
    case 'bytes': {
      const m = /^([0-9]+)([KMGT]?)$/i.exec(raw);
      if (!m) throw new ConfigError(`${source}: "${raw}" is not a byte count (e.g. 512M, 8G)`);
      const n = Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
      if (!Number.isSafeInteger(n) || n < (spec.min ?? 0)) {
        throw new ConfigError(`${source}: ${raw} is out of range (min ${spec.min ?? 0} bytes)`);
      }
      return n;
    }
    case 'strategy':
      if (!isStrategyName(raw)) throw new ConfigError(`${source}: unknown strategy "${raw}"`);
      return raw;
    case 'level':
      if (!LOG_LEVELS.includes(raw)) throw new ConfigError(`${source}: unknown level "${raw}"`);
      return raw;
    case 'reads':
      if (!(READS_ON as readonly string[]).includes(raw)) {
        throw new ConfigError(`${source}: "${raw}" is not one of ${READS_ON.join(', ')}`);
      }
      return raw;
    case 'pkeys':
      if (!isPkeysMode(raw)) {
        throw new ConfigError(`${source}: "${raw}" is not one of ${PKEYS_MODES.join(', ')}`);
      }
      return raw;
    case 'thp':
      if (!isThpConfigMode(raw)) {
        throw new ConfigError(`${source}: "${raw}" is not one of ${THP_CONFIG_MODES.join(', ')}`);
      }
      return raw;
  }
}

export type ParsedCommandLine = { help: true } | { help: false; config: ServiceConfig };

/** Flags > env > defaults. Throws ConfigError with a message naming the bad flag or variable. */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedCommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const s of OPTION_SPECS) options[s.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (values.help) return { help: true };
  const config: Record<string, string | number> = {};
  for (const s of OPTION_SPECS) {
    const flag = values[s.flag];
    if (typeof flag === 'string') config[s.key] = parseValue(s, flag, `--${s.flag}`);
    else if (env[s.env] !== undefined && env[s.env] !== '')
      config[s.key] = parseValue(s, env[s.env] as string, `env ${s.env}`);
    else config[s.key] = s.def();
  }
  if (config.tokenFile !== '') config.token = readTokenFile(config);
  return { help: false, config: config as unknown as ServiceConfig };
}

/** `--token-file`: the token, from a file (a Docker/Kubernetes secret), never with `--token`. */
function readTokenFile(config: Record<string, string | number>): string {
  if (config.token !== '') throw new ConfigError('give --token or --token-file, not both');
  let text: string;
  try {
    text = readFileSync(String(config.tokenFile), 'utf8');
  } catch (e) {
    throw new ConfigError(`--token-file: cannot read ${config.tokenFile}: ${(e as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new ConfigError(`--token-file: ${config.tokenFile} is empty`);
  return token;
}

/** Defaults only (no flags, no env): what tests start from. */
export function defaultConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  const parsed = parseConfig([], {});
  if (parsed.help) throw new Error('unreachable');
  return { ...parsed.config, ...overrides };
}

export function helpText(): string {
  const lines = [
    'procfs-sim: simulated Linux address spaces serving /proc/PID/maps and PROCMAP_QUERY over HTTP',
    '',
    'usage: node dist/src/server.js [options]   (every option also reads the env var shown)',
    '',
  ];
  for (const s of OPTION_SPECS) {
    const left = `  --${s.flag} <${s.kind === 'int' ? 'n' : 'value'}>`;
    lines.push(`${left.padEnd(36)} ${s.help}`);
    lines.push(`${''.padEnd(36)} env ${s.env}, default ${s.def() === '' ? '(none)' : s.def()}`);
  }
  lines.push(`${'  -h, --help'.padEnd(36)} this text`);
  return `${lines.join('\n')}\n`;
}
