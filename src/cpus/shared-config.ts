/**
 * Service configuration every thread reads on its hot path, in shared memory so that
 * `PUT /config/strategy` takes effect on all worker CPUs and activity threads at once.
 *
 * Word 0: the configured strategy's id (src/metrics/labels.ts STRATEGIES order). Written by the
 * event loop with Atomics.store; read by any thread with Atomics.load (a reader may see the old
 * value for the request it is already serving, as with any runtime setting).
 */
import { STRATEGIES, type StrategyId, type StrategyName, strategyId } from '../metrics/labels.js';

const W_STRATEGY = 0;
const WORDS = 16; // one cache line

export class SharedConfig {
  private constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly words: Int32Array,
  ) {}

  static create(strategy: StrategyName): SharedConfig {
    const buffer = new SharedArrayBuffer(WORDS * 4);
    const config = SharedConfig.attach(buffer);
    config.strategy = strategy;
    return config;
  }

  static attach(buffer: SharedArrayBuffer): SharedConfig {
    return new SharedConfig(buffer, new Int32Array(buffer));
  }

  get strategyId(): StrategyId {
    return Atomics.load(this.words, W_STRATEGY) as StrategyId;
  }

  get strategy(): StrategyName {
    return STRATEGIES[this.strategyId];
  }

  set strategy(name: StrategyName) {
    Atomics.store(this.words, W_STRATEGY, strategyId(name));
  }
}
