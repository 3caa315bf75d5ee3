import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { EventsGate, MutationRing } from '../../src/cpus/mutation-ring.js';

/** Producer side in the test's own thread: one record whose cells are value, value + 1, …. */
function push(ring: MutationRing, value: number): boolean {
  const at = ring.reserve();
  if (at < 0) return false;
  for (let j = 0; j < ring.recordCells; j++) ring.cells[at + j] = value + j;
  ring.commit();
  return true;
}

function take(ring: MutationRing, max = Number.POSITIVE_INFINITY): number[][] {
  const out: number[][] = [];
  ring.drain(max, (cells, at) => out.push(Array.from(cells.subarray(at, at + ring.recordCells))));
  return out;
}

test('records come out in order, whole, across many wrap-arounds of the slots', () => {
  const ring = MutationRing.create(4, 3);
  let next = 0;
  let expected = 0;
  // Uneven batches (1..4 in, then all out) walk the head and tail over every slot position.
  for (let round = 0; round < 50; round++) {
    const batch = (round % 4) + 1;
    for (let i = 0; i < batch; i++) assert.equal(push(ring, next++ * 10), true);
    assert.equal(ring.pending, batch);
    for (const r of take(ring)) {
      assert.deepEqual(r, [expected * 10, expected * 10 + 1, expected * 10 + 2]);
      expected++;
    }
    assert.equal(ring.pending, 0);
  }
  assert.equal(expected, next);
  assert.equal(ring.published, next);
  assert.equal(ring.dropped, 0);
});

test('the head and tail counters wrap past 2^31 and 2^32 without losing or reordering records', () => {
  for (const first of [2 ** 31 - 3, 2 ** 32 - 3]) {
    const ring = MutationRing.create(4, 1, first);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 6; round++) {
      // Fill to capacity each round: the full test must hold across the wrap too.
      for (let i = 0; i < 4; i++) assert.equal(push(ring, next++), true);
      assert.equal(push(ring, -1), false);
      assert.equal(ring.pending, 4);
      for (const [v] of take(ring)) assert.equal(v, expected++);
    }
    assert.equal(expected, 24);
    assert.equal(ring.dropped, 6);
    assert.equal(ring.published, (first + 24) % 2 ** 32);
  }
});

test('a full ring drops and counts new records, keeps the old ones intact, and frees on drain', () => {
  const ring = MutationRing.create(4, 2);
  for (let v = 0; v < 4; v++) assert.equal(push(ring, v * 100), true);
  assert.equal(push(ring, 999), false);
  assert.equal(push(ring, 998), false);
  assert.equal(ring.dropped, 2);
  assert.equal(ring.pending, 4);
  // A partial drain frees exactly that many slots.
  assert.deepEqual(take(ring, 1), [[0, 1]]);
  assert.equal(push(ring, 400), true);
  assert.equal(push(ring, 997), false);
  assert.equal(ring.dropped, 3);
  assert.deepEqual(take(ring), [
    [100, 101],
    [200, 201],
    [300, 301],
    [400, 401],
  ]);
  // Commit without a reserve (or after a refused one) is a bug in the producer, not a no-op.
  assert.equal(push(ring, 500), true);
  assert.throws(() => ring.commit());
  assert.throws(() => MutationRing.create(6, 2), RangeError);
});

test('skipAll forgets what was published, and the ring is usable afterwards', () => {
  const ring = MutationRing.create(8, 1);
  for (let v = 0; v < 5; v++) push(ring, v);
  ring.skipAll();
  assert.equal(ring.pending, 0);
  assert.deepEqual(take(ring), []);
  push(ring, 42);
  assert.deepEqual(take(ring), [[42]]);
});

test('a real producer thread: no torn or reordered records, and received + dropped = sent', async () => {
  const published = 5_000;
  const ring = MutationRing.create(64, 8);
  const worker = new Worker(new URL('./ring-producer.js', import.meta.url), {
    workerData: { ring: ring.buffer, published },
  });
  const done = once(worker, 'message');
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  let received = 0;
  let last = -1;
  let gaps = 0;
  const check = (cells: Float64Array, at: number) => {
    const k = Math.floor(cells[at] / 1000);
    for (let j = 0; j < 8; j++) assert.equal(cells[at + j], k * 1000 + j, `torn record ${k}`);
    assert.ok(k > last, `record ${k} after ${last}`);
    gaps += k - last - 1;
    last = k;
    received++;
  };
  // The consumer drains concurrently, yielding to the event loop between drains.
  while (!exited) {
    ring.drain(Number.POSITIVE_INFINITY, check);
    await tick();
  }
  ring.drain(Number.POSITIVE_INFINITY, check);
  const [{ sent, refused }] = (await done) as [{ sent: number; refused: number }];
  assert.equal(ring.dropped, refused);
  assert.equal(received, published);
  assert.equal(received + refused, sent);
  // What was dropped is exactly the holes in the sequence; the last record offered got in.
  assert.equal(last, sent - 1);
  assert.equal(gaps, refused);
});

test('the gate: closed is 0, each open is a new non-zero epoch, seen through another view', () => {
  const gate = EventsGate.create();
  const other = EventsGate.attach(gate.buffer);
  assert.equal(other.epoch, 0);
  const e1 = gate.open();
  assert.notEqual(e1, 0);
  assert.equal(other.epoch, e1);
  gate.close();
  assert.equal(other.epoch, 0);
  const e2 = gate.open();
  assert.notEqual(e2, e1);
  assert.equal(other.epoch, e2);
});
