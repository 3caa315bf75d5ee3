/**
 * A hostile client against shared tables smaller than the memory budget (issue 11: "a client
 * cannot exhaust a shared table for others"). The anon-name table held 1 Mi names and the path
 * heap 1.75 GiB whatever --max-memory: under a budget larger than that (the 12 GB default), one
 * client filled a table for ~300 MB (names) or 1.75 GiB (paths) and every other process's prctl or
 * new-path mmap answered ENOMEM while the budget had room. Now every entry is charged at least
 * budget / capacity (src/mm/table-charge.ts), so the client runs the budget out first. Checked
 * here with tables made small (`tableSizes`, the same rule as at 12 GB against 44.7 M names,
 * without filling them): the hostile client's ENOMEM comes from the budget (spent to within one
 * charge, refusals counted) with the table not full; the charge shows in the metrics; after it
 * exits, its entries serve the victim without a new charge. On both transports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sim, type SimOptions } from '../../src/cpus/sim.js';
import { hex, mmapFile, tableHarness } from './table-client.js';

const PAGE = 4096;
const MAX_MEMORY = 16 << 20;
/** 1,024 names under 16 MiB: ~16 KB charged a name (96 B without the rule). */
const NAME_SLOTS = 1024;
/** A 2 MiB path heap under 16 MiB: ~8 B charged a path byte (1 without the rule). */
const HEAP_BYTES = 2 << 20;
const LONG = 'L'.repeat(3_980);

function harness(cpus: number, tableSizes: SimOptions['tableSizes']) {
  const base = tableHarness(
    () =>
      Sim.start({
        strategy: 'per_vma',
        maxProcesses: 16,
        maxVmasPerProcess: 65_530,
        cpus,
        maxBatch: 4096,
        population: 0,
        maxMemory: MAX_MEMORY,
        tableSizes,
      }),
    4096,
    500,
  );
  const h = Object.assign(base, {
    async remove(pid: number): Promise<void> {
      const r = await base.app.inject({ method: 'DELETE', url: `/processes/${pid}` });
      assert.equal(r.statusCode, 204);
    },
  });
  return h;
}

const anonRegion = (addr: number, pages: number) => ({
  op: 'mmap',
  addr: hex(addr),
  length: hex(pages * PAGE),
  prot: 'rw-',
  flags: ['private', 'anonymous', 'fixed'],
});
const nameAt = (addr: number, name: string) => ({
  op: 'anon_name',
  addr: hex(addr),
  length: hex(PAGE),
  name,
});

/** Asserts the first error is the budget's: ENOMEM with the budget spent to within `slack`. */
async function assertBudgetFirst(
  h: ReturnType<typeof harness>,
  errors: Array<string | undefined>,
  refusedBefore: number,
  slack: number,
): Promise<number> {
  const ok = errors.findIndex((e) => e !== undefined);
  assert.ok(ok > 0, 'the hostile client was refused at some point');
  assert.equal(errors[ok], 'ENOMEM');
  const m = await h.memory();
  assert.ok(m.refused > refusedBefore, 'refused by the budget (counted)');
  assert.ok(m.used_bytes <= m.limit_bytes, `${m.used_bytes} > ${m.limit_bytes}`);
  assert.ok(
    m.used_bytes > m.limit_bytes - slack,
    `ENOMEM with ${m.limit_bytes - m.used_bytes} bytes of budget left: a table ran out first`,
  );
  return ok;
}

describe('shared tables smaller than the budget, a hostile client', () => {
  for (const cpus of [0, 1]) {
    describe(`cpus ${cpus}`, () => {
      describe('anon names: 1,024 slots under 16 MiB', () => {
        const h = harness(cpus, { anonNameSlots: NAME_SLOTS });
        before(() => h.start());
        after(() => h.stop());

        test('distinct names run the budget out before the table; freed slots serve the victim', async () => {
          const victim = await h.create();
          const hostile = await h.create();
          const base = 0x1000_0000_0000;
          assert.deepEqual(await h.run(victim, [anonRegion(base, 4)]), [undefined]);
          const refused = (await h.memory()).refused;
          // A distinct name on every other page of one region: each a VMA and a name slot.
          const pages = 2 * NAME_SLOTS + 2;
          const calls: object[] = [anonRegion(base, pages)];
          for (let i = 0; i < NAME_SLOTS + 1; i++) calls.push(nameAt(base + 2 * i * PAGE, `h${i}`));
          const errors = await h.run(hostile, calls);
          assert.equal(errors[0], undefined, 'the region is mapped');
          // The slot charge (~16 KB: 5 pages) and a VMA page are the largest refused charges.
          const named = (await assertBudgetFirst(h, errors, refused, 8 * PAGE)) - 1;
          const live = await h.metric('procfs_anon_names{state="live"}');
          const capacity = await h.metric('procfs_anon_names{state="capacity"}');
          assert.equal(live, named, 'every name the client set is live');
          assert.equal(capacity, NAME_SLOTS);
          assert.ok(live < capacity, `${live} names: the table was not full`);
          const charged = await h.metric('procfs_anon_names_charged_bytes');
          assert.ok(charged >= live * (MAX_MEMORY / NAME_SLOTS), `${charged} for ${live} names`);

          // Once the hostile process is gone, its slots serve the victim with no new charge.
          await h.remove(hostile);
          assert.equal(await h.metric('procfs_anon_names{state="live"}'), 0);
          const mine = [0, 2].map((p, i) => nameAt(base + p * PAGE, `victim${i}`));
          assert.deepEqual(await h.run(victim, mine), [undefined, undefined]);
          assert.equal(await h.metric('procfs_anon_names_charged_bytes'), charged);
          const maps = (await h.app.inject({ method: 'GET', url: `/proc/${victim}/maps` })).body;
          assert.match(maps, /\[anon:victim0\]\n/);
          assert.match(maps, /\[anon:victim1\]\n/);
        });
      });

      describe('path heap: 2 MiB under 16 MiB', () => {
        const h = harness(cpus, { fileHeapBytes: HEAP_BYTES });
        before(() => h.start());
        after(() => h.stop());

        test('long distinct paths run the budget out before the heap; freed blocks serve the victim', async () => {
          const victim = await h.create();
          const hostile = await h.create();
          const refused = (await h.memory()).refused;
          // 4 KB paths: the heap holds ~510 (2 MiB); ~33 KB of budget each.
          const calls = Array.from({ length: 600 }, (_, i) =>
            mmapFile(0x1000_0000_0000 + i * 0x2000, `/hostile/${LONG}/${i}`, i + 1),
          );
          const errors = await h.run(hostile, calls, 100);
          // A path's charge (~33 KB: 9 pages) is the largest refused charge.
          const mapped = await assertBudgetFirst(h, errors, refused, 10 * PAGE);
          const used = await h.metric('procfs_file_table_heap_used_bytes');
          assert.ok(used < HEAP_BYTES - PAGE, `${used} heap bytes: the heap was not full`);
          const charged = await h.metric('procfs_file_table_charged_bytes');
          assert.ok(charged >= mapped * 4096 * 7, `${charged} for ${mapped} paths`);

          await h.remove(hostile);
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
