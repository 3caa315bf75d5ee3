/**
 * A procfs read driven one chunk per `next()` (Engine.openMaps / openProcFile): the in-process
 * transport lets other work run between chunks, where the strategy holds no lock, as between two
 * read() calls. The read runs on a reader context of its own, which the engine lends it and takes
 * back at `close()`.
 */
import type { ReadOpId, StrategyId } from '../metrics/labels.js';
import type { MmStruct } from '../mm/mm-struct.js';
import type { ByteSink } from '../procfs/byte-sink.js';
import { ChunkStatsTrace } from '../procfs/chunk-stats.js';
import { ReadWouldWait } from '../procfs/strategies/reader-context.js';
import type { ReaderContext } from '../procfs/strategies/strategy.js';
import { OpError } from './cpu-protocol.js';

export interface SteppedMapsRead {
  /**
   * The next chunk, or null at EOF. On the event loop: may throw `ReadWouldWait` (below). The
   * chunk is a view into the read's own buffer: copy it before the next call on this read.
   */
  next(): Uint8Array | null;
  /**
   * After `next()` threw `ReadWouldWait` (the chunk was rolled back) and the caller then took the
   * mmap read lock of `err.mm`, waiting `waitedNs`: the same chunk again, holding that lock for
   * it; the lock is released before this returns.
   */
  nextHoldingLock(waitedNs: number): Uint8Array | null;
  close(): void;
  /**
   * The sink the chunks are views of: when `sink.lender` is set, the chunk just returned is a
   * range of that lender's text (`ByteSink.lend`), which a caller may keep beyond the next call
   * by pinning it (`TextLender.pin`).
   */
  readonly sink: ByteSink;
}

/**
 * Opens a read of `mm` on `ctx`: `readChunk` appends one chunk to `ctx.sink` from `ctx.position`
 * (bytes, 0 at EOF, -errno). `next()` returns the chunk (a view of `ctx.sink`, valid until the
 * next call; its counts appended to `chunkStats` first, when given), or null at EOF and after a
 * failure once a chunk was delivered; a failure before the first chunk throws. A chunk that would
 * wait for the mmap lock on a context that may not wait is rolled back (`ReadWouldWait`) and
 * re-run by `nextHoldingLock`. `close()` ends the read (counted then), must be called once, and
 * hands `ctx` to `release`.
 */
export function openSteppedRead(
  ctx: ReaderContext,
  mm: MmStruct,
  op: ReadOpId,
  strategy: StrategyId,
  read: (ctx: ReaderContext) => number,
  release: (ctx: ReaderContext) => void,
  chunkStats?: number[],
): SteppedMapsRead {
  const trace = chunkStats === undefined ? null : new ChunkStatsTrace(ctx.stats);
  const pos = ctx.position;
  pos.rewind();
  ctx.beginRead(op, strategy);
  let open = true;
  let delivered = false;
  // Its chunks are taken as views before the next call: one that is a run of the memo's text
  // may be lent rather than copied into the sink.
  ctx.sink.mayLend = true;
  const close = () => {
    if (!open) return;
    open = false;
    ctx.sink.clear();
    ctx.sink.mayLend = false;
    ctx.endRead();
    release(ctx);
  };
  const readChunk = (): number => {
    ctx.sink.clear();
    const { index, lastPos } = pos;
    try {
      return read(ctx);
    } catch (err) {
      if (!(err instanceof ReadWouldWait)) throw err;
      // Roll the chunk back: it is read again from here once the lock is held.
      ctx.abandonRead();
      pos.index = index;
      pos.lastPos = lastPos;
      throw err;
    }
  };
  const finish = (n: number): Uint8Array | null => {
    if (n > 0) {
      delivered = true;
      if (trace && chunkStats) {
        trace.chunk();
        for (const v of trace.rows) chunkStats.push(v);
        trace.rows.length = 0;
      }
      return ctx.sink.view();
    }
    close();
    if (n < 0 && !delivered) throw new OpError(-n, 'read failed');
    return null;
  };
  return {
    next: () => (open ? finish(readChunk()) : null),
    nextHoldingLock: (waitedNs) => {
      ctx.coverMmapLock(mm, strategy, waitedNs);
      let n: number;
      try {
        n = open ? readChunk() : 0;
      } finally {
        ctx.uncoverMmapLock();
      }
      return open ? finish(n) : null;
    },
    close,
    sink: ctx.sink,
  };
}
