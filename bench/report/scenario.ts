/**
 * Saved scenarios (scenarios/*.json): which layout, and how long to measure in a full and a
 * quick run. Every scenario runs every strategy × reader × writer (`--only` narrows readers).
 */
import { readFileSync } from 'node:fs';
import { isLayout, type LayoutName } from '../workloads/definitions.js';

export interface Scenario {
  name: string;
  description: string;
  layout: LayoutName;
  full: { reps: number; window_ms: number };
  quick: { reps: number; window_ms: number };
}

function timing(v: unknown, what: string): { reps: number; window_ms: number } {
  const t = v as { reps?: unknown; window_ms?: unknown } | undefined;
  const ok = (n: unknown, max: number) =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= max;
  if (!t || !ok(t.reps, 20) || !ok(t.window_ms, 5000)) {
    throw new Error(`scenario: ${what} must be { "reps": 1..20, "window_ms": 1..5000 }`);
  }
  return { reps: t.reps as number, window_ms: t.window_ms as number };
}

/** Parses and checks a scenario (clear errors naming the bad field). */
export function parseScenario(text: string): Scenario {
  const j = JSON.parse(text) as Record<string, unknown>;
  if (typeof j.name !== 'string' || j.name === '')
    throw new Error('scenario: "name" must be a string');
  if (typeof j.layout !== 'string' || !isLayout(j.layout)) {
    throw new Error(`scenario: "layout" must be node, jvm or vmas10k (got ${String(j.layout)})`);
  }
  return {
    name: j.name,
    description: typeof j.description === 'string' ? j.description : '',
    layout: j.layout,
    full: timing(j.full, '"full"'),
    quick: timing(j.quick, '"quick"'),
  };
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(file, 'utf8'));
}
