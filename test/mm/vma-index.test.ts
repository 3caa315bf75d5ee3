import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { GracePeriods } from '../../src/mm/deferred-free.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { IndexFullError } from '../../src/mm/vma-index.js';
import { type Entry, RangeModel } from './range-model.js';

const globals = MmGlobals.create({ maxFiles: 16, fileHeapBytes: 4096, anonNameSlots: 16 });
const P = 4096;

function newMm(maxVmas = 4096, grace?: GracePeriods): MmStruct {
  return MmStruct.create({ maxVmas, globals, ...(grace ? { grace } : {}) });
}

describe('VmaIndex basics', () => {
  it('stores, finds next/prev/lookup and iterates in order', () => {
    const mm = newMm();
    const ix = mm.index;
    ix.store(10 * P, 20 * P, 1);
    ix.store(30 * P, 40 * P, 2);
    ix.store(0, 5 * P, 3);
    assert.equal(ix.count, 3);
    assert.equal(ix.findNext(0), 3);
    assert.equal(ix.findNext(5 * P), 1); // end is exclusive
    assert.equal(ix.findNext(20 * P - 1), 1);
    assert.equal(ix.findNext(20 * P), 2);
    assert.equal(ix.findNext(40 * P), 0);
    assert.equal(ix.findPrev(10 * P), 3);
    assert.equal(ix.findPrev(10 * P + 1), 1);
    assert.equal(ix.findPrev(0), 0);
    assert.equal(ix.lookup(25 * P), 0);
    assert.equal(ix.lookup(30 * P), 2);
    assert.deepEqual(ix.entries(), [
      [0, 5 * P, 3],
      [10 * P, 20 * P, 1],
      [30 * P, 40 * P, 2],
    ]);
    ix.check();
  });

  it('store over the middle of an entry keeps both remainders (mas_store)', () => {
    const mm = newMm();
    mm.index.store(0, 10 * P, 7);
    mm.index.store(4 * P, 6 * P, 8);
    assert.deepEqual(mm.index.entries(), [
      [0, 4 * P, 7],
      [4 * P, 6 * P, 8],
      [6 * P, 10 * P, 7],
    ]);
    mm.index.erase(2 * P, 8 * P);
    assert.deepEqual(mm.index.entries(), [
      [0, 2 * P, 7],
      [8 * P, 10 * P, 7],
    ]);
    assert.equal(mm.index.count, 2);
  });

  it('grows to several levels and shrinks back to empty without leaking nodes', () => {
    const mm = newMm(8192);
    const base = mm.index.nodesInUse;
    const n = 5000;
    for (let i = 0; i < n; i++) mm.index.store(i * 2 * P, (i * 2 + 1) * P, i + 1);
    const nodes = mm.index.check();
    assert.equal(mm.index.count, n);
    assert.ok(nodes > n / 16, `at least one leaf per 16 entries (${nodes})`);
    // Erase in a scattered order, then the rest in one range.
    for (let i = 0; i < n; i += 3) mm.index.erase(i * 2 * P, (i * 2 + 1) * P);
    mm.index.check();
    mm.index.erase(0, 2 * n * P);
    assert.equal(mm.index.count, 0);
    assert.equal(mm.index.root(), 0);
    mm.reclaim();
    assert.equal(mm.index.nodesInUse, base);
  });

  it('a cursor sought anywhere walks every later entry once, across leaves and levels', () => {
    // The cursor keeps its leaf (offsets, count, position) in fields and climbs only at a leaf's
    // end: a stale count or position there skips or repeats entries at leaf boundaries.
    const mm = newMm(8192);
    const n = 700; // three levels at fan-out 14
    for (let i = 0; i < n; i++) mm.index.store(i * 3 * P, (i * 3 + 2) * P, i + 1);
    // Holes of different widths, so that leaves hold different counts.
    for (let i = 5; i < n; i += 7) mm.index.erase(i * 3 * P, (i * 3 + 2) * P);
    mm.index.check();
    const all = mm.index.entries();
    const c = mm.index.cursor();
    for (let k = 0; k < all.length; k += 1) {
      const from = k % 2 === 0 ? all[k][0] : all[k][0] - 1; // inside an entry or in the gap before
      const seen: [number, number, number][] = [];
      for (let ok = c.seek(from); ok; ok = c.next()) seen.push([c.start, c.end, c.id]);
      assert.deepEqual(seen, all.slice(k), `sought at ${from}`);
      assert.equal(c.next(), false, 'stays at the end');
    }
    assert.equal(c.seek(all[all.length - 1][1]), false);
    assert.equal(c.next(), false);
  });

  it('leaves the tree unchanged and frees its scratch when nodes run out', () => {
    const mm = newMm(64); // 1056 node slots
    let i = 0;
    assert.throws(() => {
      for (;;) {
        mm.index.store(i * 2 * P, (i * 2 + 1) * P, (i % 1000) + 1);
        i++;
      }
    }, IndexFullError);
    const before = mm.index.entries();
    const inUse = mm.index.nodesInUse;
    assert.throws(() => mm.index.store(i * 2 * P, (i * 2 + 1) * P, 1), IndexFullError);
    assert.deepEqual(mm.index.entries(), before);
    assert.equal(mm.index.nodesInUse, inUse);
    mm.index.check();
  });
});

