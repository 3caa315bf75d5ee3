/**
 * Entry of one activity thread: keeps one simulated process busy by replaying its call source
 * (a user loop or a built-in profile) as fast as it can, or at `ratePerS`, until stopped. Runs
 * concurrently with every reader; each call takes the mmap write lock like a real thread's
 * syscall would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Instruments } from '../metrics/instruments.js';
import { MmGlobals, MmStruct } from '../mm/mm-struct.js';
import { installWriterHooks } from '../mm/mm-writer.js';
import { RcuDomain } from '../sync/rcu.js';
import { ActivityCounters } from './activity-counters.js';
import { ActivityEventWriter } from './activity-events.js';
import { sourceFor } from './local-activity.js';
import { EventsGate, MutationRing } from './mutation-ring.js';
import { SharedConfig } from './shared-config.js';
import type { ActivitySpec } from './sim-api.js';
import { execSyscall } from './syscall-exec.js';
import type { EngineThreadData } from './transport.js';

/**
 * The shortest sleep of a rate-capped activity. Waking once per call costs more than the calls'
 * own JS: each wake is a timed futex wait and a context switch. At the default population's 200
 * calls/s a thread took ~3.3% of a core (loaded 2-core machine), ~2.2% waking at most 50 times a
 * second and running the calls that fell due meanwhile together: the same calls at the same
 * average rate, none before its due time (a replay keeps its recorded pace, above).
 */
const RATE_SLEEP_MS = 20;

export interface ActivityThreadData {
  engine: EngineThreadData;
  mm: SharedArrayBuffer;
  spec: ActivitySpec;
  counters: SharedArrayBuffer;
  /** This thread's event ring (it is the only producer) and the sim's subscription gate. */
  events: { ring: SharedArrayBuffer; gate: SharedArrayBuffer };
}

const data = workerData as ActivityThreadData;
const rcu = RcuDomain.attach(data.engine.rcu);
rcu.register();
const mm = MmStruct.attach(data.mm, MmGlobals.attach(data.engine.globals), rcu);
const recorder = Instruments.attach(data.engine.instruments).recorder();
const config = SharedConfig.attach(data.engine.config);
const counters = ActivityCounters.attach(data.counters);
const events = new ActivityEventWriter(
  MutationRing.attach(data.events.ring),
  EventsGate.attach(data.events.gate),
);
const env = {
  recorder,
  get strategy() {
    return config.strategyId;
  },
};
installWriterHooks();
// ActivityThread.started: the thread holds its RCU slot and instrument block. A thread that
// cannot start (every reader slot taken...) threw before this line: the parent sees 'error'.
parentPort?.postMessage('ready');

try {
  runActivity();
} catch (err) {
  // A bug in a call source or the engine: the thread stops, and says why (ActivityThread shows
  // it as the activity's failure); its RCU slot and instrument block are released below.
  parentPort?.postMessage({ died: (err as Error)?.stack ?? String(err) });
} finally {
  recorder.release();
  rcu.unregister();
}

function runActivity(): void {
  const source = sourceFor(data.spec);
  const rate = data.spec.ratePerS;
  const started = performance.now();
  let previous: number | undefined;
  let done = 0;
  while (!counters.stopRequested) {
    const dueS = source.nextDueS ?? null;
    if (dueS !== null) {
      // A replay keeps its recorded pace: the next call is due dueS after the start.
      const dueMs = dueS * 1000 - (performance.now() - started);
      if (dueMs > 0) {
        counters.sleepUnlessStopped(dueMs);
        continue;
      }
    }
    if (rate !== null && rate > 0) {
      // Capped: the n-th call is due at n / rate seconds after the start, never before; the
      // calls that fell due during a sleep run back to back (RATE_SLEEP_MS).
      const dueMs = (done / rate) * 1000 - (performance.now() - started);
      if (dueMs > 0) {
        counters.sleepUnlessStopped(Math.max(dueMs, RATE_SLEEP_MS));
        continue;
      }
    }
    const call = source.next(previous);
    if (call === null) {
      counters.finish(source.passDone);
      break;
    }
    const r = execSyscall(mm, env, call);
    previous = r;
    done++;
    if (source.mismatches !== undefined) counters.setMismatches(source.mismatches);
    counters.countCall(r < 0, source.passDone);
    events.afterCall(call, r, source.passDone);
  }
}
