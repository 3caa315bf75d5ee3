// A recording thread for test/metrics/threads.test.ts. It replays a seeded event stream into
// its own instrument block, then reports how many rounds it recorded. Modes:
//   fixed     replay `rounds` rounds, release, report
//   loop      replay rounds until control[0] != 0 (stop), release, report
//   churn     like loop, but claim a fresh block for every round and release it after
//   abandon   replay `rounds` rounds and exit WITHOUT release (the main thread releases)
// control[1] counts workers that have started recording (so the test scrapes while they run).
// Under dist/test `node --test` also runs this file on the main thread; then it does nothing.
import { parentPort, workerData } from 'node:worker_threads';
import { Instruments } from '../../../src/metrics/instruments.js';
import { generateEvents, replay } from '../event-model.js';

export interface RecordWorkerData {
  buffer: SharedArrayBuffer;
  control: SharedArrayBuffer;
  mode: 'fixed' | 'loop' | 'churn' | 'abandon';
  seed: number;
  eventsPerRound: number;
  rounds: number;
}

if (parentPort !== null) {
  const data = workerData as RecordWorkerData;
  const port = parentPort;
  const control = new Int32Array(data.control);
  const instruments = Instruments.attach(data.buffer);
  const events = generateEvents(data.seed, data.eventsPerRound);
  let rounds = 0;
  Atomics.add(control, 1, 1);
  Atomics.notify(control, 1);
  if (data.mode === 'fixed' || data.mode === 'abandon') {
    const recorder = instruments.recorder();
    for (; rounds < data.rounds; rounds++) replay(recorder, events);
    if (data.mode === 'fixed') recorder.release();
  } else {
    while (Atomics.load(control, 0) === 0) {
      const recorder = instruments.recorder();
      replay(recorder, events);
      rounds++;
      if (data.mode === 'churn') recorder.release();
    }
    if (data.mode === 'loop') instruments.recorder().release();
  }
  port.postMessage({ rounds });
}
