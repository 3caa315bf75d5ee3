/**
 * How full the VMA index's nodes stay (issue 11: bytes per hosted VMA). A B+tree that splits an
 * overflowing leaf in halves leaves every leaf a run of sequential inserts has passed half full
 * for good; the index splits at the insert for ascending runs and prepends descending runs
 * (top-down mmaps, each below the one before) to the leaf of the previous insert. Correctness of
 * those paths against the sorted-array model is checked here too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { committedBytes, NODE_FANOUT, PAGE_BYTES } from '../../src/mm/arena-layout.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { mmap } from '../../src/mm/syscalls/index.js';
import { buildTemplate } from '../../src/mm/templates/index.js';
import { RangeModel } from './range-model.js';

const globals = MmGlobals.create({ maxFiles: 256, fileHeapBytes: 1 << 16, anonNameSlots: 16 });
const P = 4096;
const MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

/** Reachable nodes a tree of `entries` needs at least (full leaves, full internal nodes). */
function minimumNodes(entries: number): number {
  let n = 0;
  for (let level = Math.ceil(entries / NODE_FANOUT); ; level = Math.ceil(level / NODE_FANOUT)) {
    n += level;
    if (level === 1) return n;
  }
}

/** `count` one-page entries with one-page gaps, in ascending or descending order. */
function sequentialStores(mm: MmStruct, count: number, descending: boolean): void {
  for (let i = 0; i < count; i++) {
    const k = descending ? count - 1 - i : i;
    mm.index.store((1000 + 2 * k) * P, (1001 + 2 * k) * P, k + 1);
  }
}

describe('VMA index node fill', () => {
  for (const descending of [false, true]) {
    it(`keeps leaves full under ${descending ? 'descending' : 'ascending'} inserts`, () => {
      const mm = MmStruct.create({ maxVmas: 8192, globals });
      sequentialStores(mm, 2000, descending);
      const nodes = mm.index.check();
      assert.equal(mm.index.count, 2000);
      // Half-full leaves took ~2x the minimum (331 nodes for 2,000 descending entries).
      assert.ok(
        nodes <= minimumNodes(2000) * 1.25,
        `${nodes} nodes, minimum ${minimumNodes(2000)}`,
      );
    });
  }

  it('keeps leaves full under top-down mmaps below a real layout', () => {
    const mm = buildTemplate('node', { globals, seed: 3 });
    for (let i = 0; i < 2000; i++) {
      const r = mmap(mm, 0, P * (1 + (i % 3)), i % 2 === 0 ? 1 : 3, MAP_PRIVATE_ANONYMOUS);
      assert.ok(r > 0, `mmap ${i}: ${r}`);
    }
    const nodes = mm.index.check();
    const vmas = mm.index.count;
    assert.ok(vmas > 2000);
    assert.ok(nodes <= minimumNodes(vmas) * 1.3, `${nodes} nodes for ${vmas} VMAs`);
  });

  it('hosts a 100-VMA process in 4 arena pages', () => {
    const mm = buildTemplate('node', { globals, seed: 5 });
    while (mm.mapCount < 100) {
      const i = mm.mapCount;
      assert.ok(mmap(mm, 0, P * (1 + (i % 3)), i % 2 === 0 ? 1 : 3, MAP_PRIVATE_ANONYMOUS) > 0);
    }
    mm.reclaim();
    assert.equal(committedBytes(mm.views, mm.geometry), 4 * PAGE_BYTES);
    assert.equal(mm.commit.chargedBytes, 4 * PAGE_BYTES);
  });

  it('agrees with the model under runs of sequential inserts mixed with random stores and erases', () => {
    type Step =
      | { kind: 'run'; from: number; count: number; stride: number; len: number; down: boolean }
      | { kind: 'store' | 'erase'; lo: number; len: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant<'run'>('run'),
        from: fc.integer({ min: 0, max: 4000 }),
        count: fc.integer({ min: 1, max: 60 }),
        stride: fc.integer({ min: 1, max: 4 }),
        len: fc.integer({ min: 1, max: 4 }),
        down: fc.boolean(),
      }),
      fc.record({
        kind: fc.constantFrom<'store' | 'erase'>('store', 'erase'),
        lo: fc.integer({ min: 0, max: 4000 }),
        len: fc.integer({ min: 1, max: 80 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps: Step[]) => {
        const mm = MmStruct.create({ maxVmas: 16384, globals });
        const model = new RangeModel();
        let id = 1;
        const store = (lo: number, hi: number) => {
          mm.index.store(lo * P, hi * P, id);
          model.store(lo * P, hi * P, id);
          id++;
        };
        for (const s of steps) {
          if (s.kind === 'run') {
            for (let i = 0; i < s.count; i++) {
              const lo = s.down ? s.from - i * s.stride : s.from + i * s.stride;
              if (lo >= 0) store(lo, lo + Math.min(s.len, s.stride));
            }
          } else if (s.kind === 'store') {
            store(s.lo, s.lo + s.len);
          } else {
            mm.index.erase(s.lo * P, (s.lo + s.len) * P);
            model.erase(s.lo * P, (s.lo + s.len) * P);
          }
        }
        mm.index.check();
        assert.deepEqual(mm.index.entries(), model.entries);
        for (let a = 0; a < 4200 * P; a += 37 * P) {
          assert.equal(mm.index.findNext(a), model.findNext(a));
          assert.equal(mm.index.findPrev(a), model.findPrev(a));
        }
      }),
      { numRuns: 60 },
    );
  });
});
