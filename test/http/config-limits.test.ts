/**
 * GET /config shows every limit the service enforces (issue 11): each `--max-*`, `--ws-max-*`
 * and `--body-limit` option, with the value in force (resolved: `--max-activities 0` shows the
 * derived number), and the capacities of the global tables every process shares. The list of
 * options comes from the option table itself, so a new limit without its /config field fails
 * here. The /ws `config` request answers the same object.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { OPTION_SPECS, type ServiceConfig } from '../../src/config.js';
import { Sim } from '../../src/cpus/sim.js';
import { appWith } from './helpers.js';

/** Where each limit option shows in /config (snake_case of its key unless named here). */
const FIELD: Partial<Record<keyof ServiceConfig, string>> = {
  maxMemory: 'memory.limit_bytes',
};

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function at(obj: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], obj);
}

const LIMITS = OPTION_SPECS.map((s) => s.key).filter((k) => /^(max|ws)|Limit$/.test(k));

let sim: Sim;
let app: FastifyInstance;
const svc: Partial<ServiceConfig> = {
  maxProcesses: 77,
  maxVmasPerProcess: 1234,
  maxActivities: 0,
  maxMemory: 64 << 20,
  maxBatch: 512,
  bodyLimit: 512 * 256,
  wsMaxMessage: 4321,
  wsMaxBuffered: 98765,
  wsMaxSubscribers: 3,
  maxEventLoopDelayMs: 700,
};

before(async () => {
  sim = await Sim.start({
    strategy: 'per_vma',
    cpus: 0,
    population: 0,
    maxProcesses: 77,
    maxVmasPerProcess: 1234,
    maxBatch: 512,
    maxMemory: 64 << 20,
  });
  app = await appWith(sim, svc);
});
after(async () => {
  await app.close();
  await sim.close();
});

test('every limit option is in GET /config with the value in force', async () => {
  assert.ok(LIMITS.length >= 10, `limit options found: ${LIMITS.join(' ')}`);
  const cfg = (await app.inject({ method: 'GET', url: '/config' })).json();
  for (const key of LIMITS) {
    const field = FIELD[key] ?? snake(key);
    const shown = at(cfg, field);
    assert.equal(typeof shown, 'number', `--${key}: no ${field} in ${JSON.stringify(cfg)}`);
    if (key === 'maxActivities') assert.ok((shown as number) >= 1, 'resolved, never 0');
    else assert.equal(shown, svc[key], `${field}`);
  }
});

test('GET /config shows the shared tables’ capacities', async () => {
  const { tables } = (await app.inject({ method: 'GET', url: '/config' })).json();
  // The file table reserves what the budget (64 MiB here) could pay for, charged as used: an
  // entry per 64 bytes and a heap byte per byte (it was 65,535 entries and 8 MiB, whatever the
  // budget: one client could fill it for everyone while the budget had room).
  // A page more than the budget: the charge rule's margin (src/mm/table-charge.ts).
  assert.equal(tables.file_entries, (64 << 20) / 64 + 4096 / 64);
  assert.ok(tables.file_path_bytes >= (64 << 20) + 4096 + 8192, `${tables.file_path_bytes}`);
  // As many live names as the budget could pay for at 96 B each (not a smaller table that one
  // client could fill for everyone; it was 1 Mi names whatever the budget).
  assert.equal(tables.anon_names, Math.ceil(((64 << 20) + 4096) / 96));
  // The page pool is sized to the memory budget (64 MiB of 32-byte records, and more).
  assert.ok(tables.page_records >= (64 << 20) / 32, `${tables.page_records}`);
  // A budget the tables can back: every entry is charged its own size.
  assert.deepEqual(
    [
      tables.file_entry_charge,
      tables.file_path_byte_charge,
      tables.anon_name_charge,
      tables.page_record_charge,
    ],
    [64, 1, 96, 32],
  );
});
