import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import { SimError, STRATEGIES } from '../../src/cpus/sim-api.js';
import { importMaps } from '../../src/mm/import-maps.js';
import { mmap } from '../../src/mm/syscalls/index.js';
import { readWholeMaps } from '../../src/procfs/maps-text.js';
import { directMapsWalker } from '../../src/procfs/vma-capture.js';
import { toErrorReply } from '../../src/schemas/errors.js';

let sim: Sim;

before(async () => {
  sim = await Sim.start({
    strategy: 'per_vma',
    cpus: 2,
    maxProcesses: 16,
    maxVmasPerProcess: 65_530,
    maxBatch: 65_536,
    population: 2,
  });
});

after(async () => {
  await sim.close();
});

/** The pieces of a read; traced, each piece is one chunk (one lock window). */
async function maps(
  pid: number,
  chunk: number,
  strategy?: (typeof STRATEGIES)[number],
  chunkStats?: number[],
) {
  const parts: Buffer[] = [];
  for await (const c of await sim.readMaps(pid, { chunk, strategy, chunkStats })) {
    parts.push(Buffer.from(c));
  }
  return parts;
}

const TEXT = [
  '00400000-00401000 r--p 00000000 fe:00 1234                               /usr/bin/demo',
  '00401000-00402000 r-xp 00001000 fe:00 1234                               /usr/bin/demo',
  '7f0000000000-7f0000004000 rw-p 00000000 00:00 0 ',
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  '',
].join('\n');

test('an imported process reads back byte-identical under every strategy, in whole-line chunks', async () => {
  const p = await sim.createProcess({ comm: 'demo', maps: TEXT });
  assert.equal(p.vmas, 4);
  for (const s of STRATEGIES) {
    assert.equal(Buffer.concat(await maps(p.pid, 4096, s)).toString(), TEXT, s);
    const small = await maps(p.pid, 100, s, []);
    assert.ok(small.length >= 4, `${s}: ${small.length} chunks`);
    for (const c of small) assert.equal(c.at(-1), 10);
    assert.equal(Buffer.concat(small).toString(), TEXT, s);
    // Untraced, the event loop (the default --reads) gathers one turn's chunks into one piece.
    const pieces = await maps(p.pid, 100, s);
    assert.equal(pieces.length, 1, `${s}: ${pieces.length} pieces`);
    assert.equal(Buffer.concat(pieces).toString(), TEXT, s);
  }
});

test('mutations run on the worker CPUs and are seen by later reads and queries', async () => {
  const p = await sim.createProcess({ comm: 'demo', maps: TEXT });
  const [addr, bad] = await sim.syscalls(p.pid, [
    { op: 'mmap', addr: 0x10000000, length: 0x2000, prot: 3, flags: 0x22, offset: 0, file: null },
    { op: 'munmap', addr: 0x10000001, length: 0x1000 },
  ]);
  assert.equal(addr, 0x10000000);
  assert.ok(bad instanceof SimError);
  assert.equal(bad.code, 'EINVAL');
  const text = Buffer.concat(await maps(p.pid, 0)).toString();
  assert.match(text, /^10000000-10002000 rw-p 00000000 00:00 0 $/m);
  const answered = sim.query(p.pid, {}, [
    { addr: 0x10001000, flags: 0, name: true, buildId: false },
    { addr: 0x20000000, flags: 0, name: false, buildId: false },
  ]);
  // Reads run on the event loop (the default): a batch that did not wait comes back at once.
  assert.ok(Array.isArray(answered));
  const [hit, miss] = answered;
  assert.ok(!(hit instanceof SimError));
  assert.equal(hit.vmaStart, 0x10000000);
  assert.equal(hit.vmaEnd, 0x10002000);
  assert.equal(hit.vmaName, null);
  assert.ok(miss instanceof SimError);
  assert.equal(miss.code, 'ENOENT');
  // The same calls on an engine-only copy on this thread give the same bytes.
  const local = importMaps(TEXT);
  assert.equal(mmap(local, 0x10000000, 0x2000, 3, 0x22), 0x10000000);
  assert.equal(Buffer.from(readWholeMaps(directMapsWalker(local))).toString(), text);
});

test('fork gives a child with an equal address space; exit makes the pid vanish', async () => {
  const p = await sim.createProcess({ comm: 'demo', maps: TEXT });
  const child = await sim.forkProcess(p.pid);
  assert.notEqual(child.pid, p.pid);
  assert.deepEqual(await maps(child.pid, 0), await maps(p.pid, 0));
  await sim.exitProcess(child.pid);
  const gone = sim.query(child.pid, {}, [{ addr: 0x1000, flags: 0, name: false, buildId: false }]);
  assert.ok(gone instanceof Promise, 'a missing pid rejects (no exception thrown)');
  await assert.rejects(gone, (e: unknown) => e instanceof SimError && e.code === 'ESRCH');
  await assert.rejects(
    async () => sim.readMaps(child.pid, { chunk: 0 }),
    (e: unknown) => {
      assert.ok(e instanceof SimError);
      return e.code === 'ESRCH';
    },
  );
  await assert.rejects(sim.syscalls(child.pid, [{ op: 'brk', addr: 0 }]));
});

test('an activity runs on its own thread while readers read; stopping it ends its counts', async () => {
  const p = await sim.createProcess({ comm: 'busy', template: 'minimal' });
  await sim.setActivity(p.pid, { kind: 'profile', profile: 'jit', ratePerS: null });
  let status = await sim.getActivity(p.pid);
  for (let i = 0; i < 100_000 && (status?.calls ?? 0) < 500; i++) {
    for (const c of await maps(p.pid, 4096, 'lockless_nofallback')) assert.equal(c.at(-1), 10);
    status = await sim.getActivity(p.pid);
  }
  assert.ok((status?.calls ?? 0) >= 500, JSON.stringify(status));
  assert.equal(status?.errors, 0);
  assert.equal(await sim.stopActivity(p.pid), true);
  assert.equal(await sim.getActivity(p.pid), null);
  assert.equal(await sim.stopActivity(p.pid), false);
});

test('the configured strategy is shared with every thread; limits answer with errno', async () => {
  sim.setStrategy('snapshot');
  assert.equal(sim.getConfig().strategy, 'snapshot');
  sim.setStrategy('per_vma');
  const made: number[] = [];
  await assert.rejects(
    (async () => {
      for (;;) made.push((await sim.createProcess({ template: 'minimal' })).pid);
    })(),
    (e: unknown) => e instanceof SimError && e.code === 'EAGAIN',
  );
  for (const pid of made) await sim.exitProcess(pid);
  const g = sim.gauges();
  assert.equal(g.processes, (await sim.listProcesses(0, 100)).total);
});

test('a crash on a worker CPU is an internal error (HTTP 500), not an errno answer', async () => {
  const p = await sim.createProcess({ comm: 'demo', maps: TEXT });
  // A batch the worker cannot iterate: its handler throws a TypeError.
  const bogus = null as unknown as Parameters<Sim['syscalls']>[1];
  await assert.rejects(sim.syscalls(p.pid, bogus), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.ok(!(e instanceof SimError), 'a bug must not look like an errno from the engine');
    assert.equal(toErrorReply(e).status, 500);
    return true;
  });
  // The worker still serves, and the process is intact.
  const [b] = await sim.syscalls(p.pid, [{ op: 'brk', addr: 0 }]);
  assert.equal(typeof b, 'number');
});
