/**
 * `lockless`: RCU + mm sequence speculation, each maps line formatted straight from the live VMA
 * record and validated afterwards (retry on change, `retry_limit` fallback); VMAs with anon
 * names or special-mapping names fall back to a momentary mmap read lock (`fancy_vma`), so name
 * storage is never read unprotected and no hazard can occur. See lockless-core.ts.
 */
import { strategyId } from '../../metrics/labels.js';
import { locklessStrategy } from './lockless-strategy.js';

export const lockless = locklessStrategy('lockless', strategyId('lockless'), true);
