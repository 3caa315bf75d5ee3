/**
 * A maps read on the event loop whose lines all stand is answered with the memo's text itself
 * (the chunks lent, `ByteSink.lend`; the reply a view pinned until it is written,
 * `ReadPieces.release`): no copy into the read's buffer or the slab. What must hold: every reply
 * is the file as the direct walker prints it at that moment; a reply still held is never changed
 * by later reads (the memo copies its text before writing it while a reply keeps it); chunks
 * whose lines are not a run, and reads longer than a turn, are copied as before. Checked on a
 * known change and on random syscalls between reads (every strategy, chunk sizes at which the
 * gate line starts a chunk or ends one exactly), replies held or released at random.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ReadPieces } from '../../src/cpus/read-pieces.js';
import { Sim } from '../../src/cpus/sim.js';
import type { SyscallCall } from '../../src/cpus/sim-api.js';
import { STRATEGIES, type StrategyName } from '../../src/metrics/labels.js';
import type { MmStruct } from '../../src/mm/mm-struct.js';
import { GATE_LINE } from '../../src/procfs/maps-line.js';
import { testConfig } from '../http/helpers.js';
import { directText } from '../procfs/strategies/helpers.js';

const PAGE = 4096;

async function startSim(): Promise<Sim> {
  // A worker CPU: its reads run on the event loop a turn of 64 KiB at a time (--cpus 0 yields
  // after every chunk, so its reads are never whole in one turn and never lent).
  return Sim.start({ ...testConfig(), cpus: 1, population: 0 });
}

function mmOf(sim: Sim, pid: number): MmStruct {
  const mm = sim.durable.processes().find((p) => p.pid === pid)?.mm;
  assert.ok(mm);
  return mm;
}

/** A read that ended in its turn (every read here is well under 64 KiB). */
function whole(sim: Sim, pid: number, strategy: StrategyName, chunk: number): ReadPieces {
  const r = sim.readMaps(pid, { strategy, chunk });
  assert.ok(r instanceof ReadPieces, 'read whole within its turn');
  return r;
}

function text(r: ReadPieces): string {
  return Buffer.concat(r.pieces).toString('latin1');
}

async function ok(sim: Sim, pid: number, calls: SyscallCall[]): Promise<void> {
  for (const r of await sim.syscalls(pid, calls)) assert.equal(typeof r, 'number', String(r));
}

test('an unchanged read is the memo text; a change copies the text a held reply keeps', async () => {
  const sim = await startSim();
  try {
    const { pid } = await sim.createProcess({ template: 'node', comm: 'lend' });
    const mm = mmOf(sim, pid);
    whole(sim, pid, 'per_vma', 4096).release(); // fills the reader's memo
    const held = whole(sim, pid, 'per_vma', 4096);
    const heldText = text(held);
    assert.equal(heldText, directText(mm));
    assert.ok(held.isLent, 'an unchanged read is lent');
    assert.equal(held.pieces.length, 1);
    // A VMA in the middle of the file goes, another comes: the memo drops and adds entries.
    const at = Number.parseInt(heldText.split('\n')[20].split('-')[0], 16);
    await ok(sim, pid, [{ op: 'munmap', addr: at, length: PAGE }]);
    const after = whole(sim, pid, 'per_vma', 4096);
    assert.equal(text(after), directText(mm));
    assert.notEqual(text(after), heldText);
    assert.equal(text(held), heldText, 'the held reply is unchanged');
    after.release();
    held.release();
    // Released and unchanged since: lent again, and the memo's text is written in place again.
    const again = whole(sim, pid, 'per_vma', 4096);
    assert.ok(again.isLent);
    assert.equal(text(again), directText(mm));
    again.release();
    // The gate line alone in the last chunk (every other line fits the first): it is copied from
    // after the memo's last line, so the read is still one run.
    const gateAlone = directText(mm).length - GATE_LINE.length + 1;
    const split = whole(sim, pid, 'per_vma', gateAlone);
    assert.equal(text(split), directText(mm, gateAlone));
    assert.ok(split.isLent, 'the gate line continues the run');
    split.release();
  } finally {
    await sim.close();
  }
});

/** A random change inside a window of the address space (errors are fine: nothing changes). */
function callArb(base: number): fc.Arbitrary<SyscallCall> {
  const page = fc.integer({ min: 0, max: 47 });
  const pages = fc.integer({ min: 1, max: 6 });
  const prot = fc.constantFrom(0, 1, 3, 5);
  return fc.oneof(
    fc.record({ p: page, n: pages, prot }).map(({ p, n, prot: pr }) => ({
      op: 'mmap' as const,
      addr: base + p * PAGE,
      length: n * PAGE,
      prot: pr,
      flags: 0x22 | 0x100000, // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
      offset: 0,
      file: null,
    })),
    fc.record({ p: page, n: pages }).map(({ p, n }) => ({
      op: 'munmap' as const,
      addr: base + p * PAGE,
      length: n * PAGE,
    })),
    fc.record({ p: page, n: pages, prot }).map(({ p, n, prot: pr }) => ({
      op: 'mprotect' as const,
      addr: base + p * PAGE,
      length: n * PAGE,
      prot: pr,
    })),
  );
}

test('random changes between reads: every reply is the file then, and held replies never change', async () => {
  const sim = await startSim();
  try {
    const { pid } = await sim.createProcess({ template: 'bash', comm: 'lend' });
    const mm = mmOf(sim, pid);
    const base = 0x7e0000000000;
    // The bash layout's text is a few KB: 1024 and 3000 end chunks inside it; 0 is one chunk.
    // 'gate': a chunk size at which the gate line does not fit after the others (it starts the
    // next chunk, the line before it ending its chunk at most `gap` bytes short of the size).
    const round = fc.record({
      strategy: fc.constantFrom(...STRATEGIES),
      chunk: fc.constantFrom(0, 1024, 3000, 4096, 'gate' as const),
      gap: fc.integer({ min: 0, max: GATE_LINE.length - 1 }),
      calls: fc.array(callArb(base), { maxLength: 4 }),
      keep: fc.boolean(),
    });
    let lent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(round, { minLength: 3, maxLength: 10 }), async (rounds) => {
        const held: Array<{ r: ReadPieces; want: string }> = [];
        for (const { strategy, chunk: size, gap, calls, keep } of rounds) {
          await sim.syscalls(pid, calls);
          const chunk = size === 'gate' ? directText(mm).length - GATE_LINE.length + 1 + gap : size;
          const r = whole(sim, pid, strategy, chunk);
          const want = directText(mm, chunk);
          assert.equal(text(r), want, `${strategy}, chunk ${chunk}`);
          if (r.isLent) lent++;
          // Released at once (its text may be written in place from now on), or held.
          if (keep) held.push({ r, want });
          else r.release();
        }
        for (const [i, { r, want }] of held.entries()) {
          assert.equal(text(r), want, `held reply ${i}`);
          r.release();
        }
      }),
      { numRuns: 60, seed: 0x1e7d },
    );
    assert.ok(lent > 0, 'some replies were lent');
  } finally {
    await sim.close();
  }
});
