/**
 * `lockless_nofallback`: `lockless` without the fancy-VMA fallback. Anon names and special
 * mapping names are read speculatively; reads of freed/reused anon-name storage
 * (`use_after_free`) and name ops switched to dummy ops between check and call (`null_deref`)
 * are detected, counted as hazards, and the line retried. See lockless-core.ts.
 */
import { strategyId } from '../../metrics/labels.js';
import { locklessStrategy } from './lockless-strategy.js';

export const locklessNofallback = locklessStrategy(
  'lockless_nofallback',
  strategyId('lockless_nofallback'),
  false,
);
