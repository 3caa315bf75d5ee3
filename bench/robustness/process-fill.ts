/**
 * A client that fills the process table with the cheapest processes there are (an import of the
 * `[vsyscall]` line alone, 16 KiB charged each), 16 creates in flight, until refused: what it
 * made, against the default `--max-processes` (derived from the budget), who refused it (the
 * budget's 409 ENOMEM or the table's 429 EAGAIN) and how much budget was left. The bench's
 * figure of test/robustness/process-table-budget.test.ts, which runs the same loop
 * (`fillUntilRefused`) against the real server.
 */
import { buildApp } from '../../src/app.js';
import { Sim } from '../../src/cpus/sim.js';
import { fuzzConfig } from './fuzz-fixture.js';

/** The cheapest process there is: no VMA but the gate line (two arena pages + its views). */
export const VSYSCALL_ONLY = {
  maps: 'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n',
};
/** Creates in flight at once (the hostile client is in a hurry). */
const PARALLEL = 16;

/** One `POST /processes` answer: its status and JSON body. */
export interface CreateAnswer {
  status: number;
  body: { pid: number; error: string };
}

/**
 * Calls `create` PARALLEL at a time until a round sees a refusal; the pids made and the
 * refusals by `status error` (e.g. `409 ENOMEM`). `eachRound` runs after every round.
 */
export async function fillUntilRefused(
  create: () => Promise<CreateAnswer>,
  eachRound: (made: number) => void = () => {},
): Promise<{ pids: number[]; refusals: Record<string, number> }> {
  const pids: number[] = [];
  const refusals: Record<string, number> = {};
  while (Object.keys(refusals).length === 0) {
    const answers = await Promise.all(Array.from({ length: PARALLEL }, create));
    for (const { status, body } of answers) {
      if (status === 201) pids.push(body.pid);
      else {
        const kind = `${status} ${body.error}`;
        refusals[kind] = (refusals[kind] ?? 0) + 1;
      }
    }
    eachRound(pids.length);
  }
  return { pids, refusals };
}

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
    const { pids, refusals } = await fillUntilRefused(async () => {
      const r = await app.inject({ method: 'POST', url: '/processes', payload: VSYSCALL_ONLY });
      return { status: r.statusCode, body: r.json() as CreateAnswer['body'] };
    });
    const cfg = sim.getConfig();
    const memory = cfg.memory ?? { limitBytes: Number.NaN, usedBytes: 0 };
    return {
      made: pids.length,
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