describe('VmaIndex exhaustion while retired nodes wait for grace', () => {
  /** Grace that is never over until synchronize() is called (a reader stalled in its section). */
  function stalledGrace(withSynchronize: boolean): GracePeriods & { syncs: number } {
    let over = false;
    const g = {
      syncs: 0,
      retireStamp: () => 1,
      isGraceOver: () => over,
      synchronize: () => {
        g.syncs++;
        over = true;
      },
    };
    if (!withSynchronize) return { ...g, synchronize: undefined } as unknown as typeof g;
    return g;
  }

  function fillWithRetired(mm: MmStruct): number {
    // Rewrite one entry until retired nodes use up the node arena.
    let k = 0;
    try {
      for (;;) mm.index.store(0, P, ++k);
    } catch (e) {
      assert.ok(e instanceof IndexFullError);
    }
    return k;
  }

  it('waits for a grace period, reclaims and retries when the RCU can synchronize', () => {
    const grace = stalledGrace(true);
    const mm = newMm(64, grace);
    mm.index.store(0, P, 1);
    for (let k = 2; k < 5000; k++) mm.index.store(0, P, k); // 5000 > node capacity (1056)
    assert.ok(grace.syncs >= 1);
    assert.deepEqual(mm.index.entries(), [[0, P, 4999]]);
    assert.equal(mm.deferred.synchronizeCalls, grace.syncs);
  });

  it('fails with IndexFullError, changing nothing, when it cannot wait', () => {
    const mm = newMm(64, stalledGrace(false));
    const k = fillWithRetired(mm);
    assert.ok(k > 100);
    assert.deepEqual(mm.index.entries(), [[0, P, k - 1]]);
  });

  it('lets allocVma wait for retired records too', () => {
    const grace = stalledGrace(true);
    const mm = newMm(4, grace); // 72 record slots
    for (let k = 0; k < 500; k++) {
      const id = mm.allocVma();
      assert.ok(id > 0, `allocation ${k} failed`);
      mm.retireVma(id);
    }
    assert.ok(grace.syncs >= 1);
  });
});

