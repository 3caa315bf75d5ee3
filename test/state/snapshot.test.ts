/**
 * Snapshot and restore of the engine (the in-process Sim): a restored sim is observably
 * identical (lists, maps bytes, inspect, PROCMAP_QUERY, activities), behaves identically from then
 * on (placement, shmem inodes, brk, the next pid), and re-encodes to the same bytes; a torn,
 * foreign, newer or too-old file is refused by name and set aside; the pid range holds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PID_RANGE, ProcessTable } from '../../src/cpus/process-table.js';
import type { Sim } from '../../src/cpus/sim.js';
import {
  captureService,
  decodeService,
  encodeService,
  RestoreRefusedError,
  restoreService,
} from '../../src/state/service-image.js';
import {
  FRAME_HEADER_BYTES,
  openFrame,
  SNAPSHOT_FORMAT_VERSION,
  sealFrame,
} from '../../src/state/snapshot-frame.js';
import { SNAPSHOT_FILE, StateStore } from '../../src/state/state-store.js';
import { fixtureMaps, localSim, observe, PROBE_CALLS, richState } from './support.js';

const sims: Sim[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of sims) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const newSim = async (pidBase = 0) => {
  const s = await localSim(pidBase);
  sims.push(s);
  return s;
};
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'procfs-state-'));
  dirs.push(d);
  return d;
};

async function snapshotBytes(sim: Sim): Promise<Uint8Array> {
  return sealFrame(encodeService(await captureService(sim, sim.durable)));
}

async function restoredFrom(bytes: Uint8Array, pidBase = 0): Promise<Sim> {
  const sim = await newSim(pidBase);
  const frame = openFrame(bytes);
  await restoreService(decodeService(frame.payload, frame.version), sim.durable);
  return sim;
}

describe('snapshot round trip', () => {
  test('a restored sim is observably identical and re-encodes to the same bytes', async () => {
    const a = await newSim();
    await richState(a);
    const bytes = await snapshotBytes(a);
    const b = await restoredFrom(bytes);
    const before = await observe(a, true);
    const procs = (before as { procs: Array<{ pkeys: boolean }> }).procs;
    assert.ok(procs.length >= 5, 'the state has processes');
    assert.ok(procs.some((p) => p.pkeys) && procs.some((p) => !p.pkeys), 'both CPUs are there');
    const smaps = (before as { procs: Array<{ smaps: string }> }).procs.map((p) => p.smaps);
    assert.ok(
      smaps.some((t) => /^AnonHugePages: +2048 kB$/m.test(t)),
      'a huge page is there',
    );
    assert.ok(
      smaps.some((t) => /^Shared_Dirty: +[1-9]/m.test(t)),
      'fork-shared pages are there',
    );
    assert.deepEqual(
      await observe(b, true),
      before,
      'maps, smaps and status equal after the restore',
    );
    assert.deepEqual(await snapshotBytes(b), bytes, 'capture(restore(x)) == x, byte for byte');
  });

  test('a restored sim behaves like the original: same results, pids and maps afterwards', async () => {
    const a = await newSim();
    await richState(a);
    const b = await restoredFrom(await snapshotBytes(a));
    const probe = async (sim: Sim) => {
      const out = [];
      for (const p of (await sim.listProcesses(0, 100)).processes) {
        const results = await sim.syscalls(p.pid, PROBE_CALLS);
        out.push(results.map((r) => (r instanceof Error ? r.message : r)));
      }
      return out;
    };
    assert.deepEqual(await probe(b), await probe(a), 'same placement, shmem inodes and brk');
    const next = async (sim: Sim) => [
      (await sim.createProcess({ maps: fixtureMaps('cat.maps') })).pid,
      (await sim.forkProcess(1)).pid,
    ];
    assert.deepEqual(await next(b), await next(a), 'the pid counter continues where it was');
    assert.deepEqual(await observe(b), await observe(a));
  });

  test('an empty service round-trips, pid counter included', async () => {
    const a = await newSim();
    const pid = (await a.createProcess({ template: 'minimal' })).pid;
    await a.exitProcess(pid);
    const b = await restoredFrom(await snapshotBytes(a));
    assert.equal((await b.listProcesses(0, 10)).total, 0);
    assert.equal((await b.createProcess({})).pid, pid + 1);
  });
});

describe('refused snapshots', () => {
  const reseal = (bytes: Uint8Array, version: number) =>
    sealFrame(bytes.subarray(FRAME_HEADER_BYTES), version);

  test('torn, corrupt, foreign, newer and older files are refused by name', async () => {
    const a = await newSim();
    await richState(a);
    const good = await snapshotBytes(a);
    const corrupt = good.slice();
    corrupt[good.length - 5] ^= 0x40;
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['torn (cut short)', good.subarray(0, good.length - 100), /torn: the header says/],
      ['torn (header only)', good.subarray(0, 20), /torn: 20 bytes/],
      ['corrupt', corrupt, /checksum/],
      ['foreign', new TextEncoder().encode('{"hello":"world"}'), /foreign/],
      ['empty', new Uint8Array(0), /foreign/],
      [
        'newer',
        reseal(good, SNAPSHOT_FORMAT_VERSION + 1),
        new RegExp(`v${SNAPSHOT_FORMAT_VERSION + 1} is newer than this build`),
      ],
      ['older', reseal(good, 0), /v0 is older than the oldest this build reads \(v1: logical-v1/],
    ];
    for (const [what, bytes, reason] of cases) {
      const dir = tempDir();
      writeFileSync(join(dir, SNAPSHOT_FILE), bytes);
      const r = await new StateStore(dir).load();
      assert.equal(r.kind, 'refused', what);
      if (r.kind !== 'refused') continue;
      assert.match(r.reason, reason, what);
      const files = readdirSync(dir);
      assert.ok(!files.includes(SNAPSHOT_FILE), `${what}: the refused file is moved aside`);
      assert.ok(
        files.some((f) => f.startsWith(`${SNAPSHOT_FILE}.refused-`)),
        what,
      );
    }
  });

  test('a whole file with an invalid payload is refused before anything is built', async () => {
    const a = await newSim();
    await richState(a);
    const payload = encodeService(await captureService(a, a.durable));
    // pid base 0, next pid: set the first process's pid to one outside the range.
    const bad = payload.slice();
    new DataView(bad.buffer).setUint32(4, PID_RANGE + 5, true);
    const dir = tempDir();
    writeFileSync(join(dir, SNAPSHOT_FILE), sealFrame(bad));
    const r = await new StateStore(dir).load();
    assert.equal(r.kind, 'refused');
    assert.match((r as { reason: string }).reason, /next pid \d+ outside the pid range/);
  });

  test('a snapshot of another pid range is refused and adds no process', async () => {
    const a = await newSim(10_000_000);
    await richState(a);
    const b = await newSim(20_000_000);
    await assert.rejects(
      restoreService(
        decodeService(encodeService(await captureService(a, a.durable)), SNAPSHOT_FORMAT_VERSION),
        b.durable,
      ),
      RestoreRefusedError,
    );
    assert.equal((await b.listProcesses(0, 10)).total, 0);
  });
});

describe('state directory', () => {
  test('save writes one whole file (no temp files left) and load reads it back', async () => {
    const a = await newSim();
    await richState(a);
    const dir = tempDir();
    const store = new StateStore(dir);
    assert.equal((await store.load()).kind, 'none');
    const saved = await store.save(a);
    assert.deepEqual(readdirSync(dir), [SNAPSHOT_FILE]);
    assert.equal(saved.bytes, readFileSync(join(dir, SNAPSHOT_FILE)).length);
    assert.equal(saved.processes, (await a.listProcesses(0, 100)).total);
    const loaded = await store.load();
    assert.equal(loaded.kind, 'found');
    if (loaded.kind !== 'found') return;
    const b = await newSim();
    await restoreService(loaded.image, b.durable);
    assert.deepEqual(await observe(b), await observe(a));
  });
});

describe('pid ranges', () => {
  test('a table hands out base+1 … base+2^22-1, wraps, and skips live pids', () => {
    const t = new ProcessTable<never>(4, 30_000_000);
    assert.equal(t.allocPid(), 30_000_001);
    assert.ok(t.owns(30_000_001) && !t.owns(30_000_000) && !t.owns(30_000_000 + PID_RANGE));
    t.nextPid = 30_000_000 + PID_RANGE - 1;
    assert.equal(t.allocPid(), 30_000_000 + PID_RANGE - 1);
    t.add({ pid: 30_000_001 } as never);
    assert.equal(t.allocPid(), 30_000_002, 'wrapped past the top and skipped the live pid 1');
    assert.throws(() => new ProcessTable(4, 2 ** 31), RangeError);
  });

  test('a sim with a pid base creates, forks and lists in its range', async () => {
    const s = await newSim(20_000_000);
    const p = (await s.createProcess({ template: 'bash' })).pid;
    assert.equal(p, 20_000_001);
    assert.equal((await s.forkProcess(p)).pid, 20_000_002);
    await assert.rejects(s.inspectProcess(1), /no process/);
  });
});
