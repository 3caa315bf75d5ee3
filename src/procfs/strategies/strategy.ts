/**
 * The read strategies by name (API.md "Locking strategies"): what the engine (src/cpus/engine.ts),
 * the race tests and the benchmark use. One module per strategy; this file only collects them.
 *
 *   const ctx = createReaderContext({ rcu, recorder });   // once per thread
 *   strategyByName('per_vma').readMaps(ctx, mm, 4096, (chunk) => ...);
 *   strategyByName('snapshot').query(ctx, mm, args, out);
 */
import { STRATEGIES, type StrategyName } from '../../metrics/labels.js';
import { lockless, locklessNofallback } from './lockless.js';
import { mmapLock } from './mmap-lock.js';
import { perVma } from './per-vma.js';
import type { ReadStrategy } from './read-strategy.js';
import { snapshot } from './snapshot.js';

export type { ReadStrategy } from './read-strategy.js';
export {
  createReaderContext,
  ReaderContext,
  type ReaderContextOptions,
  ReadStats,
  SPECULATION_RETRY_LIMIT,
  type StrategyHooks,
} from './reader-context.js';

/** Indexed by strategy id (labels.ts STRATEGIES order). */
const BY_ID: readonly ReadStrategy[] = [mmapLock, perVma, snapshot, lockless, locklessNofallback];

for (let i = 0; i < STRATEGIES.length; i++) {
  if (BY_ID[i].name !== STRATEGIES[i] || BY_ID[i].id !== i) {
    throw new Error(`strategy registry out of order at ${i}`);
  }
}

export const ALL_STRATEGIES: readonly ReadStrategy[] = BY_ID;

/** The strategy named `name` (names are API). Throws RangeError for an unknown name. */
export function strategyByName(name: StrategyName): ReadStrategy {
  const i = STRATEGIES.indexOf(name);
  if (i < 0) throw new RangeError(`unknown strategy ${name}`);
  return BY_ID[i];
}
