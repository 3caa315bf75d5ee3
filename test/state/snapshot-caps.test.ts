/**
 * What a v4 snapshot adds: each process's THP mode (and zero-page capability) and its
 * hiwater_vm. A process snapshotted under `--thp always` and restored into a `--thp madvise`
 * service keeps `always` (its smaps, and its next faults, are those it would have had without
 * the restart), the restore says how many processes keep another mode, and new processes take
 * the service's. VmPeak above VmSize survives the restart.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import type { SyscallCall } from '../../src/cpus/sim-api.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE } from '../../src/mm/vm-flags.js';
import {
  captureService,
  decodeService,
  encodeService,
  restoreService,
} from '../../src/state/service-image.js';
import { openFrame, SNAPSHOT_FORMAT_VERSION, sealFrame } from '../../src/state/snapshot-frame.js';
import { localSim, observe } from './support.js';

const sims: Sim[] = [];
after(async () => {
  for (const s of sims) await s.close();
});

const HUGE = 0x500000000000;
const map = (addr: number, length: number): SyscallCall => ({
  op: 'mmap',
  addr,
  length,
  prot: 3,
  flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
  offset: 0,
  file: null,
});

async function text(sim: Sim, pid: number, file: 'smaps' | 'status'): Promise<string> {
  let s = '';
  for await (const c of await sim.readProcFile(pid, file, { chunk: 0 }))
    s += Buffer.from(c).toString();
  return s;
}

const anonHuge = (smaps: string) =>
  [...smaps.matchAll(/^AnonHugePages: +(\d+) kB$/gm)].reduce((n, m) => n + Number(m[1]), 0);

test('a snapshot (v4 on) keeps each process its THP mode and its VmPeak', async () => {
  const a = await Sim.start({
    strategy: 'per_vma',
    cpus: 0,
    maxProcesses: 8,
    maxVmasPerProcess: 65530,
    maxBatch: 65536,
    population: 0,
    thp: 'always',
  });
  sims.push(a);
  const pid = (await a.createProcess({ template: 'minimal', comm: 'thp' })).pid;
  const r = await a.syscalls(pid, [
    map(HUGE, 0x400000),
    { op: 'touch', addr: HUGE, length: 0x1000, write: true },
    map(HUGE + 0x1000000, 0x800000),
    { op: 'munmap', addr: HUGE + 0x1000000, length: 0x800000 },
  ]);
  assert.ok(
    r.every((x) => !(x instanceof Error)),
    String(r),
  );
  const smapsBefore = await text(a, pid, 'smaps');
  assert.equal(anonHuge(smapsBefore), 2048, 'always: a huge page without MADV_HUGEPAGE');
  const status = await text(a, pid, 'status');
  const kb = (t: string, f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, 'm').exec(t)![1]);
  assert.equal(kb(status, 'VmPeak') - kb(status, 'VmSize'), 8192, 'the unmapped 8 MiB');

  const bytes = sealFrame(encodeService(await captureService(a, a.durable)));
  const frame = openFrame(bytes);
  assert.equal(frame.version, SNAPSHOT_FORMAT_VERSION);
  assert.ok(frame.version >= 4);
  const b = await localSim(); // --thp madvise (the default)
  sims.push(b);
  const totals = await restoreService(decodeService(frame.payload, frame.version), b.durable);
  assert.equal(totals.otherThp, 1, 'the restore says one process keeps another THP mode');
  assert.deepEqual(totals.otherThpModes, { always: 1 });
  assert.deepEqual(await observe(b, true), await observe(a, true), 'smaps and status equal');
  // The restored process still faults as under `always`; a new one follows --thp madvise.
  const fresh = (await b.createProcess({ template: 'minimal' })).pid;
  for (const p of [pid, fresh]) {
    const rr = await b.syscalls(p, [
      map(HUGE + 0x2000000, 0x400000),
      { op: 'touch', addr: HUGE + 0x2000000, length: 0x1000, write: true },
    ]);
    assert.ok(
      rr.every((x) => !(x instanceof Error)),
      String(rr),
    );
  }
  assert.equal(anonHuge(await text(b, pid, 'smaps')), 4096, 'restored: still always');
  assert.equal(anonHuge(await text(b, fresh, 'smaps')), 0, 'new: madvise');
});

test('a restore under the same THP mode reports none kept apart', async () => {
  const a = await localSim();
  sims.push(a);
  await a.createProcess({ template: 'minimal' });
  const frame = openFrame(sealFrame(encodeService(await captureService(a, a.durable))));
  const b = await localSim();
  sims.push(b);
  const totals = await restoreService(decodeService(frame.payload, frame.version), b.durable);
  assert.deepEqual({ n: totals.otherThp, m: totals.otherThpModes }, { n: 0, m: {} });
});
