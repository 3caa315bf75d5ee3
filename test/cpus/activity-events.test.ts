/**
 * Mutation events from busy processes on the worker-CPU engine: activity threads record each call
 * into their event ring while someone is subscribed, and the worker transport turns the records back into
 * `{pid, call, result}` for its listeners. Expected calls and results are derived independently:
 * loops from the loop itself and one pass run through `syscalls()` on an identical process;
 * profiles by replaying a fresh profile source with the results the events carry.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { EVENT_RING_CAPACITY } from '../../src/cpus/activity-events.js';
import { ActivityThread } from '../../src/cpus/activity-thread.js';
import type { EngineThreadData } from '../../src/cpus/cpu-worker.js';
import { profileSource } from '../../src/cpus/local-activity.js';
import { EventsGate } from '../../src/cpus/mutation-ring.js';
import { SharedConfig } from '../../src/cpus/shared-config.js';
import { Sim } from '../../src/cpus/sim.js';
import {
  type MutationEvent,
  SimError,
  type SyscallCall,
  type SyscallResult,
} from '../../src/cpus/sim-api.js';
import { Instruments } from '../../src/metrics/instruments.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { mmap } from '../../src/mm/syscalls/index.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE } from '../../src/mm/vm-flags.js';
import { RcuDomain } from '../../src/sync/rcu.js';

const PAGE = 4096;
const TIMEOUT = { timeout: 60_000 };
let sim: Sim;
const dropped: Array<[number, number]> = [];

before(async () => {
  sim = await Sim.start({
    strategy: 'per_vma',
    cpus: 1,
    maxProcesses: 16,
    maxVmasPerProcess: 65_530,
    maxBatch: 65_536,
    population: 0,
  });
  sim.onEventsDropped((pid, count) => dropped.push([pid, count]));
});

after(async () => {
  await sim.close();
});

/** A fixed layout (templates randomise theirs, as ASLR does): twins get identical address spaces. */
const MAPS = [
  '00400000-00401000 r--p 00000000 fe:00 1234                               /usr/bin/demo',
  '00401000-00402000 r-xp 00001000 fe:00 1234                               /usr/bin/demo',
  '00600000-00621000 rw-p 00000000 00:00 0                                  [heap]',
  '7f0000000000-7f0000004000 rw-p 00000000 00:00 0 ',
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  '',
].join('\n');

/** Subscribes, starts what `start` starts, and resolves with the first `n` events of `pid`. */
async function firstEvents(
  pid: number,
  n: number,
  start: () => Promise<unknown>,
): Promise<MutationEvent[]> {
  const events: MutationEvent[] = [];
  let unsubscribe = () => {};
  const got = new Promise<void>((resolve) => {
    unsubscribe = sim.onMutation((e) => {
      if (e.pid !== pid || events.length >= n) return;
      events.push(e);
      if (events.length === n) resolve();
    });
  });
  await start();
  await got;
  unsubscribe();
  return events;
}

/** Results compared by value: a number, or the errno of a SimError. */
function outcome(r: SyscallResult): number | string {
  return r instanceof SimError ? r.code : r;
}

