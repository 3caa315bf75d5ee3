/**
 * The fixture of the HTTP and WS fuzzers: the real engine on the event loop (a `Sim` with
 * `--cpus 0`: same engine and errnos as the worker CPUs, and fast), the real app around it with
 * small limits so the limit paths run, a victim process (pid 1, a `bash` layout) and the shapes
 * the request arbitraries are built from (its VMA boundaries and maps text).
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { defaultConfig, type ServiceConfig } from '../../src/config.js';
import { Sim } from '../../src/cpus/sim.js';
import { HostileClient } from './hostile-client.js';
import { TASK_SIZE } from './hostile-values.js';
import type { RequestShapes } from './http-requests.js';

/** The default seed of the fuzzers (FUZZ_SEED overrides it); printed by every run. */
export const DEFAULT_SEED = 20_261_203;

export function fuzzSeed(): number {
  const s = process.env.FUZZ_SEED;
  return s === undefined || s === '' ? DEFAULT_SEED : Number(s);
}

export interface FuzzFixture {
  app: FastifyInstance;
  sim: Sim;
  client: HostileClient;
  shapes: RequestShapes;
  close(): Promise<void>;
}

export function fuzzConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return defaultConfig({
    port: 0,
    cpus: 0,
    population: 2,
    maxProcesses: 16,
    maxActivities: 4,
    maxBatch: 64,
    bodyLimit: 1024 * 1024,
    maxEventLoopDelayMs: 0,
    logLevel: 'silent',
    ...overrides,
  });
}

export async function fuzzFixture(overrides: Partial<ServiceConfig> = {}): Promise<FuzzFixture> {
  const config = fuzzConfig(overrides);
  const sim = await Sim.start({ ...config, cpus: 0 });
  const app = await buildApp({ config, sim });
  await app.ready();
  const client = await HostileClient.on(app, sim, 1);
  const mapsText = client.victimMaps();
  const bases = new Set<bigint>([0n, TASK_SIZE, 0x7f0000000000n]);
  for (const line of mapsText.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (m) {
      bases.add(BigInt(`0x${m[1]}`));
      bases.add(BigInt(`0x${m[2]}`));
    }
  }
  const shapes = { bases: [...bases], mapsText, maxBatch: config.maxBatch };
  return { app, sim, client, shapes, close: () => app.close() };
}
