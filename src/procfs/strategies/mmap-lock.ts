/**
 * `mmap_lock` (kernel.md §3.1, Linux ≤ 6.16): the mmap read lock is held for each whole chunk
 * (m_start .. m_stop of one read()) and for the whole of a PROCMAP_QUERY. Every chunk is an
 * atomic snapshot; writers wait for it. Counts: mmap_lock read wait and hold times only (no
 * speculation, no fallbacks).
 */
import type { MmStruct } from '../../mm/mm-struct.js';
import type { ByteSink } from '../byte-sink.js';
import { type MapsPosition, type MapsWalker, readMapsChunk } from '../maps-text.js';
import type { QueryTarget } from '../procmap-query.js';
import { captureVma, directMapsWalker, queryBuildId } from '../vma-capture.js';
import type { VmaView } from '../vma-view.js';
import { defineStrategy } from './read-strategy.js';
import type { ReaderContext } from './reader-context.js';

/** A query target holding the mmap read lock from setup to teardown. */
function lockedQueryTarget(ctx: ReaderContext, mm: MmStruct): QueryTarget {
  return {
    alive: () => true,
    setup() {
      ctx.mmapReadLock(mm);
      return 0;
    },
    next(addr: number, view: VmaView): number {
      const id = mm.findVma(addr);
      if (id === 0) return 0;
      captureVma(mm, id, view);
      return 1;
    },
    teardown() {
      ctx.mmapReadUnlock(mm);
    },
    buildId: (fileId: number) => queryBuildId(mm, fileId),
  };
}

export default defineStrategy('mmap_lock', {
  readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
    const walker = ctx.cached<MapsWalker>('mmap_lock', mm, () => directMapsWalker(mm));
    ctx.mmapReadLock(mm);
    try {
      return readMapsChunk(pos, limit, walker, sink, ctx.view, ctx.mapsLines(mm));
    } finally {
      ctx.mmapReadUnlock(mm);
    }
  },
  queryTarget: lockedQueryTarget,
});
