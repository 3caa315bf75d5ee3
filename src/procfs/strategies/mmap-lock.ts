/**
 * `mmap_lock` (kernel.md §3.1, Linux ≤ 6.16): the mmap read lock is held for each whole chunk
 * (m_start .. m_stop of one read()) and for the whole of a PROCMAP_QUERY. Every chunk is an
 * atomic snapshot; writers wait for it. Counts: mmap_lock read wait and hold times only (no
 * speculation, no fallbacks).
 */
import { strategyId } from '../../metrics/labels.js';
import type { MmStruct } from '../../mm/mm-struct.js';
import type { ByteSink } from '../byte-sink.js';
import { type MapsPosition, type MapsWalker, readMapsChunk } from '../maps-text.js';
import {
  type ProcmapQueryArgs,
  type ProcmapQueryResult,
  procmapQuery,
  type QueryTarget,
} from '../procmap-query.js';
import { captureVma, directMapsWalker } from '../vma-capture.js';
import type { VmaView } from '../vma-view.js';
import { type ReadStrategy, readWholeFile } from './read-strategy.js';
import { OP_QUERY, type ReaderContext } from './reader-context.js';

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
    buildId: (fileId: number) => mm.files.buildId(fileId),
  };
}

export const mmapLock: ReadStrategy = {
  name: 'mmap_lock',
  id: strategyId('mmap_lock'),
  readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
    const walker = ctx.cached<MapsWalker>('mmap_lock', mm, () => directMapsWalker(mm));
    ctx.mmapReadLock(mm);
    try {
      return readMapsChunk(pos, limit, walker, sink, ctx.view);
    } finally {
      ctx.mmapReadUnlock(mm);
    }
  },
  readMaps(ctx, mm, chunkLimit, onChunk) {
    return readWholeFile(this, ctx, mm, chunkLimit, onChunk);
  },
  query(ctx: ReaderContext, mm: MmStruct, args: ProcmapQueryArgs, out: ProcmapQueryResult) {
    const target = ctx.cached('mmap_lock.q', mm, () => lockedQueryTarget(ctx, mm));
    ctx.beginRead(OP_QUERY, this.id);
    const r = procmapQuery(args, target, out);
    ctx.endRead();
    return r;
  },
};
