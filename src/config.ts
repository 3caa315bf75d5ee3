/**
 * Service configuration: CLI flags, then environment variables, then defaults (a flag wins over
 * its env var). One table (config-options.ts) drives parsing and `--help`, so the help text
 * cannot drift.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, OPTION_SPECS, type OptionSpec, type ServiceConfig } from './config-options.js';
import { isStrategyName, READS_ON } from './cpus/sim-api.js';
import { isPkeysMode, isThpConfigMode, PKEYS_MODES, THP_CONFIG_MODES } from './machine-caps.js';

export { OPTION_SPECS, type ServiceConfig } from './config-options.js';

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
