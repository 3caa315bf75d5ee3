import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ActivityThread } from '../../src/cpus/activity-thread.js';
import type { EngineThreadData } from '../../src/cpus/cpu-worker.js';
import { SharedConfig } from '../../src/cpus/shared-config.js';
import { Instruments } from '../../src/metrics/instruments.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { mmap } from '../../src/mm/syscalls/index.js';
import { RcuDomain } from '../../src/sync/rcu.js';

function engine(): { data: EngineThreadData; mm: MmStruct } {
  const globals = MmGlobals.create();
  const rcu = RcuDomain.create();
  const mm = MmStruct.create({ globals, grace: rcu });
  mm.mmapBase = 0x7f0000000000;
  // One mapping so the process is not empty; the activity works below mmap_base.
  assert.ok(mmap(mm, 0x400000, 0x1000, 1, 0x22) >= 0);
  const data: EngineThreadData = {
    globals: globals.buffers(),
    rcu: rcu.buffer,
    instruments: Instruments.create().buffer,
    config: SharedConfig.create('per_vma').buffer,
  };
  return { data, mm };
}

/** Polls the activity's counters until `pred` holds (bounded by `maxTurns` event-loop turns). */
async function until(a: ActivityThread, pred: () => boolean, maxTurns = 2_000_000) {
  for (let i = 0; i < maxTurns && !pred(); i++) await tick();
  assert.ok(pred(), `condition not reached; status ${JSON.stringify(a.status())}`);
}

test('an uncapped profile runs on its own thread, changes the mm, and stops cleanly', async () => {
  const { data, mm } = engine();
  const a = new ActivityThread(
    { kind: 'profile', profile: 'mmap_churn', ratePerS: null },
    mm.buffer,
    data,
    1,
  );
  await until(a, () => a.status().calls >= 2000);
  await a.stop();
  const s = a.status();
  assert.equal(s.errors, 0);
  // mmap_churn is mmap + touch + munmap: one iteration per three calls.
  assert.ok(Math.abs(s.iterations - s.calls / 3) <= 1, JSON.stringify(s));
  // Between the mmap and the munmap of a pass the churn mapping is there, and written.
  assert.equal(mm.mapCount, 1 + (s.calls % 3 === 0 ? 0 : 1));
  // Stopped means stopped: the counts no longer move.
  const calls = s.calls;
  for (let i = 0; i < 1000; i++) await tick();
  assert.equal(a.status().calls, calls);
});

test('a rate cap holds calls to the rate (never faster than n / rate seconds)', async () => {
  const { data, mm } = engine();
  const rate = 200;
  const t0 = performance.now();
  const a = new ActivityThread(
    { kind: 'loop', loop: [{ op: 'brk', addr: 0 }], ratePerS: rate },
    mm.buffer,
    data,
    2,
  );
  await until(a, () => a.status().calls >= 20);
  const elapsedS = (performance.now() - t0) / 1000;
  const calls = a.status().calls;
  await a.stop();
  // The (calls-1)-th call was due (calls-1)/rate s after the thread started, which is after t0.
  assert.ok(elapsedS >= (calls - 1) / rate, `${calls} calls in ${elapsedS}s at ${rate}/s`);
  assert.equal(a.status().errors, 0);
});

test('a loop whose calls fail counts the errors and keeps going', async () => {
  const { data, mm } = engine();
  const a = new ActivityThread(
    { kind: 'loop', loop: [{ op: 'munmap', addr: 0x1001, length: 0x1000 }], ratePerS: null },
    mm.buffer,
    data,
    3,
  );
  await until(a, () => a.status().calls >= 100);
  await a.stop();
  const s = a.status();
  assert.equal(s.errors, s.calls); // unaligned munmap: EINVAL every time
  assert.equal(s.iterations, s.calls);
  assert.equal(mm.mapCount, 1);
});
