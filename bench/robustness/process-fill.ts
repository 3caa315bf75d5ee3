/**
 * A client that fills the process table with the cheapest processes there are (an import of the
 * `[vsyscall]` line alone, 16 KiB charged each), 16 creates in flight, until refused: what it
 * made, against the default `--max-processes` (derived from the budget), who refused it (the
 * budget's 409 ENOMEM or the table's 429 EAGAIN) and how much budget was left. The bench's
 * figure of test/robustness/process-table-budget.test.ts (which runs the real server).
 */
import { buildApp } from '../../src/app.js';
import { Sim } from '../../src/cpus/sim.js';
import { fuzzConfig } from './fuzz-fixture.js';

const VSYSCALL_ONLY = {
  maps: 'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n',
};
const PARALLEL = 16;

export interface ProcessFill {
  made: number;
  limit: number;
  /** Refusals by `status error` (e.g. `409 ENOMEM`). */
  refusals: Record<string, number>;
  budgetLeftBytes: number;
  ms: number;
}

export async function fillProcessTable(maxMemory: number): Promise<ProcessFill> {
  const config = fuzzConfig({ cpus: 0, population: 0, maxProcesses: 0, maxMemory });
  const sim = await Sim.start({ ...config });
  const app = await buildApp({ config, sim });
  await app.ready();
  try {
    const started = performance.now();
    const refusals: Record<string, number> = {};
    let made = 0;
    while (Object.keys(refusals).length === 0) {
      const answers = await Promise.all(
        Array.from({ length: PARALLEL }, () =>
          app.inject({ method: 'POST', url: '/processes', payload: VSYSCALL_ONLY }),
        ),
      );
      for (const r of answers) {
        if (r.statusCode === 201) made++;
        else {
          const kind = `${r.statusCode} ${(r.json() as { error: string }).error}`;
          refusals[kind] = (refusals[kind] ?? 0) + 1;
        }
      }
    }
    const cfg = sim.getConfig();
    const memory = cfg.memory ?? { limitBytes: Number.NaN, usedBytes: 0 };
    return {
      made,
      limit: cfg.maxProcesses,
      refusals,
      budgetLeftBytes: memory.limitBytes - memory.usedBytes,
      ms: performance.now() - started,
    };
  } finally {
    await app.close();
    await sim.close();
  }
}
