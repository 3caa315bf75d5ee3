/**
 * The engine of one thread: its view of every published address space (pid -> arena), its
 * reader context (RCU registration, instruments recorder, the strategies' per-mm caches) and the
 * handlers of everything a transport asks for: maps reads, PROCMAP_QUERY batches, syscalls, fork
 * and exit. Both transports run exactly this code: the in-process one calls it on the event loop,
 * the worker one on each worker CPU (cpu-worker.ts). Replies are plain data (structured-clone
 * friendly); errors are `OpError`s with a positive errno (ESRCH for an unknown pid). The query
 * handlers are in engine-queries.ts, the stepped procfs reads in stepped-read.ts.
 */
import type { ReadOpId, StrategyId } from '../metrics/labels.js';
import { strategyId } from '../metrics/labels.js';
import type { InstrumentRecorder } from '../metrics/recorder.js';
import { ESRCH } from '../mm/errno.js';
import { type MmGlobals, MmStruct } from '../mm/mm-struct.js';
import { type WriterEnv, withWriterHooks } from '../mm/mm-writer.js';
import { ByteSink } from '../procfs/byte-sink.js';
import { ChunkStatsTrace } from '../procfs/chunk-stats.js';
import { columnBuffers, newQueryColumns, type QueryColumns } from '../procfs/query-batch.js';
import { readSmapsChunk, readSmapsRollup } from '../procfs/smaps-text.js';
import {
  readVmCounters,
  type StatusIdentity,
  VmCounters,
  writeStatus,
} from '../procfs/status-text.js';
import {
  OP_MAPS,
  OP_SMAPS,
  OP_SMAPS_ROLLUP,
  OP_STATUS,
} from '../procfs/strategies/reader-context.js';
import {
  createReaderContext,
  type ReaderContext,
  type ReaderContextOptions,
  strategyByName,
} from '../procfs/strategies/strategy.js';
import type { RcuDomain } from '../sync/rcu.js';
import { OpError, type OpHandler } from './cpu-protocol.js';
import {
  type ColumnsRequest,
  QueryHandlers,
  type QueryReply,
  type QueryRequest,
} from './engine-queries.js';
import type { SharedConfig } from './shared-config.js';
import type { ProcFileName, StrategyName, SyscallCall } from './sim-api.js';
import { openSteppedRead, type SteppedMapsRead } from './stepped-read.js';
import { execExit, execFork, execSyscall } from './syscall-exec.js';

export type { ColumnsRequest, QueryReply, QueryRequest } from './engine-queries.js';
export type { SteppedMapsRead } from './stepped-read.js';

export interface MapsRequest {
  pid: number;
  /** null: the configured strategy. */
  strategy: StrategyName | null;
  chunk: number;
  /** A traced read: send back each chunk's counts (chunk-stats.ts). */
  trace?: boolean;
}

/** Maps bytes of one whole read: chunk i is bytes [ends[i-1], ends[i]). */
export interface MapsReply {
  bytes: ArrayBuffer;
  ends: number[];
  /** Traced reads only: CHUNK_STATS_WIDTH counts per chunk. */
  stats?: number[];
}

export interface MutateRequest {
  pid: number;
  calls: readonly SyscallCall[];
}

/** One maps read in progress, a chunk per call (Engine.openMaps). */
export interface ProcFileRequest {
  pid: number;
  file: ProcFileName;
  /** smaps: max bytes of whole blocks per lock window (0 = one window); the others ignore it. */
  chunk: number;
  /** status: who the process is (the process table knows, the address space does not). */
  identity?: StatusIdentity;
}

const MMAP_LOCK_STRATEGY = strategyId('mmap_lock');
const PROC_FILE_OPS = { smaps: OP_SMAPS, smaps_rollup: OP_SMAPS_ROLLUP, status: OP_STATUS };

export interface EngineOptions {
  globals: MmGlobals;
  rcu: RcuDomain;
  recorder: InstrumentRecorder;
  /** The configured strategy (shared by every thread; `PUT /config/strategy` changes it). */
  config: SharedConfig;
  /**
   * false on the event loop: a read that would have to wait for the mmap lock throws
   * `ReadWouldWait` instead (reader-context.ts), to be re-run with `nextHoldingLock` /
   * `query(…, waitedNs)` once the caller took the lock without blocking. Default true.
   */
  mayWait?: boolean;
}

export class Engine {
  /** This thread's reader: strategies count into `reader.stats` and the thread's recorder. */
  readonly reader: ReaderContext;
  private readonly mms = new Map<number, MmStruct>();
  private readonly writer: WriterEnv;
  private readonly queries: QueryHandlers;
  // Chunks of one read are gathered here, then copied once into the reply's buffer.
  private readonly gather = new ByteSink(1 << 16);
  private readonly ends: number[] = [];
  private trace: ChunkStatsTrace | null = null;
  private readonly onChunk = (bytes: Uint8Array) => {
    this.trace?.chunk();
    this.gather.append(bytes);
    this.ends.push(this.gather.length);
  };

