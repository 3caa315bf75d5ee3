/**
 * `snapshot` (kernel.md §3.4, Suren Baghdasaryan's v3 proposal, not merged): RCU + mm sequence
 * speculation; each VMA is copied into a stable local `VmaView` and the copy is validated with
 * the sequence. Any change anywhere in the mm invalidates it: the reader takes the mmap read lock
 * momentarily to wait for the writer and resync the sequence, then looks the position up again.
 * The lines are printed from the copies.
 *
 * Counts: attempt per copy; retry per failed validation; after `ctx.retryLimit` retries of one
 * lookup a `retry_limit` fallback copies that VMA under the (momentary) mmap read lock, so a
 * writer in a tight loop cannot livelock the reader.
 */
import type { MmStruct } from '../../mm/mm-struct.js';
import type { ByteSink } from '../byte-sink.js';
import { type MapsPosition, type MapsWalker, readMapsChunk } from '../maps-text.js';
import type { QueryTarget } from '../procmap-query.js';
import { captureVma, queryBuildId } from '../vma-capture.js';
import type { VmaView } from '../vma-view.js';
import { defineStrategy } from './read-strategy.js';
import { FALLBACK_RETRY_LIMIT, type ReaderContext } from './reader-context.js';
import { Speculation } from './speculation.js';

/** get_stable_vma(): a validated copy of the first VMA with vm_end > from (1), or none (0). */
function stableVma(s: Speculation, from: number, view: VmaView): number {
  const { ctx, mm } = s;
  const hooks = ctx.hooks;
  let retries = 0;
  for (;;) {
    ctx.attempt();
    const id = s.findNext(from);
    if (id !== 0) {
      hooks?.afterLookup?.(mm, id);
      captureVma(mm, id, view);
      hooks?.beforeValidate?.(mm, id);
    }
    if (s.valid()) return id === 0 ? 0 : 1;
    if (retries >= ctx.retryLimit) {
      ctx.fallback(FALLBACK_RETRY_LIMIT);
      return s.underMmapLock(() => {
        const locked = mm.findVma(from);
        if (locked !== 0) captureVma(mm, locked, view);
        return locked === 0 ? 0 : 1;
      });
    }
    retries++;
    ctx.retry();
    s.resync();
  }
}

class SnapshotWalker implements MapsWalker {
  readonly hasGate = true;
  constructor(readonly spec: Speculation) {}
  next(from: number, view: VmaView): number {
    return stableVma(this.spec, from, view);
  }
}

/** v3 8/8: setup records the sequence (briefly locking if a writer holds it) and enters RCU. */
class SnapshotQueryTarget implements QueryTarget {
  constructor(readonly spec: Speculation) {}
  alive(): boolean {
    return true;
  }
  setup(): number {
    this.spec.begin();
    this.spec.ctx.rcu.readLock();
    return 0;
  }
  next(addr: number, view: VmaView): number {
    return stableVma(this.spec, addr, view);
  }
  teardown(): void {
    this.spec.ctx.rcu.readUnlock();
  }
  buildId(fileId: number): Uint8Array | null {
    return queryBuildId(this.spec.mm, fileId);
  }
}

export default defineStrategy('snapshot', {
  readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
    const walker = ctx.cached('snapshot', mm, () => new SnapshotWalker(new Speculation(ctx, mm)));
    walker.spec.begin();
    ctx.rcu.readLock();
    try {
      return readMapsChunk(pos, limit, walker, sink, ctx.view, ctx.mapsLines(mm));
    } finally {
      ctx.rcu.readUnlock();
    }
  },
  queryTarget: (ctx, mm) => new SnapshotQueryTarget(new Speculation(ctx, mm)),
});
