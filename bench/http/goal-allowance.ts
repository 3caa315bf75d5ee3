/**
 * What an HTTP goal (ours ≥ R × the hello-world's requests/s) leaves one of our requests, in
 * event-loop CPU. Here the server's event loop and autocannon share the 2 CPUs, so requests/s
 * follow the event loop's CPU per request (maps at 31.7 µs against the hello-world's 18.5 read
 * 0.62×, where 18.5 / 31.7 = 0.58): R× allows a request at most the hello-world's event loop ×
 * (1/R − 1) more than the hello-world's. Two rows against that allowance: what ours spends above
 * the hello-world's under autocannon, and the engine's read alone, in process (a loop of it, hot
 * in cache). Where the read alone is over the allowance, no cut outside the engine meets the goal.
 */
import { type Figure, ratioFigure } from '../lib/figure.js';
import type { Load } from './load-runs.js';
import type { StageCost } from './request-stages.js';

export interface GoalAllowance {
  /** Figure ids: `http.${id}_allowance.request` and `….read`. */
  id: string;
  /** The request, e.g. `GET maps`. */
  request: string;
  /** The goal's ratio of requests/s, e.g. 0.7. */
  goal: number;
  /** The stage that is the engine's read of this request (request-stages.ts). */
  readStage: string;
}

export function goalAllowance(
  a: GoalAllowance,
  ours: Load,
  hello: Load,
  stages: readonly StageCost[],
): Figure[] {
  const read = stages.find((s) => s.key === a.readStage);
  if (read === undefined) throw new Error(`${a.request} allowance: no ${a.readStage} stage`);
  const helloUs = hello.cpu.mainThreadUs;
  const baseline = {
    name: `what ${a.goal}× allows above the hello-world's ${helloUs.toFixed(1)} µs: × (1/${a.goal} − 1)`,
    value: helloUs * (1 / a.goal - 1),
  };
  const section = 'HTTP: what the goals leave a request (event-loop µs)';
  const goal = { op: '<=', ratio: 1 } as const;
  return [
    ratioFigure({
      id: `http.${a.id}_allowance.request`,
      section,
      what: `${a.request} under autocannon: our event loop per request above the hello-world's`,
      unit: 'µs',
      value: ours.cpu.mainThreadUs - helloUs,
      baseline,
      goal,
    }),
    ratioFigure({
      id: `http.${a.id}_allowance.read`,
      section,
      what: `of it, the engine's read alone in process (stage ${a.readStage}, hot in cache)`,
      unit: 'µs',
      value: read.us,
      baseline,
      goal,
    }),
  ];
}