  private readonly readerOptions: ReaderContextOptions;
  /** Contexts of finished stepped maps reads, for the next ones. */
  private readonly spareReaders: ReaderContext[] = [];

  constructor(private readonly opts: EngineOptions) {
    this.readerOptions = { rcu: opts.rcu, recorder: opts.recorder, mayWait: opts.mayWait };
    this.reader = createReaderContext(this.readerOptions);
    this.queries = new QueryHandlers(this.reader);
    const config = opts.config;
    this.writer = {
      recorder: opts.recorder,
      get strategy() {
        return config.strategyId;
      },
    };
  }

  /** Makes `buffer` (an arena another thread built or forked) pid's address space here. */
  attach(pid: number, buffer: SharedArrayBuffer): MmStruct {
    const mm = MmStruct.attach(buffer, this.opts.globals, this.opts.rcu);
    this.mms.set(pid, mm);
    return mm;
  }

  /** As attach, for an arena this thread already has a view of. */
  adopt(pid: number, mm: MmStruct): void {
    this.mms.set(pid, mm);
  }

  detach(pid: number): void {
    this.mms.delete(pid);
  }

  mmOf(pid: number): MmStruct {
    const mm = this.mms.get(pid);
    if (!mm) throw new OpError(ESRCH, `no process ${pid}`);
    return mm;
  }

  private strategy(name: StrategyName | null) {
    return strategyByName(name ?? this.opts.config.strategy);
  }

  /** One whole read of /proc/PID/maps, every chunk in its own lock window. */
  maps(req: MapsRequest): MapsReply {
    const mm = this.mmOf(req.pid);
    this.gather.clear();
    this.ends.length = 0;
    const trace = req.trace ? new ChunkStatsTrace(this.reader.stats) : null;
    this.trace = trace;
    const err = this.strategy(req.strategy).readMaps(this.reader, mm, req.chunk, this.onChunk);
    this.trace = null;
    if (err < 0 && this.ends.length === 0) throw new OpError(-err, 'maps read failed');
    const reply: MapsReply = {
      bytes: this.gather.view().slice().buffer,
      ends: [...this.ends],
    };
    if (trace) reply.stats = trace.rows;
    return reply;
  }

  /**
   * A maps read driven one chunk per `next()` (the in-process transport lets other work run
   * between chunks, where the strategy holds no lock). Each open read has a reader context of
   * its own (kept for reuse); `next()` returns the chunk (a view, valid until the next call; its
   * counts appended to `chunkStats` first, when given), or null at EOF and after a
   * failure once a chunk was delivered; a failure before the first chunk throws. `close()` ends
   * the read (counted then) and must be called once.
   */
  openMaps(req: MapsRequest, chunkStats?: number[]): SteppedMapsRead {
    const mm = this.mmOf(req.pid);
    const strategy = this.strategy(req.strategy);
    return this.openRead(
      mm,
      OP_MAPS,
      strategy.id,
      (ctx) => strategy.readChunk(ctx, mm, ctx.position, req.chunk, ctx.sink),
      chunkStats,
    );
  }

  /**
   * A read of smaps (one chunk per `next()`, each under the mmap read lock), smaps_rollup or
   * status (the whole file at the first `next()`), stepped like `openMaps`.
   */
  openProcFile(req: ProcFileRequest): SteppedMapsRead {
    const mm = this.mmOf(req.pid);
    const op = PROC_FILE_OPS[req.file];
    if (req.file === 'smaps') {
      return this.openRead(mm, op, MMAP_LOCK_STRATEGY, (ctx) =>
        readSmapsChunk(ctx, mm, ctx.position, req.chunk, ctx.sink),
      );
    }
    const id = req.identity ?? { pid: req.pid, ppid: 0, comm: '' };
    // One record: the position says whether it was shown (a rolled-back attempt leaves it 0).
    return this.openRead(mm, op, MMAP_LOCK_STRATEGY, (ctx) => {
      if (ctx.position.index !== 0) return 0;
      const n =
        req.file === 'smaps_rollup'
          ? readSmapsRollup(ctx, mm, ctx.sink)
          : this.statusFile(ctx, mm, id, ctx.sink);
      ctx.position.index = -1;
      return n;
    });
  }

  private readonly counters = new VmCounters();

  private statusFile(ctx: ReaderContext, mm: MmStruct, id: StatusIdentity, sink: ByteSink): number {
    readVmCounters(ctx, mm, this.counters);
    writeStatus(sink, id, mm, this.counters);
    return sink.length;
  }

