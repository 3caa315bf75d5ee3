/**
 * Entry of one activity thread: keeps one simulated process busy by replaying its call source
 * (a user loop or a built-in profile) as fast as it can, or at `ratePerS`, until stopped. Runs
 * concurrently with every reader; each call takes the mmap write lock like a real thread's
 * syscall would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ActivityCounters } from './activity-counters.js';
import { ActivityEventWriter } from './activity-events.js';
import { ActivityRunner } from './activity-runner.js';
import { EventsGate, MutationRing } from './mutation-ring.js';
import type { ActivitySpec } from './sim-api.js';
import type { EngineThreadData } from './transport.js';
import { openWriterThread } from './writer-thread.js';

export interface ActivityThreadData {
  engine: EngineThreadData;
  mm: SharedArrayBuffer;
  spec: ActivitySpec;
  counters: SharedArrayBuffer;
  /** This thread's event ring (it is the only producer) and the sim's subscription gate. */
  events: { ring: SharedArrayBuffer; gate: SharedArrayBuffer };
}

const data = workerData as ActivityThreadData;
const thread = openWriterThread(data.engine);
const counters = ActivityCounters.attach(data.counters);
const events = new ActivityEventWriter(
  MutationRing.attach(data.events.ring),
  EventsGate.attach(data.events.gate),
);
// ActivityThread.started: the thread holds its RCU slot and instrument block. A thread that
// cannot start (every reader slot taken...) threw before this line: the parent sees 'error'.
parentPort?.postMessage('ready');

try {
  const runner = new ActivityRunner(
    thread.attach(data.mm),
    thread.env,
    data.spec,
    counters,
    events,
  );
  while (!counters.stopRequested) {
    const sleepMs = runner.sleepMs();
    if (sleepMs > 0) counters.sleepUnlessStopped(sleepMs);
    else if (!runner.step()) break;
  }
} catch (err) {
  // A bug in a call source or the engine: the thread stops, and says why (ActivityThread shows
  // it as the activity's failure); its RCU slot and instrument block are released below.
  parentPort?.postMessage({ died: (err as Error)?.stack ?? String(err) });
} finally {
  thread.close();
}
