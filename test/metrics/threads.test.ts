// Instruments recorded on real worker threads (run from the compiled dist/ tree, where the
// worker is a .js file) and aggregated on the main thread, read back through the exposition.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Instruments } from '../../src/metrics/instruments.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import {
  addModels,
  assertMatchesModel,
  generateEvents,
  type Model,
  modelOf,
  replay,
} from './event-model.js';
import { type Exposition, parseExposition, seriesKey } from './exposition-parser.js';
import type { RecordWorkerData } from './workers/record-worker.js';

// Compiled (dist/, the real run): the worker is the .js file beside this one. Under tsx (quick
// runs from the source tree) it is the .ts file, booted through tsx's register() in the worker.
const fromSource = import.meta.url.endsWith('.ts');

function newRecordWorker(workerData: RecordWorkerData): Worker {
  if (!fromSource) {
    return new Worker(new URL('./workers/record-worker.js', import.meta.url), { workerData });
  }
  const target = new URL('./workers/record-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

interface Started {
  worker: Worker;
  seed: number;
  eventsPerRound: number;
  /** Resolves with the rounds recorded, once the worker has exited cleanly. */
  finished: Promise<number>;
}

function start(data: Omit<RecordWorkerData, 'control'>, control: SharedArrayBuffer): Started {
  const worker = newRecordWorker({ ...data, control });
  const finished = new Promise<number>((resolve, reject) => {
    let rounds = -1;
    worker.on('message', (m: { rounds: number }) => {
      rounds = m.rounds;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0 || rounds < 0)
        reject(new Error(`worker exited with ${code}, rounds ${rounds}`));
      else resolve(rounds);
    });
  });
  return { worker, seed: data.seed, eventsPerRound: data.eventsPerRound, finished };
}

async function waitForStarted(control: Int32Array, n: number): Promise<void> {
  for (;;) {
    const started = Atomics.load(control, 1);
    if (started >= n) return;
    await Atomics.waitAsync(control, 1, started).value;
  }
}

function model(workers: readonly Started[], rounds: readonly number[], extra: Model[] = []): Model {
  return addModels([
    ...workers.map((w, i) => modelOf(generateEvents(w.seed, w.eventsPerRound), rounds[i])),
    ...extra,
  ]);
}

const ENGINE_SAMPLE = /^procfs_(?!processes$|vmas$)/;

/** Assert no engine sample of `next` is below its value in `prev` (and none disappeared). */
function assertNotBackwards(prev: Exposition, next: Exposition): void {
  const now = new Map(next.samples.map((s) => [seriesKey(s), s.value]));
  for (const s of prev.samples) {
    if (!ENGINE_SAMPLE.test(s.name)) continue;
    const k = seriesKey(s);
    const v = now.get(k);
    assert.ok(v !== undefined, `${k} disappeared`);
    assert.ok(v >= s.value, `${k} went backwards: ${s.value} -> ${v}`);
  }
}

const readsTotal = (exp: Exposition): number =>
  exp.samples.filter((s) => s.name === 'procfs_reads_total').reduce((a, s) => a + s.value, 0);

describe('instruments across worker threads', () => {
  it('counts from several worker threads and the main thread are summed exactly', async () => {
    const instruments = Instruments.create({ capacity: 8 });
    const metrics = createMetricsRegistry({
      instruments,
      gauges: () => ({ processes: 0, vmas: 0 }),
    });
    const control = new SharedArrayBuffer(8);
    const workers = [1, 2, 3, 4].map((seed) =>
      start(
        { buffer: instruments.buffer, mode: 'fixed', seed, eventsPerRound: 400, rounds: 25 },
        control,
      ),
    );
    const mainEvents = generateEvents(77, 1000);
    replay(instruments.recorder(), mainEvents); // the event loop records too
    const rounds = await Promise.all(workers.map((w) => w.finished));
    assert.deepEqual(rounds, [25, 25, 25, 25]);
    const exp = parseExposition(await metrics.registry.metrics());
    assertMatchesModel(exp, model(workers, rounds, [modelOf(mainEvents)]));
  });

  it('counters and buckets never go backwards across scrapes while workers record and churn blocks', async () => {
    const instruments = Instruments.create({ capacity: 8 });
    const metrics = createMetricsRegistry({
      instruments,
      gauges: () => ({ processes: 0, vmas: 0 }),
    });
    const control = new SharedArrayBuffer(8);
    const controlWords = new Int32Array(control);
    const base = { buffer: instruments.buffer, eventsPerRound: 200, rounds: 0 };
    const workers = [
      start({ ...base, mode: 'loop', seed: 11 }, control),
      start({ ...base, mode: 'churn', seed: 13 }, control), // claims and releases every round
    ];
    await waitForStarted(controlWords, workers.length);

    const first = parseExposition(await metrics.registry.metrics());
    let prev = first;
    for (let i = 0; i < 15; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the loop breathe
      const next = parseExposition(await metrics.registry.metrics());
      assertNotBackwards(prev, next);
      prev = next;
    }
    assert.ok(readsTotal(prev) > readsTotal(first), 'workers were recording during the scrapes');

    Atomics.store(controlWords, 0, 1); // stop
    const rounds = await Promise.all(workers.map((w) => w.finished));
    const final = parseExposition(await metrics.registry.metrics());
    assertNotBackwards(prev, final);
    assertMatchesModel(final, model(workers, rounds));
  });

  it('a worker that exits without releasing keeps its counts; the main thread frees its block', async () => {
    const instruments = Instruments.create({ capacity: 1 });
    const metrics = createMetricsRegistry({
      instruments,
      gauges: () => ({ processes: 0, vmas: 0 }),
    });
    const control = new SharedArrayBuffer(8);
    const w = start(
      { buffer: instruments.buffer, mode: 'abandon', seed: 21, eventsPerRound: 300, rounds: 3 },
      control,
    );
    const { threadId } = w.worker;
    const rounds = await w.finished;
    // The dead worker still owns the only block.
    assert.throws(() => Instruments.attach(instruments.buffer).recorder(), /in use/);
    assert.equal(instruments.releaseBlocksOfThread(threadId), 1);
    const exp = parseExposition(await metrics.registry.metrics());
    assertMatchesModel(exp, model([w], [rounds]));
    const more = generateEvents(22, 100);
    replay(instruments.recorder(), more); // the freed block can be claimed again
    const after = parseExposition(await metrics.registry.metrics());
    assertMatchesModel(after, model([w], [rounds], [modelOf(more)]));
  });
});
