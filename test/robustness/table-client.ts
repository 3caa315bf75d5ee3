/**
 * A client of the shared-table tests (file-table-budget, shared-table-charge): the budget from
 * GET /config, a /metrics line, processes, and /syscalls batches answered per call.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Sim } from '../../src/cpus/sim.js';
import { appWith } from '../http/helpers.js';

const json = { 'content-type': 'application/json' };
export const hex = (n: number) => `0x${n.toString(16)}`;

/** A one-page private read-only mapping of `path` (a file identity: dev 08:01, `inode`). */
export function mmapFile(addr: number, path: string, inode: number) {
  return {
    op: 'mmap',
    addr: hex(addr),
    length: '0x1000',
    prot: 'r--',
    flags: ['private', 'fixed'],
    path,
    dev: '08:01',
    inode,
  };
}

export interface Memory {
  limit_bytes: number;
  used_bytes: number;
  refused: number;
}

export function tableClient(app: () => FastifyInstance, defaultBatch: number) {
  return {
    async memory(): Promise<Memory> {
      return (await app().inject({ method: 'GET', url: '/config' })).json().memory;
    },
    /** The value of the /metrics line that starts with `name` (labels included) and a space. */
    async metric(name: string): Promise<number> {
      const text = (await app().inject({ method: 'GET', url: '/metrics' })).body;
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      assert.ok(line, `${name} in /metrics`);
      return Number(line.split(' ')[1]);
    },
    async create(): Promise<number> {
      const r = await app().inject({
        method: 'POST',
        url: '/processes',
        headers: json,
        payload: { template: 'minimal' },
      });
      assert.equal(r.statusCode, 201, r.body);
      return r.json().pid;
    },
    /** Runs the calls in batches; the results' errors in order (undefined = done). */
    async run(
      pid: number,
      calls: object[],
      batch = defaultBatch,
    ): Promise<Array<string | undefined>> {
      const errors: Array<string | undefined> = [];
      for (let i = 0; i < calls.length; i += batch) {
        const r = await app().inject({
          method: 'POST',
          url: `/proc/${pid}/syscalls`,
          headers: json,
          payload: { calls: calls.slice(i, i + batch) },
        });
        assert.equal(r.statusCode, 200, r.body.slice(0, 300));
        for (const x of r.json().results as Array<{ error?: string }>) errors.push(x.error);
      }
      return errors;
    },
  };
}

/** A Sim from `startSim` and its app (`maxBatch`, 16 MiB bodies), with a `tableClient`. */
export function tableHarness(startSim: () => Promise<Sim>, maxBatch: number, batch = maxBatch) {
  let sim: Sim;
  let app: FastifyInstance;
  return {
    get app(): FastifyInstance {
      return app;
    },
    async start() {
      sim = await startSim();
      app = await appWith(sim, { maxBatch, bodyLimit: 16 << 20 });
    },
    async stop() {
      await app.close();
      await sim.close();
    },
    ...tableClient(() => app, batch),
  };
}
