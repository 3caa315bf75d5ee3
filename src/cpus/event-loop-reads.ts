/**
 * Reads on the event loop: maps and PROCMAP_QUERY run by an `Engine` on the main thread with a
 * real reader context, so they take the strategy's locks, race whatever else runs (activity
 * threads, worker CPUs) for real and count in the same instruments as any engine thread. This is
 * what `--cpus 0` does for everything, and what the worker transport does for reads by default
 * (`--reads event-loop`): a read costs the event loop ~1–3 µs here against ~10 µs to dispatch it
 * to a worker CPU and take the answer back (BENCHMARKS.md, per-stage table).
 *
 * The event loop never sleeps on a simulated lock (DESIGN.md). Where a strategy needs the mmap
 * read lock and a writer holds or waits for it, the engine rolls the chunk (or the one query) back
 * and throws `ReadWouldWait`; here the event loop then queues for the lock without blocking
 * (`mmapReadLockAsync`: a fair rwsem waiter, like any reader), and runs that chunk or query again
 * holding it (recorded as one mmap_lock read wait, with the time waited). Other requests run
 * meanwhile. Maps texts are read a few chunks per event-loop turn (each chunk still in its own
 * lock window, as separate read() calls are).
 */

import { ESRCH } from '../mm/errno.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { SYNC_WORDS_BASE } from '../mm/mm-struct.js';
import { newQueryColumns } from '../procfs/query-batch.js';
import { ReadWouldWait } from '../procfs/strategies/reader-context.js';
import { mmapReadLockAsync, mmapReadUnlock } from '../sync/index.js';
import { OpError } from './cpu-protocol.js';
import {
  type ColumnsRequest,
  Engine,
  type MapsRequest,
  type ProcFileRequest,
  type QueryReply,
  type QueryRequest,
  type SteppedMapsRead,
} from './engine.js';
import { type MapsRead, PieceSlab, ReadPieces } from './read-pieces.js';
import type { EngineShared, EngineTransport } from './transport.js';
import {
  type Gathering,
  gatherTurn,
  newGathering,
  Stop,
  take,
  wholeRead,
} from './turn-gathering.js';

export interface EventLoopReadOptions {
  /**
   * Bytes of maps chunks read in one event-loop turn before yielding to other work (0: yield
   * after every chunk, as `--cpus 0` does so that its activities run between chunks).
   */
  bytesPerTurn: number;
}

