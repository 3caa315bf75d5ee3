/**
 * The engine's PROCMAP_QUERY handlers (engine.ts owns the address spaces and the reader context;
 * this runs the queries against one of them): the point query and the per-query batch (`query`:
 * one answer object or errno per query) and the compact batch (`queryColumns`: one flags value
 * for every address, answered column-wise, query-batch.ts).
 *
 * On the event loop a query that would wait for the mmap lock throws `ReadWouldWait` with
 * `resumeAt` = its index (the answers before it are filled in); the caller then takes that mm's
 * mmap read lock without blocking and calls again with `from` = that index and `waitedNs`: that
 * one query runs holding the lock (released before the next one), the rest as usual.
 */
import type { MmStruct } from '../mm/mm-struct.js';
import {
  type ProcmapQueryArgs,
  ProcmapQueryResult,
  queryArgs,
  setQueryArgs,
} from '../procfs/procmap-query.js';
import type { AddressBatch, QueryColumns } from '../procfs/query-batch.js';
import { OP_QUERY, ReadWouldWait } from '../procfs/strategies/reader-context.js';
import type { ReaderContext, ReadStrategy } from '../procfs/strategies/strategy.js';
import type { QueryAnswer, QueryArgs, StrategyName } from './sim-api.js';

export interface QueryRequest {
  pid: number;
  strategy: StrategyName | null;
  queries: readonly QueryArgs[];
}

/** A compact batch (query-batch.ts): one flags value and name request for every address. */
export interface ColumnsRequest extends AddressBatch {
  pid: number;
  strategy: StrategyName | null;
}

/** One answer, or the errno (a positive number) the ioctl failed with. */
export type QueryReply = QueryAnswer | number;

/** Copies the ioctl's output into the API's answer (name/build id only when asked for). */
function answerOf(out: ProcmapQueryResult, q: QueryArgs): QueryAnswer {
  return {
    vmaStart: out.vmaStart,
    vmaEnd: out.vmaEnd,
    vmaFlags: out.vmaFlags,
    vmaPageSize: out.vmaPageSize,
    vmaOffset: out.vmaOffset,
    inode: out.inode,
    devMajor: out.devMajor,
    devMinor: out.devMinor,
    vmaName: q.name ? out.nameString() : null,
    buildId:
      q.buildId && out.buildIdSize > 0 && out.buildId
        ? Buffer.from(out.buildId.subarray(0, out.buildIdSize)).toString('hex')
        : null,
  };
}

/** The query handlers of one engine thread (their scratch is reused: one batch at a time). */
export class QueryHandlers {
  private readonly out = new ProcmapQueryResult();
  /** The ioctl's input of the query running (reused: read only during the query). */
  private readonly args: ProcmapQueryArgs = queryArgs(0, 0, false, false);

  constructor(private readonly ctx: ReaderContext) {}

  /** PROCMAP_QUERY for each query of `req`, in order: the answer or the errno. */
  query(
    mm: MmStruct,
    strategy: ReadStrategy,
    req: QueryRequest,
    replies: QueryReply[],
    from: number,
    waitedNs: number,
  ): QueryReply[] {
    const ctx = this.ctx;
    const out = this.out;
    const n = req.queries.length;
    // One read per query, the batch timed as a whole (query-batch.ts: what a batch counts).
    let i = from;
    if (waitedNs >= 0 && i < n) {
      ctx.coverMmapLock(mm, strategy.id, waitedNs);
      try {
        const q = req.queries[i];
        const r = strategy.query(ctx, mm, queryArgs(q.addr, q.flags, q.name, q.buildId), out);
        replies[i++] = r < 0 ? -r : answerOf(out, q);
      } finally {
        ctx.uncoverMmapLock();
      }
    }
    const start = i;
    ctx.beginRead(OP_QUERY, strategy.id);
    try {
      for (; i < n; i++) {
        const q = req.queries[i];
        const args = setQueryArgs(this.args, q.addr, q.flags, q.name, q.buildId);
        const r = strategy.queryInRead(ctx, mm, args, out);
        replies[i] = r < 0 ? -r : answerOf(out, q);
      }
    } catch (err) {
      if (err instanceof ReadWouldWait) {
        ctx.abandonRead();
        err.resumeAt = i;
      }
      throw err;
    } finally {
      ctx.endRead(i - start);
    }
    return replies;
  }

  /** The compact batch `req`: the PROCMAP_QUERY of every address, column-wise into `cols`. */
  queryColumns(
    mm: MmStruct,
    strategy: ReadStrategy,
    req: ColumnsRequest,
    cols: QueryColumns,
    from: number,
    waitedNs: number,
  ): QueryColumns {
    const ctx = this.ctx;
    const n = req.addrs.length;
    let i = from;
    if (waitedNs >= 0 && i < n) {
      ctx.coverMmapLock(mm, strategy.id, waitedNs);
      try {
        i = strategy.queryBatch(ctx, mm, req, cols, i, i + 1);
      } finally {
        ctx.uncoverMmapLock();
      }
    }
    try {
      strategy.queryBatch(ctx, mm, req, cols, i, n);
    } catch (err) {
      if (err instanceof ReadWouldWait) ctx.abandonRead();
      throw err;
    }
    return cols;
  }
}
