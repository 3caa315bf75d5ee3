/** The ReadStrategy object of the two lockless variants (they differ only in the fancy fallback). */
import type { StrategyId, StrategyName } from '../../metrics/labels.js';
import type { MmStruct } from '../../mm/mm-struct.js';
import type { ByteSink } from '../byte-sink.js';
import type { MapsPosition } from '../maps-text.js';
import { type ProcmapQueryArgs, type ProcmapQueryResult, procmapQuery } from '../procmap-query.js';
import { readLineChunk } from './line-chunk.js';
import { LocklessQueryTarget, LocklessReader } from './lockless-core.js';
import { type ReadStrategy, readWholeFile } from './read-strategy.js';
import { OP_QUERY, type ReaderContext } from './reader-context.js';

export function locklessStrategy(
  name: StrategyName,
  id: StrategyId,
  fancyFallback: boolean,
): ReadStrategy {
  const mapsKey = name;
  const queryKey = `${name}.q`;
  return {
    name,
    id,
    readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
      const reader = ctx.cached(mapsKey, mm, () => new LocklessReader(ctx, mm, fancyFallback));
      reader.spec.begin();
      ctx.rcu.readLock();
      try {
        return readLineChunk(pos, limit, reader, sink, ctx.view);
      } finally {
        ctx.rcu.readUnlock();
      }
    },
    readMaps(ctx, mm, chunkLimit, onChunk) {
      return readWholeFile(this, ctx, mm, chunkLimit, onChunk);
    },
    query(ctx: ReaderContext, mm: MmStruct, args: ProcmapQueryArgs, out: ProcmapQueryResult) {
      const target = ctx.cached(
        queryKey,
        mm,
        () => new LocklessQueryTarget(new LocklessReader(ctx, mm, fancyFallback)),
      );
      ctx.beginRead(OP_QUERY, id);
      const r = procmapQuery(args, target, out);
      ctx.endRead();
      return r;
    },
  };
}
