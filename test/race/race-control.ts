/** Words of the control buffer shared by a race test and its threads, and the worker start-up. */
import type { TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';

/** Set to 1 by the test: writers stop. */
export const STOP = 0;
/** Completed modify+restore rounds of the writer (Atomics.add). */
export const ROUNDS = 1;
/** Readers that have finished (Atomics.add). */
export const READERS_DONE = 2;
/** Hazards seen by all readers so far (Atomics.add). */
export const HAZARDS = 3;
export const CONTROL_WORDS = 4;

export function controlBuffer(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
}

/** Starts dist/test/race/race.worker.js and resolves with the one message it posts. */
export function runWorker<T>(t: TestContext, data: unknown): Promise<T> {
  const worker = new Worker(new URL('./race.worker.js', import.meta.url), { workerData: data });
  t.after(() => worker.terminate());
  const result = new Promise<T>((resolve, reject) => {
    let posted = false;
    worker.once('message', (m: T) => {
      posted = true;
      resolve(m);
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      setImmediate(() => {
        if (!posted) reject(new Error(`race worker exited with code ${code} before a result`));
      }),
    );
  });
  result.catch(() => {});
  return result;
}
