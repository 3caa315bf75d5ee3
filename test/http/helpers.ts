/** Builds the real app around a given sim, with test-sized limits, for `inject()`. */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { defaultConfig, type ServiceConfig } from '../../src/config.js';
import type { SimApi } from '../../src/cpus/sim-api.js';

export function testConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return defaultConfig({
    port: 0,
    cpus: 0,
    population: 0,
    maxBatch: 8,
    bodyLimit: 64 * 1024,
    maxEventLoopDelayMs: 0,
    logLevel: 'silent',
    ...overrides,
  });
}

export async function appWith(
  sim: SimApi,
  overrides: Partial<ServiceConfig> = {},
  extra: { healthCheck?: () => Promise<boolean>; healthCheckIntervalMs?: number } = {},
): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(overrides), sim, ...extra });
  await app.ready();
  return app;
}

/** The compact batch's answer columns but `errno`, in their order (API.md "compact form"). */
export const BATCH_COLUMNS = [
  'vma_start',
  'vma_end',
  'vma_flags',
  'vma_offset',
  'inode',
  'dev_major',
  'dev_minor',
  'vma_name',
] as const;
