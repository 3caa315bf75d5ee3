/**
 * The global file table under churn (issue 11, finding 4), on both transports: one client's
 * 2 × 32,768 × (shared anonymous mmap + munmap) used to fill the 65,535-entry table for good,
 * so every process then answered ENOMEM to shared anonymous and new-path mmaps. Now entries are
 * reference-counted by their VMAs and reclaimed after an RCU grace period: usage returns to its
 * baseline, forks and exits balance, a snapshot restore rebuilds the same references, and a
 * reader racing reclaim (maps text, PROCMAP_QUERY names) never prints another file's path.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Sim } from '../../src/cpus/sim.js';
import type { FileRef, SyscallCall } from '../../src/cpus/syscall-call.js';
import type { FileTableUsage } from '../../src/mm/file-table.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
} from '../../src/mm/vm-flags.js';
import { captureService, restoreService } from '../../src/state/service-image.js';

const RW = 3;
const R = 1;
const AT = 0x6000_0000_0000;
const sims: Sim[] = [];
after(async () => {
  for (const s of sims) await s.close();
});

async function sim(cpus: number): Promise<Sim> {
  const s = await Sim.start({
    strategy: 'per_vma',
    cpus,
    maxProcesses: 64,
    maxVmasPerProcess: 65530,
    maxBatch: 65536,
    population: 0,
  });
  sims.push(s);
  return s;
}

function usage(s: Sim): FileTableUsage {
  const u = s.gauges().fileTable;
  assert.ok(u !== undefined, 'the sim reports file table usage');
  return u;
}

const sharedAnon = (addr: number): SyscallCall => ({
  op: 'mmap',
  addr,
  length: 0x1000,
  prot: RW,
  flags: MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
  offset: 0,
  file: null,
});
const fileAt = (addr: number, f: FileRef, offset: number): SyscallCall => ({
  op: 'mmap',
  addr,
  length: 0x1000,
  prot: R,
  flags: MAP_PRIVATE | MAP_FIXED,
  offset,
  file: f,
});
const unmap = (addr: number): SyscallCall => ({ op: 'munmap', addr, length: 0x1000 });
const lib = (name: string, inode = 0): FileRef => ({
  path: `/opt/churn/${name}`,
  devMajor: 0,
  devMinor: 0,
  inode,
  writable: false,
});

/** Lives while a grace period is pending: reclaim happens at the next allocation or reclaim. */
function settled(s: Sim): FileTableUsage {
  return { ...usage(s), retired: 0 };
}

for (const cpus of [0, 1]) {
  describe(`file table churn (--cpus ${cpus})`, () => {
    test('2 × 32,768 shared anonymous mmap + munmap leave the table as it was', async () => {
      const s = await sim(cpus);
      const churner = (await s.createProcess({ template: 'minimal' })).pid;
      const other = (await s.createProcess({ template: 'bash' })).pid;
      const base = usage(s);
      const batch: SyscallCall[] = [];
      for (let i = 0; i < 32_768; i++) batch.push(sharedAnon(AT), unmap(AT));
      for (let round = 0; round < 2; round++) {
        const results = await s.syscalls(churner, batch);
        const failed = results.findIndex((r) => typeof r !== 'number');
        assert.equal(failed, -1, `call ${failed} of round ${round}: ${String(results[failed])}`);
      }
      assert.equal(usage(s).live, base.live, 'every shmem entry went with its munmap');
      assert.ok(usage(s).retired <= 512, `retired entries are reclaimed: ${usage(s).retired}`);
      // Every process can still map shared anonymous memory and new paths.
      const r = await s.syscalls(other, [
        sharedAnon(AT),
        fileAt(AT + 0x10000, lib('fresh.so', 7), 0),
      ]);
      assert.deepEqual(r, [AT, AT + 0x10000]);
      await s.syscalls(other, [unmap(AT), unmap(AT + 0x10000)]);
      assert.equal(usage(s).live, base.live);
    });

    test('fork and exit balance the references; a restore rebuilds them', async () => {
      const s = await sim(cpus);
      const base = settled(s);
      const parent = (await s.createProcess({ template: 'node' })).pid;
      await s.syscalls(parent, [sharedAnon(AT), fileAt(AT + 0x10000, lib('p.so', 1), 0)]);
      const withParent = settled(s);
      assert.ok(withParent.live > base.live);
      const children: number[] = [];
      for (let i = 0; i < 20; i++) children.push((await s.forkProcess(parent)).pid);
      assert.equal(settled(s).live, withParent.live, 'a fork shares the entries');
      for (const c of children) await s.exitProcess(c);
      assert.equal(settled(s).live, withParent.live);
      // Snapshot and restore into a fresh sim: the same number of live entries, and exiting
      // the restored process returns that table to its own baseline.
      const image = await captureService(s, s.durable);
      const t = await sim(cpus);
      const tBase = settled(t);
      await restoreService(image, t.durable);
      assert.equal(settled(t).live - tBase.live, withParent.live - base.live);
      await t.exitProcess(parent);
      assert.equal(settled(t).live, tBase.live, 'restored references balance on exit');
      await s.exitProcess(parent);
      assert.equal(settled(s).live, base.live);
    });

    test('readers racing reclaim never print another file’s path', async () => {
      const s = await sim(cpus);
      const pid = (await s.createProcess({ template: 'minimal' })).pid;
      // Same length, device and inode: after reclaim, b's entry takes a's slot and heap block,
      // so only the serial tells them apart (a per-file cache keyed on offsets would print a).
      const a = lib('aaaa.so');
      const b = lib('bbbb.so');
      // Each MAP_FIXED replaces (unmaps) the previous mapping: its file's last reference goes.
      // Three calls, so the event loop's batches of 32 stop at every one of them in turn.
      const loop: SyscallCall[] = [fileAt(AT, a, 0x1000), fileAt(AT, b, 0x2000), sharedAnon(AT)];
      await s.setActivity(pid, { kind: 'loop', loop, ratePerS: null });
      const expect: Record<string, string> = {
        '00001000': a.path,
        '00002000': b.path,
        '00000000': '/dev/zero (deleted)',
      };
      const seen = new Set<string>();
      // Enough reads for reclaim to run many times over (every few hundred retirements).
      for (let i = 0; i < 1500; i++) {
        let text = '';
        for await (const c of await s.readMaps(pid, { chunk: 0 })) text += Buffer.from(c);
        for (const line of text.split('\n')) {
          if (!line.startsWith(AT.toString(16))) continue;
          const f = line.split(/ +/);
          const name = line.slice(73);
          assert.equal(name, expect[f[2]], `line ${JSON.stringify(line)}`);
          seen.add(f[2]);
        }
        const [q] = await s.query(pid, {}, [
          { addr: AT, flags: PROCMAP_QUERY_COVERING_OR_NEXT_VMA, name: true, buildId: false },
        ]);
        if (!(q instanceof Error) && q.vmaStart === AT) {
          const off = q.vmaOffset.toString(16).padStart(8, '0');
          const name = off === '00000000' ? '/dev/zero (deleted)' : q.vmaName;
          assert.equal(name, expect[off], `query ${JSON.stringify(q)}`);
        }
        if (cpus === 0) await tick(); // the event loop runs the activity between reads
      }
      await s.stopActivity(pid);
      assert.equal(seen.size, 3, `every mapping was seen: ${[...seen]}`);
      assert.ok((await s.getActivity(pid)) === null);
    });
  });
}