describe('VmaIndex against a sorted-array model (fast-check)', () => {
  type Op = { kind: 'store' | 'erase' | 'storeErase'; lo: number; len: number; id: number };
  const op = fc.record({
    kind: fc.constantFrom<Op['kind']>('store', 'store', 'erase', 'storeErase'),
    lo: fc.integer({ min: 0, max: 400 }),
    len: fc.integer({ min: 1, max: 40 }),
    id: fc.integer({ min: 1, max: 1_000_000 }),
  });
  /** Apply `o` to the index and the model (storeErase keeps the first ceil(len / 2) pages). */
  function apply(mm: MmStruct, model: RangeModel, o: Op): void {
    const lo = o.lo * P;
    const hi = (o.lo + o.len) * P;
    const mid = (o.lo + Math.ceil(o.len / 2)) * P;
    const covered = model.covered(lo, hi);
    if (o.kind === 'store') {
      mm.index.store(lo, hi, o.id);
      model.store(lo, hi, o.id);
    } else if (o.kind === 'erase') {
      mm.index.erase(lo, hi);
      model.erase(lo, hi);
    } else {
      mm.index.storeErase(lo, mid, hi, o.id);
      model.store(lo, mid, o.id);
      model.erase(mid, hi);
    }
    // What total_vm is kept by (index-ops.ts): the bytes the change overwrote or erased.
    assert.equal(mm.index.coveredBytes, covered, `coveredBytes of ${o.kind} [${lo}, ${hi})`);
  }

  it('agrees on entries, findNext, findPrev, lookup and cursor iteration', () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 450 }),
        (ops: Op[], probe) => {
          const mm = newMm(2048);
          const model = new RangeModel();
          for (const o of ops) apply(mm, model, o);
          mm.index.check();
          assert.deepEqual(mm.index.entries(), model.entries);
          assert.equal(mm.index.count, model.entries.length);
          for (const a of [probe * P, probe * P - 1, probe * P + 1]) {
            if (a < 0) continue;
            assert.equal(mm.index.findNext(a), model.findNext(a), `findNext(${a})`);
            assert.equal(mm.index.findPrev(a), model.findPrev(a), `findPrev(${a})`);
            assert.equal(mm.index.lookup(a), model.lookup(a), `lookup(${a})`);
          }
          const it: Entry[] = [];
          mm.index.forEach(probe * P, (s, e, id) => {
            it.push([s, e, id]);
            return true;
          });
          assert.deepEqual(
            it,
            model.entries.filter(([, e]) => e > probe * P),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('agrees with the model on deep trees (many small ranges: leaf splits, merges, height changes)', () => {
    const small = fc.record({
      kind: fc.constantFrom<Op['kind']>('store', 'store', 'store', 'erase', 'storeErase'),
      lo: fc.integer({ min: 0, max: 6000 }),
      len: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 600 })),
      id: fc.integer({ min: 1, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(fc.array(small, { minLength: 500, maxLength: 2500 }), (ops: Op[]) => {
        const mm = newMm(8192);
        const model = new RangeModel();
        let maxCount = 0;
        for (const o of ops) {
          apply(mm, model, o);
          maxCount = Math.max(maxCount, mm.index.count);
        }
        mm.index.check();
        assert.deepEqual(mm.index.entries(), model.entries);
        for (let a = 0; a < 6600 * P; a += 97 * P) {
          assert.equal(mm.index.findNext(a), model.findNext(a));
          assert.equal(mm.index.findPrev(a), model.findPrev(a));
        }
        return maxCount > 0;
      }),
      { numRuns: 25 },
    );
  });

  it('retires replaced nodes and reclaims them only after grace; erasing all returns to baseline', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (ops: Op[]) => {
        // A manual grace source: stamps are the epoch at retire time; grace is over for
        // stamps < `completed`.
        let epoch = 1;
        let completed = 0;
        const grace: GracePeriods = {
          retireStamp: () => epoch,
          isGraceOver: (s) => s < completed,
        };
        const mm = newMm(2048, grace);
        const base = mm.index.nodesInUse;
        const model = new RangeModel();
        let publishedRoots = 0;
        for (const o of ops) {
          const rootBefore = mm.index.root();
          const pendingBefore = mm.deferred.pending;
          apply(mm, model, o);
          if (mm.index.root() !== rootBefore) publishedRoots++;
          // Nothing is reclaimed while grace is not over: pending only grows.
          assert.ok(mm.deferred.pending >= pendingBefore);
          epoch++;
        }
        const reachable = mm.index.check();
        // Every allocated node is reachable or waiting in the retire list.
        assert.equal(mm.index.nodesInUse - base, reachable + mm.deferred.pending);
        if (publishedRoots > 1) assert.ok(mm.deferred.pending > 0);
        // End the grace period: the next write reclaims everything retired so far.
        completed = epoch + 1;
        mm.index.erase(0, 1e6 * P);
        mm.reclaim();
        assert.equal(mm.deferred.pending, 0);
        assert.equal(mm.index.nodesInUse, base);
      }),
      { numRuns: 100 },
    );
  });
});
