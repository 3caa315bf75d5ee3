/**
 * The worker transport (the default, `--cpus N`): the engine's handlers run on a pool of worker
 * CPUs (cpu-worker.ts, dispatched by cpu-pool.ts) and every busy process on an activity thread of
 * its own (the start-up population's capped ones together on the shared activity thread,
 * activity-host.ts), all in parallel on shared memory, so lock waits, retries and fallbacks come from real
 * contention. The event loop only builds new address spaces (not yet shared), dispatches, and
 * drains the activities' event rings while someone listens.
 */
import { MmStruct } from '../mm/mm-struct.js';
import type { QueryColumns } from '../procfs/query-batch.js';
import { ActivityEventPump } from './activity-event-pump.js';
import type { ActivityHandle } from './activity-handle.js';
import { ActivityHost } from './activity-host.js';
import { ActivityThread } from './activity-thread.js';
import { CpuPool } from './cpu-pool.js';
import type { MapsReply, QueryReply } from './engine.js';
import type { EventsGate } from './mutation-ring.js';
import {
  type ActivityRun,
  ActivityStartError,
  type EngineShared,
  type EngineTransport,
  engineThreadData,
  type TransportEvents,
} from './transport.js';

export interface WorkerTransportOptions {
  /** Worker CPUs (>= 1). */
  cpus: number;
  /** Requests in flight per CPU before new ones are refused (EBUSY). */
  maxInFlightPerCpu?: number;
}

export async function startWorkerTransport(
  shared: EngineShared,
  events: TransportEvents,
  opts: WorkerTransportOptions,
): Promise<EngineTransport & { gate: EventsGate }> {
  const data = engineThreadData(shared);
  const pool = await CpuPool.start({
    cpus: opts.cpus,
    workerUrl: new URL('./cpu-worker.js', import.meta.url),
    workerData: data,
    maxInFlight: opts.maxInFlightPerCpu,
    onWorkerExit: (threadId) => shared.instruments.releaseBlocksOfThread(threadId),
  });
  const running = new Map<ActivityHandle, number>();
  const pump = new ActivityEventPump({
    activities: function* () {
      for (const [activity, pid] of running) yield { pid, activity };
    },
    emit: (pid, call, r) => events.mutation(pid, call, r),
    dropped: (pid, count) => events.dropped(pid, count),
  });
  const host = new ActivityHost(data, pump.gate);

  return {
    cpus: opts.cpus,
    /** The activities' subscription gate (tests read its epoch). */
    gate: pump.gate,
    async publish(pid, mm) {
      await pool.broadcast('attach', { pid, buffer: mm.buffer });
    },
    async unpublish(pid) {
      await pool.broadcast('detach', { pid });
    },
    async maps(req, chunkStats) {
      const traced = { ...req, trace: chunkStats !== undefined };
      const reply = await pool.run<MapsReply>('maps', traced);
      if (reply.stats) for (const n of reply.stats) chunkStats?.push(n);
      return replyChunks(reply);
    },
    async procFile(req) {
      return replyChunks(await pool.run<MapsReply>('procFile', req));
    },
    query: (req) => pool.run<QueryReply[]>('query', req),
    queryColumns: (req) => pool.run<QueryColumns>('queryColumns', req),
    mutate: (req) => pool.run<number[]>('mutate', req),
    async fork(pid) {
      const buffer = await pool.run<SharedArrayBuffer>('fork', { pid });
      return MmStruct.attach(buffer, shared.globals, shared.rcu);
    },
    async exit(pid) {
      await pool.run('exit', { pid });
    },
    async startActivity(pid, mm, spec, shared = false): Promise<ActivityRun> {
      let thread: ActivityHandle;
      const died = (reason: string) => events.activityDied(pid, reason);
      try {
        // Only capped activities share a thread: an uncapped one would keep it busy, and a
        // replay keeps its own recorded pace.
        thread =
          shared && spec.kind !== 'replay' && spec.ratePerS !== null
            ? host.add(spec, mm.buffer, died)
            : new ActivityThread(spec, mm.buffer, data, pid, pump.gate, died);
        await thread.started;
      } catch (err) {
        throw new ActivityStartError((err as Error).message);
      }
      running.set(thread, pid);
      return {
        status: () => thread.status(),
        async stop() {
          await thread.stop();
          // Deliver what it recorded before it stopped, then forget it.
          pump.flush(pid, thread);
          running.delete(thread);
        },
      };
    },
    setEventsWanted(wanted) {
      if (wanted) pump.start();
      else pump.stop();
    },
    async close() {
      await host.close();
      await pool.close();
    },
  };
}

/** The chunks of a whole read done on a worker CPU (chunk i is bytes [ends[i-1], ends[i])). */
function replyChunks(reply: MapsReply): AsyncIterable<Uint8Array> {
  const bytes = new Uint8Array(reply.bytes);
  return (async function* chunks() {
    let from = 0;
    for (const end of reply.ends) {
      yield bytes.subarray(from, end);
      from = end;
    }
  })();
}
