import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuPool, CpuRequestError, PoolSaturatedError } from '../../src/cpus/cpu-pool.js';

const workerUrl = new URL('./echo-worker.js', import.meta.url);

async function waitFor(words: Int32Array, index: number, value: number): Promise<void> {
  for (;;) {
    const seen = Atomics.load(words, index);
    if (seen >= value) return;
    const r = Atomics.waitAsync(words, index, seen);
    if (r.async) await r.value;
  }
}

test('requests run on every worker and results come back in order per request', async () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const pool = await CpuPool.start({ cpus: 2, workerUrl, workerData: { gate: gate.buffer } });
  try {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => pool.run<{ cpu: number; args: number }>('echo', i)),
    );
    assert.deepEqual(
      results.map((r) => r.args),
      results.map((_, i) => i),
    );
    // Least-loaded dispatch spreads a burst over both CPUs.
    assert.deepEqual(new Set(results.map((r) => r.cpu)), new Set([0, 1]));
    assert.equal(pool.inFlight, 0);
  } finally {
    await pool.close();
  }
});

test('engine errors carry their errno; crashes are reported, not fatal', async () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const pool = await CpuPool.start({ cpus: 1, workerUrl, workerData: { gate: gate.buffer } });
  try {
    await assert.rejects(pool.run('fail', null), (e: unknown) => {
      assert.ok(e instanceof CpuRequestError);
      assert.equal(e.errno, 22);
      assert.equal(e.internal, false);
      return true;
    });
    await assert.rejects(
      pool.run('crash', null),
      (e: unknown) => e instanceof CpuRequestError && e.internal,
    );
    await assert.rejects(pool.run('nope', null), (e: unknown) => e instanceof CpuRequestError);
    // The worker is still serving.
    assert.equal((await pool.run<{ args: string }>('echo', 'x')).args, 'x');
    const buf = await pool.run<ArrayBuffer>('bytes', 4096);
    assert.equal(buf.byteLength, 4096);
    assert.equal(new Uint8Array(buf)[4095], 7);
  } finally {
    await pool.close();
  }
});

test('a full pool rejects at once instead of queueing without bound', async () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const pool = await CpuPool.start({
    cpus: 2,
    workerUrl,
    workerData: { gate: gate.buffer },
    maxInFlight: 3,
  });
  try {
    const blocked = Array.from({ length: 6 }, () => pool.run<number>('block', null));
    assert.equal(pool.inFlight, 6);
    await assert.rejects(pool.run('echo', 1), (e: unknown) => e instanceof PoolSaturatedError);
    // Both CPUs are really blocked inside a handler (one request each; the rest wait behind).
    await waitFor(gate, 1, 2);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const cpus = await Promise.all(blocked);
    assert.equal(cpus.filter((c) => c === 0).length, 3);
    assert.equal(cpus.filter((c) => c === 1).length, 3);
    assert.equal((await pool.run<{ args: number }>('echo', 5)).args, 5);
  } finally {
    await pool.close();
  }
});

test('close() lets in-flight requests finish', async () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const pool = await CpuPool.start({ cpus: 1, workerUrl, workerData: { gate: gate.buffer } });
  const inflight = pool.run<number>('block', null);
  await waitFor(gate, 1, 1);
  const closing = pool.close();
  await assert.rejects(pool.run('echo', 1));
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  assert.equal(await inflight, 0);
  await closing;
});
