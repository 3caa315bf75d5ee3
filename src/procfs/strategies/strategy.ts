/**
 * The read strategies by name (API.md "Locking strategies"): what the engine (src/cpus/engine.ts),
 * the race tests and the benchmark use. One module per strategy, found by its name: strategy
 * `foo_bar` is the default export of `./foo-bar.js` (a `defineStrategy('foo_bar', ...)`). So a new
 * strategy is one new file plus its name appended to STRATEGIES (src/metrics/labels.ts), from
 * which the metric labels, the schemas and the instrument layout derive
 * (test/procfs/strategies/sixth-strategy.test.ts proves it).
 *
 *   const ctx = createReaderContext({ rcu, recorder });   // once per thread
 *   strategyByName('per_vma').readMaps(ctx, mm, 4096, (chunk) => ...);
 *   strategyByName('snapshot').query(ctx, mm, args, out);
 */
import { STRATEGIES, type StrategyName } from '../../metrics/labels.js';
import type { ReadStrategy } from './read-strategy.js';

export type { ReadStrategy } from './read-strategy.js';
export {
  createReaderContext,
  ReaderContext,
  type ReaderContextOptions,
  ReadStats,
  SPECULATION_RETRY_LIMIT,
  type StrategyHooks,
} from './reader-context.js';

/** The module file of a strategy name. */
export function strategyModule(name: StrategyName): string {
  return `./${name.replaceAll('_', '-')}.js`;
}

/** Indexed by strategy id (labels.ts STRATEGIES order). */
const BY_ID: readonly ReadStrategy[] = await Promise.all(
  STRATEGIES.map(async (name, id) => {
    const s = ((await import(strategyModule(name))) as { default?: ReadStrategy }).default;
    if (s?.name !== name || s.id !== id) {
      throw new Error(`${strategyModule(name)} must export default defineStrategy('${name}', ...)`);
    }
    return s;
  }),
);

export const ALL_STRATEGIES: readonly ReadStrategy[] = BY_ID;

/** The strategy named `name` (names are API). Throws RangeError for an unknown name. */
export function strategyByName(name: StrategyName): ReadStrategy {
  const i = STRATEGIES.indexOf(name);
  if (i < 0) throw new RangeError(`unknown strategy ${name}`);
  return BY_ID[i];
}