  /** A whole read of one of the files of `openProcFile` (a worker CPU: it may wait). */
  procFile(req: ProcFileRequest): MapsReply {
    const read = this.openProcFile(req);
    this.gather.clear();
    this.ends.length = 0;
    try {
      for (let chunk = read.next(); chunk !== null; chunk = read.next()) this.onChunk(chunk);
    } finally {
      read.close();
    }
    return { bytes: this.gather.view().slice().buffer, ends: [...this.ends] };
  }

  /** A stepped read (stepped-read.ts) on a reader context of its own, kept for reuse. */
  private openRead(
    mm: MmStruct,
    op: ReadOpId,
    strategy: StrategyId,
    read: (ctx: ReaderContext) => number,
    chunkStats?: number[],
  ): SteppedMapsRead {
    const ctx = this.spareReaders.pop() ?? createReaderContext(this.readerOptions);
    return openSteppedRead(ctx, mm, op, strategy, read, this.releaseReader, chunkStats);
  }

  private readonly releaseReader = (ctx: ReaderContext) => {
    this.spareReaders.push(ctx);
  };

  /** Whether pid's address space is attached here. */
  has(pid: number): boolean {
    return this.mms.has(pid);
  }

  /**
   * PROCMAP_QUERY for each query, in order: the answer or the errno. On the event loop a query
   * that would wait for the mmap lock throws `ReadWouldWait` with `resumeAt` = its index (the
   * replies before it are filled in `replies`); call again with `from` = that index and
   * `waitedNs` once the caller holds that mm's mmap read lock: that query runs holding it (the
   * lock is released before the next one), the rest as usual.
   */
  query(
    req: QueryRequest,
    replies: QueryReply[] = new Array(req.queries.length),
    from = 0,
    waitedNs = -1,
  ): QueryReply[] {
    const mm = this.mmOf(req.pid);
    return this.queries.query(mm, this.strategy(req.strategy), req, replies, from, waitedNs);
  }

  /**
   * A compact batch: the PROCMAP_QUERY of every address, column-wise. On the event loop, as
   * `query`: a query that would wait throws `ReadWouldWait` (`resumeAt` = its index; the columns
   * before it filled in `cols`); call again with that `from`, `cols` and `waitedNs` once the
   * caller holds the mmap read lock, which covers that one query.
   */
  queryColumns(
    req: ColumnsRequest,
    cols: QueryColumns = newQueryColumns(req.addrs.length),
    from = 0,
    waitedNs = -1,
  ): QueryColumns {
    const mm = this.mmOf(req.pid);
    return this.queries.queryColumns(mm, this.strategy(req.strategy), req, cols, from, waitedNs);
  }

  // Mutations take the real per-VMA write locks (withWriterHooks), also on the event loop.

  /** The calls in order under the writer protocol: each result (>= 0) or -errno. */
  mutate(req: MutateRequest): number[] {
    const mm = this.mmOf(req.pid);
    return withWriterHooks(() => req.calls.map((call) => execSyscall(mm, this.writer, call)));
  }

  /** One call (activities on the event loop). */
  execute(mm: MmStruct, call: SyscallCall): number {
    return withWriterHooks(() => execSyscall(mm, this.writer, call));
  }

  /** fork(2): the child's arena (not published to any pid yet). */
  fork(pid: number): MmStruct {
    const parent = this.mmOf(pid);
    return withWriterHooks(() => execFork(parent, this.writer));
  }

  /** exit_mmap of pid's address space (it stays attached until `detach`). */
  exit(pid: number): void {
    const mm = this.mmOf(pid);
    withWriterHooks(() => execExit(mm, this.writer));
  }

  /** The handlers a worker CPU serves (cpu-worker-loop.ts), by op name. */
  handlers(): Record<string, OpHandler> {
    return {
      attach: (args) => {
        const { pid, buffer } = args as { pid: number; buffer: SharedArrayBuffer };
        this.attach(pid, buffer);
        return null;
      },
      detach: (args) => {
        this.detach((args as { pid: number }).pid);
        return null;
      },
      maps: (args) => {
        const reply = this.maps(args as MapsRequest);
        return { value: reply, transfer: [reply.bytes] };
      },
      procFile: (args) => {
        const reply = this.procFile(args as ProcFileRequest);
        return { value: reply, transfer: [reply.bytes] };
      },
      query: (args) => this.query(args as QueryRequest),
      queryColumns: (args) => {
        const cols = this.queryColumns(args as ColumnsRequest);
        return { value: cols, transfer: columnBuffers(cols) };
      },
      mutate: (args) => this.mutate(args as MutateRequest),
      fork: (args) => this.fork((args as { pid: number }).pid).buffer,
      exit: (args) => {
        this.exit((args as { pid: number }).pid);
        return null;
      },
    };
  }
}
