/**
 * Query strings of the procfs text files (API.md "procfs reads", "Touched memory"): maps and
 * smaps are read in chunks of whole lines/blocks, each chunk in its own lock window.
 */
import { Type } from 'typebox';
import { StrategyName } from './common.js';

/** A read() of one page, as `cat` does: the chunk when `?chunk=` is absent. */
export const DEFAULT_CHUNK = 4096;

/** `?chunk=`: the read() size of each lock window. */
export const ChunkParam = Type.Integer({
  minimum: 0,
  maximum: 64 * 1024 * 1024,
  default: DEFAULT_CHUNK,
  description: 'max bytes of whole lines per lock window; 0 = one window for the whole file',
});

/**
 * smaps and smaps_rollup: Linux 6.18 reads them under the mmap read lock whatever the maps
 * strategy (they walk page tables), so `strategy` may only name `mmap_lock` (the route refuses
 * the others with EINVAL). smaps_rollup is one record: its `chunk` splits nothing.
 */
export const SmapsQuery = Type.Object({
  strategy: Type.Optional(StrategyName),
  chunk: Type.Optional(ChunkParam),
});
