/**
 * The in-process transport (`--cpus 0`, the inject tests): the event loop is the only engine
 * thread. It calls the engine's handlers directly, so every read runs its strategy for real (its
 * locks, speculation and fallbacks are counted exactly as on a worker CPU), and activities run on
 * the event loop in small batches between requests and between the chunks of a maps read (where
 * a reader holds no lock, as between two read() calls). With one thread nothing contends: a lock
 * is always free when taken, so no call ever waits on the event loop.
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { Engine } from './engine.js';
import { LocalActivity } from './local-activity.js';
import { SimError } from './sim-api.js';
import type { EngineShared, EngineTransport, TransportEvents } from './transport.js';

export function inProcessTransport(shared: EngineShared, events: TransportEvents): EngineTransport {
  const engine = new Engine({
    globals: shared.globals,
    rcu: shared.rcu,
    recorder: shared.instruments.recorder(),
    config: shared.config,
  });
  return {
    cpus: 0,
    async publish(pid, mm) {
      engine.adopt(pid, mm);
    },
    async unpublish(pid) {
      engine.detach(pid);
    },
    async maps(req, chunkStats) {
      const read = engine.openMaps(req, chunkStats);
      let chunk: Uint8Array | null;
      try {
        chunk = read.next();
      } catch (err) {
        read.close();
        throw err;
      }
      return (async function* chunks() {
        try {
          while (chunk !== null) {
            yield chunk;
            // The strategy holds no lock between chunks: let requests and activities run.
            await new Promise<void>((resolve) => setImmediate(resolve));
            // m_start(): a process that exited since the last chunk ends the file (EOF).
            chunk = engine.has(req.pid) ? read.next() : null;
          }
        } finally {
          read.close();
        }
      })();
    },
    async query(req) {
      return engine.query(req);
    },
    async mutate(req) {
      return engine.mutate(req);
    },
    async fork(pid) {
      return engine.fork(pid);
    },
    async exit(pid) {
      engine.exit(pid);
    },
    startActivity(pid: number, mm: MmStruct, spec) {
      const activity = new LocalActivity(spec, (call) => {
        const r = engine.execute(mm, call);
        events.mutation(pid, call, r);
        return r < 0 ? SimError.of(-r, call.op) : r;
      });
      return {
        status: () => activity.status(),
        stop: async () => activity.stop(),
      };
    },
    setEventsWanted() {},
    async close() {},
  };
}
