/**
 * The in-process transport (`--cpus 0`, the inject tests): the event loop is the only engine
 * thread. It calls the engine's handlers directly, so every read runs its strategy for real (its
 * locks, speculation and fallbacks are counted exactly as on a worker CPU), and activities run on
 * the event loop in small batches between requests and between the chunks of a maps read (where
 * a reader holds no lock, as between two read() calls). With one thread nothing contends: a lock
 * is always free when taken (event-loop-reads.ts would queue for it without blocking if not).
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { eventLoopEngine, eventLoopReads } from './event-loop-reads.js';
import { LocalActivity } from './local-activity.js';
import { SimError } from './sim-api.js';
import {
  ActivityStartError,
  type EngineShared,
  type EngineTransport,
  type TransportEvents,
} from './transport.js';

export function inProcessTransport(shared: EngineShared, events: TransportEvents): EngineTransport {
  const engine = eventLoopEngine(shared);
  // A chunk per event-loop turn: the activities run between the chunks of a read.
  const reads = eventLoopReads(engine, { bytesPerTurn: 0 });
  return {
    cpus: 0,
    async publish(pid, mm) {
      engine.adopt(pid, mm);
    },
    async unpublish(pid) {
      engine.detach(pid);
    },
    maps: reads.maps,
    procFile: reads.procFile,
    query: reads.query,
    queryColumns: reads.queryColumns,
    async mutate(req) {
      return engine.mutate(req);
    },
    async fork(pid) {
      return engine.fork(pid);
    },
    async exit(pid) {
      engine.exit(pid);
    },
    async startActivity(pid: number, mm: MmStruct, spec) {
      let activity: LocalActivity;
      try {
        activity = makeActivity();
      } catch (err) {
        throw new ActivityStartError((err as Error).message);
      }
      return {
        status: () => activity.status(),
        stop: async () => activity.stop(),
      };
      function makeActivity(): LocalActivity {
        return new LocalActivity(
          spec,
          (call) => {
            const r = engine.execute(mm, call);
            events.mutation(pid, call, r);
            return r < 0 ? SimError.ofCall(call, r) : r;
          },
          (reason) => events.activityDied(pid, reason),
        );
      }
    },
    setEventsWanted() {},
    async close() {},
  };
}