/** The event loop's engine: reader contexts that never wait (ReadWouldWait instead). */
export function eventLoopEngine(shared: EngineShared): Engine {
  return new Engine({
    globals: shared.globals,
    rcu: shared.rcu,
    recorder: shared.instruments.recorder(),
    config: shared.config,
    mayWait: false,
  });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits (without blocking) for mm's mmap read lock; the caller's read must release it. */
function lockWhenFree(mm: MmStruct): Promise<number> {
  return mmapReadLockAsync(mm.i32, SYNC_WORDS_BASE);
}

/**
 * The pieces of a stepped read (maps, smaps…), its first turn read before this returns (so a
 * missing pid rejects before any piece). Each chunk is read in its own lock window, as separate
 * read() calls are; the chunks of one event-loop turn (up to `bytesPerTurn`) go out as one piece,
 * or one piece per chunk with `piecePerChunk` (a traced read: its stats are per chunk). A read
 * that ends within its first turn (a typical maps file) is returned whole and at once
 * (`ReadPieces`, no promise); any other read as a promise of its pieces. A chunk that would wait
 * for the mmap read lock is re-run once the event loop holds it (queued without blocking; what
 * was gathered goes out first).
 */
function steppedChunks(engine: Engine, pid: number, g: Gathering): MapsRead {
  let first: Uint8Array | null;
  try {
    first = g.read.next();
  } catch (err) {
    return firstAfterWait(engine, pid, g, err);
  }
  let read: ReadPieces | AsyncIterable<Uint8Array>;
  try {
    read = afterFirstChunk(engine, pid, g, first);
  } catch (err) {
    return Promise.reject(err);
  }
  return read instanceof ReadPieces ? read : Promise.resolve(read);
}

/** The first chunk would wait for the mmap read lock: read it holding the lock, then go on. */
async function firstAfterWait(
  engine: Engine,
  pid: number,
  g: Gathering,
  err: unknown,
): Promise<AsyncIterable<Uint8Array>> {
  let first: Uint8Array | null;
  try {
    first = await chunkHoldingLock(engine, pid, g.read, err);
  } catch (e) {
    g.read.close();
    throw e;
  }
  return afterFirstChunk(engine, pid, g, first);
}

/** The chunk that threw `err` again, once the event loop holds the lock (null: EOF). */
async function chunkHoldingLock(
  engine: Engine,
  pid: number,
  read: SteppedMapsRead,
  err: unknown,
): Promise<Uint8Array | null> {
  if (!(err instanceof ReadWouldWait)) throw err;
  const waited = await lockWhenFree(err.mm);
  if (engine.has(pid)) return read.nextHoldingLock(waited);
  mmapReadUnlock(err.mm.i32, SYNC_WORDS_BASE); // exited meanwhile: EOF
  read.close();
  return null;
}

/**
 * The read after its first chunk (a view into the read's own buffer, valid until the read's
 * next call): the whole read when it ends within this turn, else its pieces to come.
 */
function afterFirstChunk(
  engine: Engine,
  pid: number,
  g: Gathering,
  first: Uint8Array | null,
): ReadPieces | AsyncIterable<Uint8Array> {
  const { read } = g;
  let stop: Stop;
  try {
    stop = first === null ? Stop.Eof : gatherTurn(g, first);
  } catch (err) {
    read.close();
    throw err;
  }
  if (stop === Stop.Eof) {
    read.close();
    return wholeRead(g);
  }
  return laterPieces(engine, pid, g, stop, take(g));
}

/** The pieces of a read that goes on after its first turn (`piece`: that turn's). */
async function* laterPieces(
  engine: Engine,
  pid: number,
  g: Gathering,
  stopped: Stop,
  first: Uint8Array,
): AsyncGenerator<Uint8Array> {
  const { read } = g;
  let stop = stopped;
  let piece = first;
  try {
    for (;;) {
      yield piece;
      if (stop === Stop.Turn) {
        // No lock is held between chunks: let requests and activities run.
        await nextTurn();
        // m_start(): a process that exited since the last chunk ends the file (EOF).
        if (!engine.has(pid)) return;
      }
      let chunk: Uint8Array | null;
      if (stop === Stop.Wait) chunk = await chunkHoldingLock(engine, pid, read, g.wait);
      else {
        try {
          chunk = read.next();
        } catch (err) {
          chunk = await chunkHoldingLock(engine, pid, read, err);
        }
      }
      g.wait = null;
      if (chunk === null) return;
      stop = gatherTurn(g, chunk);
      piece = take(g);
      if (stop === Stop.Eof) {
        yield piece;
        return;
      }
    }
  } finally {
    read.close();
  }
}

export function eventLoopReads(
  engine: Engine,
  opts: EventLoopReadOptions,
): Pick<EngineTransport, 'maps' | 'procFile' | 'query' | 'queryColumns'> {
  // Where the chunks read in one event-loop turn are gathered, to go out as one piece (one
  // copy per chunk, into slab memory, not an allocation per read). Shared by the reads of this
  // event loop: a piece is taken out before any `yield` or `await`, so nothing stays open there
  // while another read runs.
  const slab = new PieceSlab();
  const gathering = (read: SteppedMapsRead, piecePerChunk: boolean): Gathering =>
    newGathering(read, slab, opts.bytesPerTurn, piecePerChunk);
  return {
    // Not async: steppedChunks is the read's one promise layer (a missing pid still rejects).
    maps(req: MapsRequest, chunkStats?: number[]) {
      let read: SteppedMapsRead;
      try {
        read = engine.openMaps(req, chunkStats);
      } catch (err) {
        return Promise.reject(err);
      }
      return steppedChunks(engine, req.pid, gathering(read, chunkStats !== undefined));
    },

    async procFile(req: ProcFileRequest) {
      return steppedChunks(engine, req.pid, gathering(engine.openProcFile(req), false));
    },

    query(req: QueryRequest) {
      const replies: QueryReply[] = new Array(req.queries.length);
      return resumingQueries(engine, req.pid, (from, waited) =>
        engine.query(req, replies, from, waited),
      );
    },

    queryColumns(req: ColumnsRequest) {
      const cols = newQueryColumns(req.addrs.length);
      return Promise.resolve(
        resumingQueries(engine, req.pid, (from, waited) =>
          engine.queryColumns(req, cols, from, waited),
        ),
      );
    },
  };
}

/**
 * Runs a batch of queries (`run(from, waitedNs)`) to its end: where one would wait for the mmap
 * read lock, the event loop queues for the lock without blocking and resumes the batch there.
 * The first attempt runs at once and its answer is returned as it is (no promise: a point query
 * is a few µs, and each promise layer of a request costs a share of that); only a batch that must
 * wait goes async.
 */
function resumingQueries<T>(
  engine: Engine,
  pid: number,
  run: (from: number, waitedNs: number) => T,
): T | Promise<T> {
  try {
    return run(0, -1);
  } catch (err) {
    return resumeAfterWait(engine, pid, run, err);
  }
}

async function resumeAfterWait<T>(
  engine: Engine,
  pid: number,
  run: (from: number, waitedNs: number) => T,
  first: unknown,
): Promise<T> {
  let err = first;
  for (;;) {
    if (!(err instanceof ReadWouldWait)) throw err;
    const waited = await lockWhenFree(err.mm);
    if (!engine.has(pid)) {
      mmapReadUnlock(err.mm.i32, SYNC_WORDS_BASE);
      throw new OpError(ESRCH, `no process ${pid}`);
    }
    try {
      return run(err.resumeAt, waited);
    } catch (next) {
      err = next;
    }
  }
}

/**
 * The worker transport with its reads moved to the event loop (`--reads event-loop`, the
 * default): mutations, fork and exit still run on the worker CPUs, activities on their threads;
 * every address space is also adopted by the event loop's engine (the Sim's own view of it).
 */
export function withEventLoopReads<T extends EngineTransport>(shared: EngineShared, workers: T): T {
  const engine = eventLoopEngine(shared);
  const reads = eventLoopReads(engine, { bytesPerTurn: 64 * 1024 });
  return {
    ...workers,
    async publish(pid, mm) {
      await workers.publish(pid, mm);
      engine.adopt(pid, mm);
    },
    async unpublish(pid) {
      engine.detach(pid);
      await workers.unpublish(pid);
    },
    maps: reads.maps,
    procFile: reads.procFile,
    query: reads.query,
    queryColumns: reads.queryColumns,
  };
}