test(
  'a loop activity: every call arrives, in loop order, with the results the calls really have',
  TIMEOUT,
  async () => {
    const A = 0x2_0000_0000;
    const B = 0x3_0000_0000;
    const file = {
      path: '/usr/lib/libevents.so',
      devMajor: 8,
      devMinor: 1,
      inode: 77,
      writable: false,
    };
    const loop: SyscallCall[] = [
      {
        op: 'mmap',
        addr: A,
        length: 2 * PAGE,
        prot: 3,
        flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
        offset: 0,
        file: null,
      },
      { op: 'anon_name', addr: A, length: 2 * PAGE, name: 'loop-buf' },
      { op: 'mprotect', addr: A, length: PAGE, prot: 1 },
      { op: 'munmap', addr: A + 1, length: PAGE },
      { op: 'mremap', oldAddr: A + PAGE, oldSize: PAGE, newSize: 3 * PAGE, flags: 0, newAddr: 0 },
      { op: 'munmap', addr: A, length: 4 * PAGE },
      {
        op: 'mmap',
        addr: B,
        length: PAGE,
        prot: 1,
        flags: MAP_PRIVATE | MAP_FIXED,
        offset: 0,
        file,
      },
      { op: 'anon_name', addr: B, length: PAGE, name: null },
      { op: 'munmap', addr: B, length: PAGE },
      { op: 'brk', addr: 0 },
    ];
    // One pass on an identical process through the worker CPUs: each pass leaves the address space
    // as it found it, so every pass of the activity must give these results.
    const twin = await sim.createProcess({ maps: MAPS });
    const expected = (await sim.syscalls(twin.pid, loop)).map(outcome);
    assert.equal(expected[0], A);
    assert.equal(expected[3], 'EINVAL');
    assert.equal(expected[6], B);

    const p = await sim.createProcess({ maps: MAPS });
    const passes = 4;
    const events = await firstEvents(p.pid, passes * loop.length, () =>
      sim.setActivity(p.pid, { kind: 'loop', loop, ratePerS: 2000 }),
    );
    await sim.stopActivity(p.pid);
    events.forEach((e, i) => {
      assert.deepEqual(e.call, loop[i % loop.length], `event ${i}`);
      assert.equal(outcome(e.result), expected[i % loop.length], `result of event ${i}`);
    });
    assert.deepEqual(
      dropped.filter(([pid]) => pid === p.pid),
      [],
    );
  },
);

test(
  'a jit profile: the calls follow the pattern with the addresses its mmaps really returned',
  TIMEOUT,
  async () => {
    // Where the profile's first mmap lands on a fresh process, asked through syscalls().
    const twin = await sim.createProcess({ maps: MAPS });
    const first = profileSource('jit').next(undefined)!;
    const [where] = await sim.syscalls(twin.pid, [first]);
    assert.equal(typeof where, 'number');

    const p = await sim.createProcess({ maps: MAPS });
    const events = await firstEvents(p.pid, 5 * 6, () =>
      sim.setActivity(p.pid, { kind: 'profile', profile: 'jit', ratePerS: 2000 }),
    );
    await sim.stopActivity(p.pid);
    // Replay the pattern with the results the events carry: each call must be what it produces.
    const replay = profileSource('jit');
    let previous: number | undefined;
    events.forEach((e, i) => {
      assert.deepEqual(e.call, replay.next(previous), `event ${i}`);
      previous = typeof e.result === 'number' ? e.result : -e.result.errno;
    });
    const mmaps = events.filter((e) => e.call.op === 'mmap');
    assert.equal(mmaps.length, 5);
    // The first mmap lands where it does on the twin; each later call works on what it returned
    // (the replay above) and succeeds, so the address was real.
    assert.equal(mmaps[0].result, where);
    for (const e of events) assert.equal(typeof e.result, 'number', JSON.stringify(e));
    const names = events.filter((e) => e.call.op === 'anon_name');
    assert.ok(names.every((e) => e.call.op === 'anon_name' && e.call.name === 'jit-code'));
  },
);

test(
  'subscribing to an already busy process: events start mid-pattern; the last unsubscribe closes the gate',
  TIMEOUT,
  async () => {
    // The worker transport's gate word is private: reached through an index on purpose.
    // biome-ignore lint/complexity/useLiteralKeys: a private member, reached on purpose
    const transport = sim['transport'] as unknown as { gate: EventsGate };
    const gate = () => transport.gate.epoch;
    const p = await sim.createProcess({ maps: MAPS });
    await sim.setActivity(p.pid, { kind: 'profile', profile: 'malloc', ratePerS: 2000 });
    assert.equal(gate(), 0);
    // The first subscription opens the gate; a second one shares it.
    const other = sim.onMutation(() => {});
    assert.notEqual(gate(), 0);
    const events = await firstEvents(p.pid, 12, async () => {});
    assert.notEqual(gate(), 0);
    other();
    assert.equal(gate(), 0);
    await sim.stopActivity(p.pid);
    // malloc is mmap, touch, mprotect, mprotect, touch, munmap: replay it from the first mmap.
    const start = events.findIndex((e) => e.call.op === 'mmap');
    assert.ok(start >= 0 && start < 6, `first mmap at ${start}`);
    const replay = profileSource('malloc');
    let previous: number | undefined;
    for (let i = start; i < events.length; i++) {
      assert.deepEqual(events[i].call, replay.next(previous), `event ${i}`);
      assert.equal(typeof events[i].result, 'number');
      const r = events[i].result;
      previous = typeof r === 'number' ? r : -r.errno;
    }
  },
);

