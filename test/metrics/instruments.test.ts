import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { InstrumentAggregator, SCRAPE_LOCK_BUDGET_MS } from '../../src/metrics/aggregator.js';
import { W_TABLE_LOCK } from '../../src/metrics/block-layout.js';
import { Instruments } from '../../src/metrics/instruments.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { addModels, assertMatchesModel, generateEvents, modelOf, replay } from './event-model.js';
import { parseExposition } from './exposition-parser.js';

const noGauges = () => ({ processes: 0, vmas: 0 });

async function scrape(instruments: Instruments) {
  const { registry } = createMetricsRegistry({ instruments, gauges: noGauges });
  return parseExposition(await registry.metrics());
}

describe('Instruments on one thread', () => {
  it('the exposition shows exactly the recorded events', async () => {
    const instruments = Instruments.create({ capacity: 2 });
    const events = generateEvents(1, 3000);
    replay(instruments.recorder(), events);
    assertMatchesModel(await scrape(instruments), modelOf(events));
  });

  it('recorder() returns the same recorder on the same Instruments view', () => {
    const instruments = Instruments.create({ capacity: 1 });
    assert.equal(instruments.recorder(), instruments.recorder());
  });

  it('records nothing while disabled, and again once re-enabled', async () => {
    const instruments = Instruments.create({ capacity: 1, enabled: false });
    const rec = instruments.recorder();
    assert.equal(rec.enabled, false);
    const ignored = generateEvents(2, 500);
    replay(rec, ignored);
    assertMatchesModel(await scrape(instruments), modelOf([]));

    instruments.enabled = true;
    assert.equal(rec.enabled, true);
    const counted = generateEvents(3, 500);
    replay(rec, counted);
    assertMatchesModel(await scrape(instruments), modelOf(counted));
  });

  it('the switch is shared: a view attached to the same buffer sees it', () => {
    const instruments = Instruments.create({ capacity: 1 });
    const other = Instruments.attach(instruments.buffer);
    other.enabled = false;
    assert.equal(instruments.enabled, false);
    assert.equal(instruments.recorder().enabled, false);
  });

  it('released blocks keep their counts and are reused from zero', async () => {
    const instruments = Instruments.create({ capacity: 1 });
    const first = generateEvents(4, 800);
    const rec = instruments.recorder();
    replay(rec, first);
    rec.release();
    replay(rec, generateEvents(99, 100)); // after release: goes nowhere
    const second = generateEvents(5, 800);
    const again = instruments.recorder(); // the only block, claimed anew
    assert.notEqual(again, rec);
    assert.equal(again.blockIndex, rec.blockIndex);
    replay(again, second);
    assertMatchesModel(await scrape(instruments), addModels([modelOf(first), modelOf(second)]));
  });

  it('one registry scraping across release and re-claim of a block counts each event once', async () => {
    const instruments = Instruments.create({ capacity: 1 });
    const { registry } = createMetricsRegistry({ instruments, gauges: noGauges });
    const first = generateEvents(8, 900);
    const rec = instruments.recorder();
    replay(rec, first);
    assertMatchesModel(parseExposition(await registry.metrics()), modelOf(first));
    rec.release();
    const second = generateEvents(9, 300); // fewer events than before in the reused block
    replay(instruments.recorder(), second);
    const expected = addModels([modelOf(first), modelOf(second)]);
    assertMatchesModel(parseExposition(await registry.metrics()), expected);
  });

  it('a full buffer refuses a new recorder with a clear error', () => {
    const instruments = Instruments.create({ capacity: 1 });
    instruments.recorder();
    const secondView = Instruments.attach(instruments.buffer);
    assert.throws(() => secondView.recorder(), /all 1 instrument blocks are in use/);
  });

  it('releaseBlocksOfThread frees only that thread’s blocks and keeps the counts', async () => {
    const instruments = Instruments.create({ capacity: 2 });
    const events = generateEvents(6, 400);
    replay(instruments.recorder(), events); // owned by this thread (threadId of the test)
    assert.equal(instruments.releaseBlocksOfThread(threadId + 1000), 0);
    assertMatchesModel(await scrape(instruments), modelOf(events));
    // This thread plays the dead one: it records nothing more through the old recorder.
    assert.equal(instruments.releaseBlocksOfThread(threadId), 1);
    assert.equal(instruments.releaseBlocksOfThread(threadId), 0);
    assertMatchesModel(await scrape(instruments), modelOf(events));
    const more = generateEvents(7, 100);
    replay(Instruments.attach(instruments.buffer).recorder(), more);
    replay(Instruments.attach(instruments.buffer).recorder(), more);
    assertMatchesModel(await scrape(instruments), modelOf(events.concat(more, more)));
  });

  it('a thread that died holding the table lock: scrapes serve the previous totals, then recover', async () => {
    const instruments = Instruments.create({ capacity: 2 });
    const { registry, totals } = createMetricsRegistry({ instruments, gauges: noGauges });
    const rec = instruments.recorder();
    const before = generateEvents(30, 500);
    replay(rec, before);
    assertMatchesModel(parseExposition(await registry.metrics()), modelOf(before));
    const totalsBefore = totals();

    const deadThread = threadId + 4242;
    const words = new Int32Array(instruments.buffer);
    Atomics.store(words, W_TABLE_LOCK, deadThread + 1); // as if it was terminated mid-claim
    const after = generateEvents(31, 500);
    replay(rec, after); // recording itself never takes the lock
    const started = performance.now();
    assertMatchesModel(parseExposition(await registry.metrics()), modelOf(before)); // stale
    assertMatchesModel(parseExposition(await registry.metrics()), modelOf(before));
    assert.deepEqual(totals().cells, totalsBefore.cells);
    // Bounded: one budget per reader, not one per family and scrape.
    assert.ok(performance.now() - started < 20 * SCRAPE_LOCK_BUDGET_MS);

    assert.equal(instruments.releaseBlocksOfThread(deadThread), 0); // frees the lock; owned no block
    assert.equal(Atomics.load(words, W_TABLE_LOCK), 0);
    const both = modelOf(before.concat(after));
    assertMatchesModel(parseExposition(await registry.metrics()), both);
  });

  it('attach rejects buffers that are not instrument buffers of this layout', () => {
    assert.throws(() => Instruments.attach(new SharedArrayBuffer(4096)), /bad magic/);
    const good = Instruments.create({ capacity: 1 });
    const truncated = new SharedArrayBuffer(good.buffer.byteLength - 128);
    new Int32Array(truncated).set(new Int32Array(good.buffer, 0, 32));
    assert.throws(() => Instruments.attach(truncated), /size does not match/);
    assert.throws(() => Instruments.create({ capacity: 0 }), RangeError);
  });
});

describe('InstrumentAggregator', () => {
  it('never reports a cell lower than it reported before (clamps racy reads)', () => {
    const instruments = Instruments.create({ capacity: 1 });
    const rec = instruments.recorder();
    rec.read(1, 2, 1000);
    rec.read(1, 2, 1000);
    const aggregator = new InstrumentAggregator(instruments);
    const before = aggregator.totals();
    // Simulate what a stale racy read could return: the owner's cells going backwards.
    const cells = instruments.blockCells(rec.blockIndex);
    const snapshot = Float64Array.from(cells);
    cells.fill(0);
    const after = aggregator.totals();
    cells.set(snapshot);
    assert.deepEqual(after.cells, before.cells);
    assert.ok(after.cells.some((v) => v > 0));
  });

  it('each aggregator keeps its own clamp state', () => {
    const instruments = Instruments.create({ capacity: 1 });
    const rec = instruments.recorder();
    rec.hazard(0, 4);
    const a = new InstrumentAggregator(instruments).totals();
    const b = new InstrumentAggregator(instruments).totals();
    assert.deepEqual(a.cells, b.cells);
    assert.ok(b.atNs >= a.atNs);
  });
});
