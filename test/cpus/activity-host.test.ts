/**
 * The shared activity thread (activity-host.ts): capped activities of several processes on one
 * thread, each with its own pacing, counters and failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ActivityHost, type HostedActivity } from '../../src/cpus/activity-host.js';
import { EventsGate } from '../../src/cpus/mutation-ring.js';
import { SharedConfig } from '../../src/cpus/shared-config.js';
import type { ActivitySpec, SyscallCall } from '../../src/cpus/sim-api.js';
import type { EngineThreadData } from '../../src/cpus/transport.js';
import { Instruments } from '../../src/metrics/instruments.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { mmap } from '../../src/mm/syscalls/index.js';
import { RcuDomain } from '../../src/sync/rcu.js';

function engine(rcuSlots?: number) {
  const globals = MmGlobals.create();
  const rcu = RcuDomain.create(rcuSlots);
  const instruments = Instruments.create();
  const data: EngineThreadData = {
    globals: globals.buffers(),
    rcu: rcu.buffer,
    instruments: instruments.buffer,
    config: SharedConfig.create('per_vma').buffer,
  };
  const process = () => {
    const mm = MmStruct.create({ globals, grace: rcu });
    mm.mmapBase = 0x7f0000000000;
    assert.ok(mmap(mm, 0x400000, 0x1000, 1, 0x22) >= 0);
    return mm;
  };
  /** Threads holding an instrument block (every activity thread claims one). */
  const threads = () => {
    const owners = new Set<number>();
    for (let b = 0; b < instruments.capacity; b++) {
      const owner = instruments.blockOwner(b);
      if (owner !== 0) owners.add(owner);
    }
    return owners.size;
  };
  return { data, rcu, process, threads };
}

async function until(a: HostedActivity, pred: () => boolean, maxTurns = 2_000_000) {
  for (let i = 0; i < maxTurns && !pred(); i++) await tick();
  if (pred()) return;
  const status = JSON.stringify(a.status(), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  assert.fail(`condition not reached; status ${status}`);
}

test('capped activities of several processes run on one thread, each at its own rate', async () => {
  const { data, process, threads } = engine();
  const host = new ActivityHost(data, EventsGate.create());
  const specs: ActivitySpec[] = [
    { kind: 'profile', profile: 'mmap_churn', ratePerS: 200 },
    { kind: 'profile', profile: 'jit', ratePerS: 200 },
    { kind: 'loop', loop: [{ op: 'brk', addr: 0 }], ratePerS: 50 },
  ];
  const mms = specs.map(() => process());
  const t0 = performance.now();
  const acts = specs.map((spec, i) => host.add(spec, mms[i].buffer, () => {}));
  await Promise.all(acts.map((a) => a.started));
  assert.equal(threads(), 1);
  for (const a of acts) await until(a, () => a.status().calls >= 20);
  const elapsedS = (performance.now() - t0) / 1000;
  for (const [i, a] of acts.entries()) {
    const s = a.status();
    // The (calls-1)-th call was due (calls-1)/rate s after the activity started, after t0.
    const rate = specs[i].ratePerS as number;
    assert.ok(elapsedS >= (s.calls - 1) / rate, `${s.calls} calls in ${elapsedS}s at ${rate}/s`);
    assert.equal(s.errors, 0);
    assert.ok(s.iterations >= 1);
  }
  // Stopping one leaves the others running; a stopped one's counts no longer move.
  await acts[0].stop();
  const stopped = acts[0].status().calls;
  // mmap_churn is mmap + touch + munmap: its mapping is there between the mmap and the munmap.
  assert.equal(mms[0].mapCount, 1 + (stopped % 3 === 0 ? 0 : 1));
  const others = acts[1].status().calls;
  await until(acts[1], () => acts[1].status().calls >= others + 10);
  assert.equal(acts[0].status().calls, stopped);
  await Promise.all(acts.slice(1).map((a) => a.stop()));
  await host.close();
  assert.equal(threads(), 0);
});

test('an activity that dies on the shared thread fails alone; the others go on', async () => {
  const { data, process } = engine();
  const host = new ActivityHost(data, EventsGate.create());
  const good = host.add(
    { kind: 'loop', loop: [{ op: 'brk', addr: 0 }], ratePerS: 500 },
    process().buffer,
    () => {},
  );
  const reasons: string[] = [];
  // A BigInt length (the HTTP schema never lets one in) makes the engine throw inside the call.
  const crash = { op: 'munmap', addr: 0x400000, length: 1n } as unknown as SyscallCall;
  const bad = host.add(
    { kind: 'loop', loop: [{ op: 'brk', addr: 0 }, crash], ratePerS: 500 },
    process().buffer,
    (reason) => reasons.push(reason),
  );
  await Promise.all([good.started, bad.started]);
  await until(bad, () => bad.status().failure !== undefined);
  assert.equal(reasons.length, 1);
  assert.match(reasons[0], /BigInt/);
  assert.equal(bad.status().calls, 1); // the good first call; the crash is no call
  const calls = good.status().calls;
  await until(good, () => good.status().calls >= calls + 10);
  assert.equal(good.status().failure, undefined);
  await bad.stop(); // already gone: resolves at once
  await good.stop();
  await host.close();
});

test('when the shared thread cannot start, its activities are refused', async () => {
  const { data, rcu, process } = engine(1);
  rcu.register(); // the only reader slot: the thread's registration throws
  try {
    const host = new ActivityHost(data, EventsGate.create());
    const spec: ActivitySpec = { kind: 'profile', profile: 'jit', ratePerS: 100 };
    const a = host.add(spec, process().buffer, () => assert.fail('a refused start is no death'));
    await assert.rejects(a.started);
    await a.stop();
    await host.close();
  } finally {
    rcu.unregister();
  }
});