function engine(): { data: EngineThreadData; mm: MmStruct } {
  const globals = MmGlobals.create();
  const rcu = RcuDomain.create();
  const mm = MmStruct.create({ globals, grace: rcu });
  mm.mmapBase = 0x7f0000000000;
  assert.ok(mmap(mm, 0x400000, 0x1000, 1, 0x22) >= 0);
  const data: EngineThreadData = {
    globals: globals.buffers(),
    rcu: rcu.buffer,
    instruments: Instruments.create().buffer,
    config: SharedConfig.create('per_vma').buffer,
  };
  return { data, mm };
}

async function until(what: string, pred: () => boolean, maxTurns = 5_000_000) {
  for (let i = 0; i < maxTurns && !pred(); i++) await tick();
  assert.ok(pred(), `${what}: not reached`);
}

test(
  'an activity thread records only while the gate is open; a full ring drops and counts',
  TIMEOUT,
  async () => {
    const { data, mm } = engine();
    const gate = EventsGate.create();
    const a = new ActivityThread(
      { kind: 'profile', profile: 'mmap_churn', ratePerS: null },
      mm.buffer,
      data,
      1,
      gate,
    );
    const offered = () => a.events.recorded + a.events.dropped;
    try {
      // Closed: the thread runs but writes nothing.
      await until('1000 calls', () => a.status().calls >= 1000);
      assert.equal(offered(), 0);

      // Open and never drained: the ring fills (4096 records), then every further call is dropped.
      const epoch = gate.open();
      await until('ring full and 1000 drops', () => a.events.dropped >= 1000);
      // Closed again: at most the one call in flight when it closed is still offered.
      gate.close();
      const before = offered();
      const calls = a.status().calls;
      await until('1000 more calls', () => a.status().calls >= calls + 1000);
      assert.ok(offered() - before <= 1, `${offered() - before} records after close`);
      // Nothing drained: the ring holds exactly its capacity; the rest were counted as dropped.
      const kept = a.events.recorded;
      assert.equal(kept, EVENT_RING_CAPACITY);
      assert.ok(a.events.dropped >= 1000);
      assert.equal(a.events.takeDropped(), a.events.dropped);
      assert.equal(a.events.takeDropped(), 0);

      // What the ring kept is whole: mmap_churn is mmap, a touch of what it mapped, munmap of it.
      const got: Array<{ call: SyscallCall; result: number }> = [];
      const n = a.events.drain(epoch, Number.POSITIVE_INFINITY, (call, result) =>
        got.push({ call, result }),
      );
      assert.equal(n, kept);
      assert.equal(got.length, kept);
      for (let i = 2; i < got.length; i++) {
        const [mapped, touched, cur] = [got[i - 2], got[i - 1], got[i]];
        if (cur.call.op === 'munmap') {
          assert.equal(mapped.call.op, 'mmap');
          assert.equal(touched.call.op, 'touch');
          assert.equal(touched.call.addr, mapped.result);
          assert.equal(cur.call.addr, mapped.result);
          assert.equal(cur.call.length, 16 * PAGE);
        }
      }
      // Records of another epoch (a subscription that ended) are consumed but not delivered.
      const epoch2 = gate.open();
      await until('a record', () => a.events.recorded > kept);
      gate.close();
      let delivered = 0;
      a.events.drain(epoch2 + 1, Number.POSITIVE_INFINITY, () => delivered++);
      assert.equal(delivered, 0);
    } finally {
      await a.stop();
    }
  },
);
