/**
 * Benchmark threads that run timed windows together (bench/sections/strategies.ts and
 * `npm run report`): each window posts one command per thread, waits until every thread is ready
 * (warmed up), raises GO, sleeps `ms`, raises STOP and collects one result per thread.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, Worker } from 'node:worker_threads';

/** Control words (Int32 indexes) of the pool's shared control buffer. */
export const GO = 0;
export const STOP = 1;
export const CONTROL_WORDS = 2;

export class ThreadPool<Command, Result> {
  readonly workers: Worker[];
  readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));

  /** `n` threads running `url`, each given `data` plus `control` as workerData. */
  constructor(url: URL, n: number, data: object) {
    this.workers = Array.from(
      { length: n },
      () => new Worker(url, { workerData: { ...data, control: this.control } }),
    );
  }

  /** One window: `cmds[i]` runs on worker i; all start at GO and stop at STOP, `ms` apart. */
  async run(cmds: Command[], ms: number): Promise<Result[]> {
    const c = this.control;
    Atomics.store(c, GO, 0);
    Atomics.store(c, STOP, 0);
    const ready = cmds.map((_, i) => once(this.workers[i], 'message'));
    for (const [i, cmd] of cmds.entries()) this.workers[i].postMessage(cmd);
    await Promise.all(ready);
    const results = cmds.map((_, i) => once(this.workers[i], 'message'));
    Atomics.store(c, GO, 1);
    Atomics.notify(c, GO);
    await sleep(ms);
    Atomics.store(c, STOP, 1);
    return (await Promise.all(results)).map(([r]) => r as Result);
  }

  /** Sends every thread `{ role: 'exit' }` and waits for it to exit. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map((w) => {
        const exited = once(w, 'exit');
        w.postMessage({ role: 'exit' });
        return exited;
      }),
    );
  }
}

/** In a pool thread: report ready (warmed up), then wait for GO. */
export function waitForGo(control: Int32Array): void {
  parentPort?.postMessage({ ready: true });
  while (Atomics.load(control, GO) === 0) Atomics.wait(control, GO, 0);
}
