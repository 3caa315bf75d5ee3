/**
 * A hostile client against the process table (issue 11: "a client cannot exhaust a shared table
 * for others"). `--max-processes` was 4,096 whatever the budget: at the 12.6 GB default one client
 * filled it with ~64 MB of the cheapest processes (an import of the vsyscall line alone: 16 KiB
 * charged each), and every other client's create or fork answered EAGAIN while the budget had
 * room. Its default is now one more process than the budget pays for at that least charge
 * (`defaultMaxProcesses`), so the budget, which every client shares and `GET /config` shows, is
 * what a client meets: ENOMEM, never EAGAIN from the table. Run against the real server (where
 * the default is resolved) on both transports, with a 96 MiB budget (the old 4,096 would be
 * full at 64 MiB).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CreateAnswer,
  fillUntilRefused,
  VSYSCALL_ONLY,
} from '../../bench/robustness/process-fill.js';
import { defaultMaxProcesses, MIN_PROCESS_CHARGE } from '../../src/cpus/memory-limit.js';
import { PID_RANGE } from '../../src/cpus/process-table.js';
import { type RunningServer, startServer, stopServer } from '../http/server-process.js';

const MAX_MEMORY = 96 << 20;

test('the default process limit is one more process than the budget pays for', () => {
  for (const budget of [1 << 20, 4 << 20, 96 << 20, 12.6e9, 64 * 2 ** 30, 2 ** 40]) {
    const max = defaultMaxProcesses(budget);
    assert.ok(
      max * MIN_PROCESS_CHARGE > budget || max === PID_RANGE - 1,
      `budget ${budget}: limit ${max}`,
    );
    assert.ok((max - 1) * MIN_PROCESS_CHARGE <= budget, `budget ${budget}: limit ${max} too low`);
  }
  assert.equal(defaultMaxProcesses(Number.POSITIVE_INFINITY), PID_RANGE - 1);
});

for (const cpus of [0, 1]) {
  describe(`a client creating processes until refused (--cpus ${cpus})`, () => {
    let server: RunningServer;
    const post = (url: string, body?: unknown) =>
      fetch(`${server.base}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
    interface Config {
      max_processes: number;
      memory: { limit_bytes: number; used_bytes: number; refused: number };
    }
    const config = async () => (await (await fetch(`${server.base}/config`)).json()) as Config;

    before(async () => {
      server = await startServer([
        ...['--cpus', String(cpus), '--population', '0', '--max-memory', String(MAX_MEMORY)],
      ]);
    });
    after(async () => {
      await stopServer(server);
    });

    test('meets ENOMEM from the budget, never EAGAIN from the table; a freed process serves the next client', async () => {
      const cfg = await config();
      assert.equal(cfg.max_processes, defaultMaxProcesses(MAX_MEMORY));
      const { pids: made, refusals } = await fillUntilRefused(
        async () => {
          const r = await post('/processes', VSYSCALL_ONLY);
          return { status: r.status, body: (await r.json()) as CreateAnswer['body'] };
        },
        (n) => assert.ok(n < cfg.max_processes, 'created past the process limit'),
      );
      console.log(
        `# --cpus ${cpus}: ${made.length} processes made, limit ${cfg.max_processes}, refusals ${JSON.stringify(refusals)}`,
      );
      assert.deepEqual(Object.keys(refusals), ['409 ENOMEM'], 'only the budget refuses');
      const { memory } = await config();
      assert.ok(memory.refused > 0, 'the budget counted its refusals');
      assert.ok(
        memory.limit_bytes - memory.used_bytes < MIN_PROCESS_CHARGE,
        `budget spent to within one process: ${JSON.stringify(memory)}`,
      );
      assert.ok(made.length > 4096, `more processes than the old fixed limit: ${made.length}`);

      // Another client is refused the same way; once the hostile client lets a process go, the
      // budget it freed serves the other client.
      const other = await post('/processes', VSYSCALL_ONLY);
      assert.equal(other.status, 409);
      const del = await fetch(`${server.base}/processes/${made.pop()}`, { method: 'DELETE' });
      assert.equal(del.status, 204);
      const cheap = await post('/processes', VSYSCALL_ONLY);
      assert.equal(cheap.status, 201, 'the freed charge serves the next create');
    });
  });
}
