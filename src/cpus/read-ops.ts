/**
 * The read handlers of a worker CPU: /proc/PID/maps (every chunk of one read, each produced in
 * its own lock window by the chosen strategy) and PROCMAP_QUERY batches. Results go back to the
 * event loop as compact values: the maps bytes in one transferred buffer with the chunk ends,
 * query answers as plain objects or an errno number.
 */
import type { StrategyName } from '../metrics/labels.js';
import type { InstrumentRecorder } from '../metrics/recorder.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { ChunkStatsTrace } from '../procfs/chunk-stats.js';
import { ProcmapQueryResult, queryArgs } from '../procfs/procmap-query.js';
import { createReaderContext, strategyByName } from '../procfs/strategies/strategy.js';
import type { RcuDomain } from '../sync/rcu.js';
import { OpError, type OpHandler } from './cpu-protocol.js';
import type { SharedConfig } from './shared-config.js';

export interface ReadOpsEnv {
  mmOf(pid: number): MmStruct;
  rcu: RcuDomain;
  recorder: InstrumentRecorder;
  config: SharedConfig;
}

export interface MapsRequest {
  pid: number;
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

export interface QueryRequest {
  pid: number;
  strategy: StrategyName | null;
  queries: { addr: number; flags: number; name: boolean; buildId: boolean }[];
}

/** One answer: the fields, or the errno (a positive number) the ioctl failed with. */
export type QueryReply =
  | {
      vmaStart: number;
      vmaEnd: number;
      vmaFlags: number;
      vmaPageSize: number;
      vmaOffset: number;
      inode: number;
      devMajor: number;
      devMinor: number;
      vmaName: string | null;
      buildId: string | null;
    }
  | number;

export function readHandlers(env: ReadOpsEnv): Record<string, OpHandler> {
  const ctx = createReaderContext({ rcu: env.rcu, recorder: env.recorder });
  const out = new ProcmapQueryResult();
  // Chunks of one read are gathered here, then copied once into the buffer sent back.
  let gather = new Uint8Array(1 << 16);
  let gathered = 0;
  const ends: number[] = [];
  let trace: ChunkStatsTrace | null = null;
  const onChunk = (bytes: Uint8Array) => {
    trace?.chunk();
    if (gathered + bytes.length > gather.length) {
      const bigger = new Uint8Array(Math.max(gather.length * 2, gathered + bytes.length));
      bigger.set(gather.subarray(0, gathered));
      gather = bigger;
    }
    gather.set(bytes, gathered);
    gathered += bytes.length;
    ends.push(gathered);
  };

  return {
    maps: (args) => {
      const req = args as MapsRequest;
      const mm = env.mmOf(req.pid);
      const strategy = strategyByName(req.strategy ?? env.config.strategy);
      gathered = 0;
      ends.length = 0;
      trace = req.trace ? new ChunkStatsTrace(ctx.stats) : null;
      const err = strategy.readMaps(ctx, mm, req.chunk, onChunk);
      if (err < 0 && ends.length === 0) throw new OpError(-err, `maps read failed`);
      const bytes = gather.slice(0, gathered).buffer;
      const reply: MapsReply = { bytes, ends: [...ends] };
      if (trace) reply.stats = trace.rows;
      return { value: reply, transfer: [bytes] };
    },
    query: (args) => {
      const req = args as QueryRequest;
      const mm = env.mmOf(req.pid);
      const strategy = strategyByName(req.strategy ?? env.config.strategy);
      const replies: QueryReply[] = new Array(req.queries.length);
      for (let i = 0; i < req.queries.length; i++) {
        const q = req.queries[i];
        const r = strategy.query(ctx, mm, queryArgs(q.addr, q.flags, q.name, q.buildId), out);
        replies[i] =
          r < 0
            ? -r
            : {
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
      return replies;
    },
  };
}
