/**
 * The one interface every read strategy implements (kernel.md §3; API.md "Locking strategies"),
 * and the driver: a strategy supplies how it reads one chunk (its lock window) and its
 * PROCMAP_QUERY target (query_vma_setup/find/teardown); `defineStrategy` adds the whole-file read
 * and the counted query, the same for every strategy.
 */
import type { StrategyId, StrategyName } from '../../metrics/labels.js';
import { strategyId } from '../../metrics/labels.js';
import type { MmStruct } from '../../mm/mm-struct.js';
import type { ByteSink } from '../byte-sink.js';
import type { MapsPosition } from '../maps-text.js';
import {
  type ProcmapQueryArgs,
  type ProcmapQueryResult,
  procmapQuery,
  type QueryTarget,
} from '../procmap-query.js';
import { type AddressBatch, type QueryColumns, runQueryBatch } from '../query-batch.js';
import { OP_MAPS, OP_QUERY, type ReaderContext } from './reader-context.js';

export interface ReadStrategy {
  readonly name: StrategyName;
  readonly id: StrategyId;
  /**
   * One read() of /proc/PID/maps of `limit` bytes (0 = no limit): appends one chunk of whole
   * lines from `pos` to `sink`, taking and dropping this strategy's locks inside (one lock
   * window per chunk, or per VMA). Returns the bytes appended, 0 at EOF, or -errno. Counts go to
   * `ctx` under the read begun by the caller (`ctx.beginRead`).
   */
  readChunk(
    ctx: ReaderContext,
    mm: MmStruct,
    pos: MapsPosition,
    limit: number,
    sink: ByteSink,
  ): number;
  /**
   * One whole read of the file (open, read() until EOF): every chunk is produced in its own lock
   * window and handed to `onChunk` (a view, valid only during the call). Returns 0 or -errno
   * (a failure after some chunks ends the read; the chunks delivered stay delivered). Records
   * the read's duration, speculation counts, fallbacks, hazards and lock times.
   */
  readMaps(
    ctx: ReaderContext,
    mm: MmStruct,
    chunkLimit: number,
    onChunk: (bytes: Uint8Array) => void,
  ): number;
  /** One PROCMAP_QUERY ioctl: fills `out`, returns 0 or -errno. Records like readMaps. */
  query(ctx: ReaderContext, mm: MmStruct, args: ProcmapQueryArgs, out: ProcmapQueryResult): number;
  /**
   * `query` inside a read the caller began (`ctx.beginRead(OP_QUERY, id)`) and ends
   * (`ctx.endRead(count)`, one count per query): a batch of queries timed as a whole.
   */
  queryInRead(
    ctx: ReaderContext,
    mm: MmStruct,
    args: ProcmapQueryArgs,
    out: ProcmapQueryResult,
  ): number;
  /**
   * The PROCMAP_QUERY ioctls of addresses [from, to) of a compact batch, one after the other,
   * into `cols` (query-batch.ts: what a batch counts). Returns `to`; `ReadWouldWait` carries
   * where it stopped.
   */
  queryBatch(
    ctx: ReaderContext,
    mm: MmStruct,
    batch: AddressBatch,
    cols: QueryColumns,
    from: number,
    to: number,
  ): number;
}

/** readMaps in terms of readChunk (what every strategy's readMaps is). */
export function readWholeFile(
  s: ReadStrategy,
  ctx: ReaderContext,
  mm: MmStruct,
  chunkLimit: number,
  onChunk: (bytes: Uint8Array) => void,
): number {
  const pos = ctx.position;
  const sink = ctx.sink;
  pos.rewind();
  ctx.beginRead(OP_MAPS, s.id);
  let err = 0;
  for (;;) {
    sink.clear();
    const n = s.readChunk(ctx, mm, pos, chunkLimit, sink);
    if (n < 0) {
      err = n;
      break;
    }
    if (n === 0) break;
    onChunk(sink.view());
  }
  ctx.endRead();
  return err;
}

/** What one strategy supplies: its chunk read (lock window) and its query target. */
export interface StrategyLocking {
  readChunk: ReadStrategy['readChunk'];
  /** The reader's PROCMAP_QUERY target on `mm` (made once per context and mm, then reused). */
  queryTarget(ctx: ReaderContext, mm: MmStruct): QueryTarget;
}

/** A ReadStrategy from its locking: readMaps and query are the driver's. */
export function defineStrategy(name: StrategyName, locking: StrategyLocking): ReadStrategy {
  const id = strategyId(name);
  const targetKey = `${name}.q`;
  return {
    name,
    id,
    readChunk: locking.readChunk,
    readMaps(ctx, mm, chunkLimit, onChunk) {
      return readWholeFile(this, ctx, mm, chunkLimit, onChunk);
    },
    query(ctx, mm, args, out) {
      ctx.beginRead(OP_QUERY, id);
      const r = this.queryInRead(ctx, mm, args, out);
      ctx.endRead();
      return r;
    },
    queryInRead(ctx, mm, args, out) {
      const target = ctx.cached(targetKey, mm, () => locking.queryTarget(ctx, mm));
      return procmapQuery(args, target, out);
    },
    queryBatch(ctx, mm, batch, cols, from, to) {
      const target = ctx.cached(targetKey, mm, () => locking.queryTarget(ctx, mm));
      return runQueryBatch(ctx, id, target, batch, cols, from, to);
    },
  };
}
