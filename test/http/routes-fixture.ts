/**
 * The shared set-up of the route tests (routes-*.test.ts): the real app around a recording fake
 * sim with pids 1 and 2, through inject(); the sim's call log is emptied before each test.
 */
import { after, before, beforeEach } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { SyscallCall } from '../../src/cpus/sim-api.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

export interface RoutesFixture {
  sim: FakeSim;
  app: FastifyInstance;
  /** The calls of the last `syscalls` the routes handed the sim. */
  lastSyscalls(): SyscallCall[];
}

/** Registers the file's before/after hooks; the fixture's fields are set once `before` ran. */
export function useRoutesFixture(): RoutesFixture {
  const fx = {
    lastSyscalls: () =>
      fx.sim.log.filter((l) => l.method === 'syscalls').at(-1)?.args as SyscallCall[],
  } as RoutesFixture;
  before(async () => {
    fx.sim = new FakeSim([1, 2]);
    fx.app = await appWith(fx.sim);
  });
  after(() => fx.app.close());
  beforeEach(() => {
    fx.sim.log.length = 0;
  });
  return fx;
}
