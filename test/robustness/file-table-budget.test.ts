/**
 * A hostile client and the global file table (issue 11: no client can exhaust a shared table for
 * others). Every distinct file mapped at once is an entry of one table shared by all processes,
 * its path a block of one heap. The table used to hold 65,535 entries and 8 MiB of paths whatever
 * the memory budget: one client mapping that many distinct (or ~2,048 long) paths left every other
 * process answering ENOMEM to new-path and shared anonymous mmaps. Now the table is reserved for
 * what --max-memory could pay for and charged as used, so a client meets the budget (ENOMEM,
 * counted, nothing changed), not the table; its freed entries are reused by the others. On both
 * transports (worker CPUs intern files on their own views of the table).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import { hex, mmapFile, tableHarness } from './table-client.js';

/** Distinct files the hostile client maps at once: more than the old table held (65,535). */
const SHORT_FILES = 70_000;
/** 4,000-byte paths (a 4 KiB heap block each): 12 MiB, more than the old heap (8 MiB). */
const LONG_FILES = 3_000;
const LONG = 'L'.repeat(3_980);
const BATCH = 10_000;

function harness(cpus: number, maxMemory: number) {
  const opts = { strategy: 'per_vma' as const, maxProcesses: 16, maxVmasPerProcess: 65_530 };
  const base = tableHarness(
    () => Sim.start({ ...opts, cpus, maxBatch: BATCH, population: 0, maxMemory }),
    BATCH,
  );
  const h = Object.assign(base, {
    async vmas(pid: number): Promise<number> {
      return (await base.app.inject({ method: 'GET', url: `/processes/${pid}` })).json().vmas;
    },
  });
  return h;
}

describe('global file table under a hostile client', () => {
  for (const cpus of [0, 1]) {
    describe(`cpus ${cpus}`, () => {
      describe('a budget with room (64 MiB)', () => {
        const h = harness(cpus, 64 << 20);
        before(() => h.start());
        after(() => h.stop());

        test('one client maps more distinct and long paths than the old table held; the others still map new paths', async () => {
          const victim = await h.create();
          const a = await h.create();
          const b = await h.create();
          const shortA = Array.from({ length: 60_000 }, (_, i) =>
            mmapFile(0x1000_0000_0000 + i * 0x2000, `/hostile/a/${i}`, i + 1),
          );
          const shortB = Array.from({ length: SHORT_FILES - 60_000 }, (_, i) =>
            mmapFile(0x1000_0000_0000 + i * 0x2000, `/hostile/b/${i}`, i + 1),
          );
          const long = Array.from({ length: LONG_FILES }, (_, i) =>
            mmapFile(0x2000_0000_0000 + i * 0x2000, `/hostile/${LONG}/${i}`, i + 1),
          );
          for (const [pid, calls, batch] of [
            [a, shortA, BATCH],
            [b, shortB, BATCH],
            [b, long, 500], // ~4 KB a call: within the batch body limit (256 B a call)
          ] as const) {
            const errors = await h.run(pid, calls, batch);
            const bad = errors.findIndex((e) => e !== undefined);
            assert.equal(bad, -1, `mmap ${bad} of ${calls.length}: ${errors[bad]}`);
          }
          const live = await h.metric('procfs_file_table_entries{state="live"}');
          assert.ok(live > 65_535 + LONG_FILES, `${live} files mapped at once`);
          assert.ok(
            (await h.metric('procfs_file_table_heap_used_bytes')) > 8 << 20,
            'more path bytes than the old heap held',
          );
          // The table's pages are charged to the budget, and the budget holds.
          const charged = await h.metric('procfs_file_table_charged_bytes');
          assert.ok(charged >= live * 64, `${charged} bytes charged for ${live} entries`);
          const m = await h.memory();
          assert.ok(m.used_bytes >= charged && m.used_bytes <= m.limit_bytes);

          // The victim still maps a new file and a shared anonymous region (a shmem file).
          const errors = await h.run(victim, [
            mmapFile(0x3000_0000_0000, '/victim/new.so', 7),
            {
              op: 'mmap',
              addr: hex(0x3000_1000_0000),
              length: '0x1000',
              prot: 'rw-',
              flags: ['shared', 'anonymous', 'fixed'],
            },
          ]);
          assert.deepEqual(errors, [undefined, undefined]);
          const maps = (await h.app.inject({ method: 'GET', url: `/proc/${victim}/maps` })).body;
          assert.match(maps, /\/victim\/new\.so\n/);
          assert.match(maps, /\/dev\/zero \(deleted\)\n/);
        });
      });

      describe('a small budget (2 MiB)', () => {
        const h = harness(cpus, 2 << 20);
        before(() => h.start());
        after(() => h.stop());

        test('long paths past the budget answer ENOMEM and change nothing; freed entries are reused', async () => {
          const victim = await h.create();
          const hostile = await h.create();
          const before = await h.vmas(hostile);
          const calls = Array.from({ length: 1000 }, (_, i) =>
            mmapFile(0x1000_0000_0000 + i * 0x2000, `/hostile/${LONG}/${i}`, i + 1),
          );
          const errors = await h.run(hostile, calls, 100);
          const ok = errors.filter((e) => e === undefined).length;
          const firstBad = errors.findIndex((e) => e !== undefined);
          assert.ok(firstBad > 0, 'the budget refused some');
          assert.equal(errors[firstBad], 'ENOMEM');
          assert.ok(ok >= 100 && ok < 512, `${ok} long paths in 2 MiB`);
          assert.equal(await h.vmas(hostile), before + ok, 'each refused mmap added no VMA');
          const m = await h.memory();
          assert.ok(m.used_bytes <= m.limit_bytes, `${m.used_bytes} > ${m.limit_bytes}`);
          assert.ok(m.refused >= 1);
          // The path heap is what the client spent the budget on (a page per long path).
          const charged = await h.metric('procfs_file_table_charged_bytes');
          assert.ok(charged >= ok * 4096, `${charged} bytes charged for ${ok} long paths`);

          // Once the hostile process is gone, its entries and blocks serve the others, uncharged.
          const del = await h.app.inject({ method: 'DELETE', url: `/processes/${hostile}` });
          assert.equal(del.statusCode, 204);
          const mine = Array.from({ length: 50 }, (_, i) =>
            mmapFile(0x3000_0000_0000 + i * 0x2000, `/victim/${LONG}/${i}`, i + 1),
          );
          assert.deepEqual(await h.run(victim, mine), Array(50).fill(undefined));
          assert.equal(await h.metric('procfs_file_table_charged_bytes'), charged);
        });
      });
    });
  }
});
